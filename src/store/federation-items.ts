/**
 * What federated nodes reconcile (federation/reconcile.ts): per collection, the set of items,
 * every version held and every tombstone kept, ordered by item hash, with count and hash-sum
 * buckets so that summarizing a range does not read its items. Written in the same write
 * transaction as the commit or delete that changes the set. Sole owner of:
 *
 *   fed-items    [collection, item hash hex]           -> [kind 'v' | 't', id, version key]
 *   fed-buckets  [collection, prefix of 0, 2 or 4 hex] -> [count, hash sum mod 2^256 as hex]
 *
 * Buckets are kept at three depths (the whole collection, 256 and 65,536 prefixes): a prefix of
 * up to four hex digits sums at most 16 bucket records, a longer one reads its items (about
 * n/65,536 of them). Empty buckets are removed.
 *
 * A tombstone is an item of its own (`items.ts`): it is looked up by its hash, so "is this
 * version deleted here?" is one read. Stores written before this part existed are indexed once
 * at open (`buildIfAbsent`), in bounded transactions.
 */
import type { Database, RootDatabase } from 'lmdb';
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
import type { ObjectVersions } from './versions.ts';

type ItemKey = [collection: string, hash: string];
type ItemValue = [kind: 'v' | 't', id: string, versionKey: string];
type BucketKey = [collection: string, prefix: string];
type BucketValue = [count: number, sum: string];

/** sorts after every hex string in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';
const DEPTHS = [0, 2, 4] as const;
const HEX = '0123456789abcdef';
/** lists indexed per transaction when building the set of an existing store */
const BUILD_CHUNK = 5_000;

export class FederationItems {
  private readonly items: Database<ItemValue, ItemKey>;
  private readonly buckets: Database<BucketValue, BucketKey>;

  constructor(root: RootDatabase) {
    this.items = root.openDB<ItemValue, ItemKey>('fed-items', {});
    this.buckets = root.openDB<BucketValue, BucketKey>('fed-buckets', {});
  }

  /** Adds a version or tombstone (inside the caller's transaction); false when it was there. */
  add(collection: string, item: ReconItem): boolean {
    const { hash } = hashed(item);
    const key: ItemKey = [collection, hash.toString('hex')];
    if (this.items.doesExist(key)) return false;
    this.items.putSync(key, [item.kind === 'version' ? 'v' : 't', item.id, item.version]);
    this.adjust(collection, key[1], 1, hashValue(hash));
    return true;
  }

  /** Removes one (inside the caller's transaction); false when it was not there. */
  remove(collection: string, item: ReconItem): boolean {
    const { hash } = hashed(item);
    const key: ItemKey = [collection, hash.toString('hex')];
    if (!this.items.doesExist(key)) return false;
    this.items.removeSync(key);
    this.adjust(collection, key[1], -1, hashValue(hash));
    return true;
  }

  has(collection: string, kind: ItemKind, id: string, versionKey: string): boolean {
    return this.items.doesExist([collection, hashed({ kind, id, version: versionKey }).hash.toString('hex')]);
  }

  /** Whether this version was deleted here (or by a peer): then it is never stored again. */
  isTombstoned(collection: string, id: string, versionKey: string): boolean {
    return this.has(collection, 'tombstone', id, versionKey);
  }

  /** The reconciliation set of one collection. */
  source(collection: string): ItemSource {
    return { summarize: (prefix) => this.summarize(collection, prefix), entries: (prefix) => this.entries(collection, prefix) };
  }

  /** Items and tombstones of a collection: counts (for checks and reports). */
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

  /**
   * Indexes every version already held, once (a store written before this part existed), a
   * chunk of objects per transaction. An interrupted build starts over at the next open.
   */
  buildIfAbsent(versions: ObjectVersions, transaction: <T>(fn: () => T) => T, built: () => boolean, markBuilt: () => void): number {
    if (built()) return 0;
    transaction(() => {
      for (const key of [...this.items.getKeys({})]) this.items.removeSync(key);
      for (const key of [...this.buckets.getKeys({})]) this.buckets.removeSync(key);
    });
    let added = 0;
    let chunk: Array<{ collection: string; id: string; keys: string[] }> = [];
    const flush = () => {
      const taken = chunk;
      chunk = [];
      transaction(() => {
        for (const { collection, id, keys } of taken)
          for (const version of keys) if (this.add(collection, { kind: 'version', id, version })) added++;
      });
    };
    for (const { collection, id, list } of versions.allHeld()) {
      chunk.push({ collection, id, keys: list.map(([k]) => k) });
      if (chunk.length >= BUILD_CHUNK) flush();
    }
    flush();
    transaction(markBuilt);
    return added;
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
