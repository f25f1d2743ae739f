/**
 * What federated nodes reconcile (federation/reconcile.ts): per reconciled collection, the set of
 * items this node may send to its peers, ordered by item hash, with count and hash-sum buckets so
 * that summarizing a range does not read its items; and, apart from it, every tombstone kept (a
 * deleted version is never stored again, federated or not). Written in the same write transaction
 * as the commit, delete or change of facts that changes them. Sole owner of:
 *
 *   fed-items       [collection, item hash hex]           -> [kind 'v' | 't', id, version key]
 *   fed-buckets     [collection, prefix of 0, 2 or 4 hex] -> [count, hash sum mod 2^256 as hex]
 *   fed-tombstones  [collection, id, version key]         -> { tlp?: the deleted version's TLP, when it was held here }
 *
 * Which items the set holds is the store's `ReconRule` (built by federation/egress.ts from the
 * egress settings and the mirror collections): versions the rule sends by their TLP, tombstones it
 * sends by the TLP of the version they delete, in the rule's collections only; no rule (a node
 * without federation), no set. The rule's fingerprint is kept in the `recon-rule` setting: a
 * store opened with another rule rebuilds the set in bounded transactions (`settle`), and a
 * writer whose rule is not the one recorded (another process opened the store with other
 * settings) leaves the set alone and marks it `stale`, so it is never a mix of two rules: it is
 * rebuilt at the next open.
 *
 * Buckets are kept at three depths (the whole collection, 256 and 65,536 prefixes): a prefix of
 * up to four hex digits sums at most 16 bucket records, a longer one reads its items (about
 * n/65,536 of them). Empty buckets are removed.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { ObjectTlp } from '../stix/markings.ts';
import type { CollectionIndex } from './collection-index.ts';
import {
  addHashes,
  hashed,
  hashValue,
  rangeBounds,
  subtractHashes,
  type HashedItem,
  type ItemKind,
  type ItemSource,
  type RangeSummary,
  type ReconItem,
} from './recon-items.ts';
import type { NodeResources } from './resources.ts';
import type { ObjectVersions } from './versions.ts';

/**
 * Which items the reconciliation set holds: what this node may send to its peers. The layers
 * above decide (federation/egress.ts `egressRule`); the store applies the rule to what it keeps.
 */
export interface ReconRule {
  /** names everything the rule decides by: a set kept under another fingerprint is rebuilt */
  readonly fingerprint: string;
  /** the collections reconciled (mirrors): no other collection has items in the set */
  readonly collections: ReadonlySet<string>;
  /** whether a version with this TLP (its facts', as the store keeps them) may be sent */
  sendsVersion(tlp: ObjectTlp): boolean;
  /** whether a tombstone may be sent; `deletedTlp`: the deleted version's TLP, undefined when it was never held here */
  sendsTombstone(deletedTlp: ObjectTlp | undefined): boolean;
}

type ItemKey = [collection: string, hash: string];
type ItemValue = [kind: 'v' | 't', id: string, versionKey: string];
type BucketKey = [collection: string, prefix: string];
type BucketValue = [count: number, sum: string];
type TombstoneKey = [collection: string, id: string, versionKey: string];
interface TombstoneRecord {
  /** the deleted version's TLP, when it was held here (absent: a peer's delete of a version never here) */
  readonly tlp?: ObjectTlp;
}

/** sorts after every hex string (and every STIX id) in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';
const DEPTHS = [0, 2, 4] as const;
const HEX = '0123456789abcdef';
/** objects (or tombstones) indexed per transaction when the set is rebuilt */
const BUILD_CHUNK = 5_000;
/** the `recon-rule` setting: the rule's fingerprint, or one of these */
const NO_RULE = 'none';
const BUILDING = 'building';
const STALE = 'stale';

type Transaction = <T>(fn: () => T) => T;

export class FederationItems {
  private rebuild: { readonly added: number; readonly ms: number } | undefined;
  private readonly items: Database<ItemValue, ItemKey>;
  private readonly buckets: Database<BucketValue, BucketKey>;
  private readonly tombstones: Database<TombstoneRecord, TombstoneKey>;

  constructor(
    root: RootDatabase,
    private readonly resources: NodeResources,
    /** what the set holds; undefined: nothing (a node without federation) */
    readonly rule: ReconRule | undefined,
  ) {
    this.items = root.openDB<ItemValue, ItemKey>('fed-items', {});
    this.buckets = root.openDB<BucketValue, BucketKey>('fed-buckets', {});
    this.tombstones = root.openDB<TombstoneRecord, TombstoneKey>('fed-tombstones', {});
  }

  private get fingerprint(): string {
    return this.rule?.fingerprint ?? NO_RULE;
  }

  /**
   * Whether the set holds what this store's rule sends: false while it is being rebuilt, or after
   * a process with other settings wrote to the store (the set is then rebuilt at the next open).
   */
  inForce(): boolean {
    return this.resources.setting('recon-rule') === this.fingerprint;
  }

  /**
   * The rule, when it keeps this collection's items and the set is the rule's. A writer whose
   * rule is not the one recorded cannot keep the set right: it marks it stale instead.
   */
  private keeper(collection: string): ReconRule | undefined {
    const recorded = this.resources.setting('recon-rule');
    if (recorded !== this.fingerprint) {
      if (recorded !== STALE) this.resources.putSetting('recon-rule', STALE);
      return undefined;
    }
    return this.rule?.collections.has(collection) ? this.rule : undefined;
  }

  // ---- changes, inside the caller's transaction ----------------------------------------------

  /** A version stored: in the set when the rule sends it. `tlp`: its facts' (none in a store without policy attributes). */
  versionStored(collection: string, id: string, versionKey: string, tlp: ObjectTlp | undefined): void {
    const rule = this.keeper(collection);
    if (rule && tlp && rule.sendsVersion(tlp)) this.add(collection, { kind: 'version', id, version: versionKey });
  }

  /** A version removed: out of the set, whatever rule put it there. */
  versionRemoved(collection: string, id: string, versionKey: string): void {
    this.remove(collection, { kind: 'version', id, version: versionKey });
  }

  /** A version's facts derived again: in or out of the set as the rule says of its TLP now. */
  factsChanged(collection: string, id: string, versionKey: string, before: ObjectTlp | undefined, after: ObjectTlp | undefined): void {
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    const rule = this.keeper(collection);
    if (!rule) return;
    const item: ReconItem = { kind: 'version', id, version: versionKey };
    if (after && rule.sendsVersion(after)) this.add(collection, item);
    else this.remove(collection, item);
  }

  /**
   * Keeps a tombstone (an operator's delete, or a peer's), on every node: the version is never
   * stored here again. In the set when the rule sends it. True when it is new here.
   */
  keepTombstone(collection: string, id: string, versionKey: string, deletedTlp: ObjectTlp | undefined): boolean {
    const key: TombstoneKey = [collection, id, versionKey];
    if (this.tombstones.doesExist(key)) return false;
    this.tombstones.putSync(key, deletedTlp ? { tlp: deletedTlp } : {});
    const rule = this.keeper(collection);
    if (rule?.sendsTombstone(deletedTlp)) this.add(collection, { kind: 'tombstone', id, version: versionKey });
    return true;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** Whether the set holds this item. */
  has(collection: string, kind: ItemKind, id: string, versionKey: string): boolean {
    return this.items.doesExist([collection, hashed({ kind, id, version: versionKey }).hash.toString('hex')]);
  }

  /** Whether this version was deleted here (or by a peer): then it is never stored again. */
  isTombstoned(collection: string, id: string, versionKey: string): boolean {
    return this.tombstones.doesExist([collection, id, versionKey]);
  }

  /** Every tombstone kept in a collection, with the deleted version's TLP when it was held here. */
  *tombstonesIn(collection: string): Generator<{ id: string; versionKey: string; tlp: ObjectTlp | undefined }> {
    for (const { key, value } of this.tombstones.getRange({ start: [collection], end: [collection, HIGH] })) {
      yield { id: key[1], versionKey: key[2], tlp: value.tlp };
    }
  }

  /** The reconciliation set of one collection. */
  source(collection: string): ItemSource {
    return { summarize: (prefix) => this.summarize(collection, prefix), entries: (prefix) => this.entries(collection, prefix) };
  }

  /** Items (versions and tombstones) of a collection in the set: counts (for checks and reports). */
  count(collection: string): number {
    return this.summarize(collection, '').count;
  }

  summarize(collection: string, prefix: string): RangeSummary {
    const depth = DEPTHS.find((d) => d >= prefix.length);
    if (depth === undefined) {
      let count = 0;
      let sum = 0n;
      for (const e of this.entries(collection, prefix)) {
        count++;
        sum = addHashes(sum, hashValue(e.hash));
      }
      return { count, sum };
    }
    const read = (p: string) => this.buckets.get([collection, p]);
    const parts = depth === prefix.length ? [read(prefix)] : Array.from(HEX, (h) => read(prefix + h));
    let count = 0;
    let sum = 0n;
    for (const part of parts) {
      if (!part) continue;
      count += part[0];
      sum = addHashes(sum, BigInt(`0x${part[1]}`));
    }
    return { count, sum };
  }

  *entries(collection: string, prefix: string): Generator<HashedItem> {
    const { start, end } = rangeBounds(prefix);
    const range = this.items.getRange({ start: [collection, start.toString('hex')], end: [collection, end ? end.toString('hex') : HIGH] });
    for (const { key, value } of range) {
      yield {
        hash: Buffer.from(key[1], 'hex'),
        item: { kind: value[0] === 'v' ? 'version' : 'tombstone', id: value[1], version: value[2] },
      };
    }
  }

  // ---- check ---------------------------------------------------------------------------------

  /**
   * For `relay check`: the set holds exactly what the rule sends of the versions and tombstones
   * held, and every bucket sums its items. Read-only.
   */
  *problems(versions: ObjectVersions, index: CollectionIndex): Generator<string> {
    const recorded = this.resources.setting('recon-rule');
    if (!this.inForce()) {
      yield `the reconciliation set is "${String(recorded)}", not this configuration's: it is rebuilt when the store is opened next`;
      return;
    }
    const expected = new Map<string, ReconItem>();
    const rule = this.rule;
    for (const collection of rule ? rule.collections : []) {
      for (const id of versions.idsIn(collection)) {
        for (const [versionKey, dateAdded] of versions.held(collection, id)) {
          const tlp = index.get(collection, dateAdded)?.facts?.tlp;
          const item: ReconItem = { kind: 'version', id, version: versionKey };
          if (tlp && rule?.sendsVersion(tlp)) expected.set(JSON.stringify([collection, hashed(item).hash.toString('hex')]), item);
        }
      }
      for (const t of this.tombstonesIn(collection)) {
        const item: ReconItem = { kind: 'tombstone', id: t.id, version: t.versionKey };
        if (rule?.sendsTombstone(t.tlp)) expected.set(JSON.stringify([collection, hashed(item).hash.toString('hex')]), item);
      }
    }
    const sums = new Map<string, [number, bigint]>();
    for (const { key, value } of this.items.getRange({})) {
      const [collection, hex] = key;
      const name = `${collection} ${value[0] === 'v' ? 'version' : 'tombstone'} ${value[1]} ${value[2]}`;
      if (!expected.delete(JSON.stringify(key))) yield `reconciliation set: ${name} is in the set but not sent by the rule`;
      for (const depth of DEPTHS) {
        const bucket = JSON.stringify([collection, hex.slice(0, depth)]);
        const [count, sum] = sums.get(bucket) ?? [0, 0n];
        sums.set(bucket, [count + 1, addHashes(sum, hashValue(Buffer.from(hex, 'hex')))]);
      }
    }
    for (const [key, item] of expected) {
      yield `reconciliation set: ${(JSON.parse(key) as ItemKey)[0]} ${item.kind} ${item.id} ${item.version} is sent by the rule but not in the set`;
    }
    for (const { key, value } of this.buckets.getRange({})) {
      const bucket = JSON.stringify(key);
      const want = sums.get(bucket);
      sums.delete(bucket);
      if (!want || want[0] !== value[0] || want[1] !== BigInt(`0x${value[1]}`))
        yield `reconciliation set: bucket ${key[0]} "${key[1]}" says ${value[0]} items, its items ${want?.[0] ?? 0}`;
    }
    for (const bucket of sums.keys()) yield `reconciliation set: bucket ${bucket} is missing`;
  }

  // ---- at open -------------------------------------------------------------------------------

  /**
   * At open: the set as this store's rule keeps it. A set recorded under another rule (or no
   * rule, a stale one, an interrupted rebuild, or none at all) is rebuilt from the versions and
   * tombstones held, a chunk at a time, one transaction each. Returns the items added (0: the
   * set was already the rule's).
   */
  settle(versions: ObjectVersions, index: CollectionIndex, transaction: Transaction): number {
    this.keepTombstonesApart(transaction);
    if (this.inForce()) return 0;
    const started = performance.now();
    transaction(() => {
      this.resources.putSetting('recon-rule', BUILDING);
      this.items.clearSync();
      this.buckets.clearSync();
    });
    let added = 0;
    const rule = this.rule;
    for (const collection of rule ? [...rule.collections].sort() : []) {
      const rebuilt = { added: 0 };
      inChunks(versions.idsIn(collection), transaction, (id) => {
        for (const [versionKey, dateAdded] of versions.held(collection, id)) {
          const tlp = index.get(collection, dateAdded)?.facts?.tlp;
          if (tlp && rule?.sendsVersion(tlp) && this.add(collection, { kind: 'version', id, version: versionKey })) rebuilt.added++;
        }
      });
      inChunks(this.tombstonesIn(collection), transaction, (t) => {
        if (rule?.sendsTombstone(t.tlp) && this.add(collection, { kind: 'tombstone', id: t.id, version: t.versionKey })) rebuilt.added++;
      });
      added += rebuilt.added;
    }
    // a writer under another rule that came in between marked the set stale: it stays so
    transaction(() => {
      if (this.resources.setting('recon-rule') === BUILDING) this.resources.putSetting('recon-rule', this.fingerprint);
    });
    this.rebuild = { added, ms: Math.round(performance.now() - started) };
    return added;
  }

  /** The rebuild this open did (the rule differed from the recorded one), for the node to log; undefined when none. */
  rebuiltAtOpen(): { readonly added: number; readonly ms: number } | undefined {
    return this.rebuild;
  }

  /**
   * Stores of the previous layout kept tombstones only as set items (`recon-items` setting): they
   * are copied to `fed-tombstones` before the set is rebuilt. The deleted versions are gone, so
   * their TLP is not known: they count as deletes of versions never held here (sent, as then).
   */
  private keepTombstonesApart(transaction: Transaction): void {
    if (this.resources.setting('recon-items') === undefined) return;
    const found: TombstoneKey[] = [];
    for (const { key, value } of this.items.getRange({})) if (value[0] === 't') found.push([key[0], value[1], value[2]]);
    inChunks(found, transaction, (key) => {
      if (!this.tombstones.doesExist(key)) this.tombstones.putSync(key, {});
    });
    transaction(() => this.resources.removeSetting('recon-items'));
  }

  private add(collection: string, item: ReconItem): boolean {
    const { hash } = hashed(item);
    const key: ItemKey = [collection, hash.toString('hex')];
    if (this.items.doesExist(key)) return false;
    this.items.putSync(key, [item.kind === 'version' ? 'v' : 't', item.id, item.version]);
    this.adjust(collection, key[1], 1, hashValue(hash));
    return true;
  }

  private remove(collection: string, item: ReconItem): boolean {
    const { hash } = hashed(item);
    const key: ItemKey = [collection, hash.toString('hex')];
    if (!this.items.doesExist(key)) return false;
    this.items.removeSync(key);
    this.adjust(collection, key[1], -1, hashValue(hash));
    return true;
  }

  private adjust(collection: string, hashHex: string, delta: 1 | -1, value: bigint): void {
    for (const depth of DEPTHS) {
      const key: BucketKey = [collection, hashHex.slice(0, depth)];
      const [count, sum] = this.buckets.get(key) ?? [0, '0'];
      const next = count + delta;
      if (next <= 0) this.buckets.removeSync(key);
      else {
        const s = delta > 0 ? addHashes(BigInt(`0x${sum}`), value) : subtractHashes(BigInt(`0x${sum}`), value);
        this.buckets.putSync(key, [next, s.toString(16)]);
      }
    }
  }
}

/** Runs `each` over what `source` yields, BUILD_CHUNK at a time, each chunk in one transaction. */
function inChunks<T>(source: Iterable<T>, transaction: Transaction, each: (value: T) => void): void {
  let chunk: T[] = [];
  const flush = () => {
    const taken = chunk;
    chunk = [];
    if (taken.length > 0) transaction(() => taken.forEach(each));
  };
  for (const value of source) {
    chunk.push(value);
    if (chunk.length >= BUILD_CHUNK) flush();
  }
  flush();
}
