/**
 * The node's LMDB store. Nothing outside this module opens LMDB.
 *
 * Databases (all in one environment, so one transaction spans them):
 *   objects      [id, versionKey]                  -> object JSON text (stored once per version)
 *   entries      [collection, dateAdded]           -> EntryValue   (the per-collection index;
 *                                                     `edge` flags the object's oldest/newest
 *                                                     version, kept exact at commit and delete)
 *   version-lists [collection, id]                 -> [[versionKey, dateAdded], …] oldest first
 *                                                     (an object's versions in a collection: one
 *                                                     read gives them all, and its latest)
 *   links        [collection, referencedId, role, referrerId] -> 1 (what the latest version of
 *                                                     each targets / indicates relationship and
 *                                                     opinion refers to, and the ends of every
 *                                                     version of each relationship and sighting:
 *                                                     policy/derive.ts LinkRole)
 *   sectors      [collection, sector, dateAdded]   -> 1 (secondary index of `entries` by derived
 *                                                     sector; sector "" holds unscoped entries;
 *                                                     relationships only under the narrowest set
 *                                                     a member must meet, nothing no member may
 *                                                     receive: see sectorKeys)
 *   summaries    [collection, id]                  -> LinkSummary (what an object's links give it:
 *                                                     policy/linked.ts; present exactly while
 *                                                     something links to the object)
 *   provenance   [id, versionKey, source, detail]  -> first seen (micros)
 *   meta         string key                        -> clock, counters, node secret
 *   status       status id                         -> TAXII status resource
 *   statement-markings, unresolved-markings          -> see markings.ts (MarkingRegistry)
 *
 * `dateAdded` is unique across the node and strictly increasing in commit order, so it is both
 * the `date_added` TAXII reports and the exact position a `next` token resumes from.
 *
 * Policy attributes live in the index entry (`f`: what the version says about itself; `s`, `o`:
 * sectors and opinion score derived from links), so a page's policy check never loads bodies.
 * When a later object changes the linked attributes of an object's latest version (a targets
 * relationship or an opinion arriving after the indicator), that entry is re-indexed under a
 * new date_added in the same transaction, so pollers using added_after receive it again; so are
 * the relationships and sightings on an object that may now reach more members (they are served
 * only while all their ends are). Link summaries are kept with the links, so a transaction
 * re-derives only the objects whose summaries (or linked ends) changed; `check()` compares every
 * entry with a from-scratch walk of its links (`deriveLinked`).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { mayReachMore, neverRedistributed, reachesEveryReader } from '../policy/decide.ts';
import {
  deriveLinked,
  endRefs,
  linkKeys,
  versionFacts,
  type LinkedAttributes,
  type LinkReader,
  type LinkRole,
  type VersionFacts,
} from '../policy/derive.ts';
import {
  linkedOfVersion,
  propagate,
  sameSummary,
  summaryOf,
  type IndexedAttributes,
  type LatestChange,
  type LinkSummary,
  type SummaryReader,
} from '../policy/linked.ts';
import { DEFAULT_NODE_POLICY } from '../policy/types.ts';
import { nowMicros, type Micros } from '../stix/time.ts';
import type { StixObject } from '../stix/types.ts';
import { StoreError } from './errors.ts';
import { MarkingRegistry } from './markings.ts';
import type {
  CheckReport,
  EntryAttributes,
  CollectionStats,
  IndexEntry,
  PreparedVersion,
  Provenance,
  QuarantineRecord,
  ScanRequest,
  ScanResult,
  VersionOutcome,
} from './types.ts';

type Key = (string | number)[];

/** An object's versions in one collection, oldest first: [versionKey, dateAdded]. */
type VersionList = ReadonlyArray<readonly [versionKey: string, dateAdded: Micros]>;

const byVersionKey = (a: readonly [string, Micros], b: readonly [string, Micros]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export interface StoreOptions {
  /**
   * Whether index entries carry member-policy attributes: each version's TLP and other facts,
   * the links index, link summaries and the sector index, kept at every commit (default true).
   * `false` exists as the benchmark's baseline (what storing costs without them, `npm run
   * bench`); such a store cannot serve member policy and is never what a node opens. The mode is
   * fixed when a store is created.
   */
  readonly policyAttributes?: boolean;
}

interface EntryValue {
  id: string;
  type: string;
  version: string;
  versionKey: string;
  specVersion: string;
  /** FIRST | LAST bits: whether this version is the object's oldest / newest in the collection */
  edge: number;
  /** what this version says about itself (absent in entries written before policy existed) */
  f?: VersionFacts;
  /** sectors derived from links (sorted) */
  s?: string[];
  /** opinion score derived from opinions about the object */
  o?: number;
  /**
   * relationships and sightings: where the sector index files them, the smallest sector set a
   * member must meet ([]: the unscoped bucket; null: an end is absent or never redistributed, so
   * no keys); see policy/linked.ts IndexedAttributes.narrowest
   */
  n?: string[] | null;
}

/** What one write transaction did, for the derivation pass at its end (`deriveAfter`). */
interface Pass {
  /** objects whose latest version changed: their facts before and after */
  readonly changes: LatestChange[];
  /** objects some link to which was removed (their summary record goes if none is left) */
  readonly unlinked: Set<string>;
  /** the versions it stored, as placed */
  readonly fresh: FreshVersion[];
  /** objects whose every version is in `fresh` (derived with it) */
  readonly newIds: Set<string>;
  /** objects whose latest version is new, with their latest entry before it */
  readonly announced: Map<string, EntryValue | undefined>;
  /** objects whose own facts were derived again (a marking definition they waited for arrived) */
  readonly refreshed: Set<string>;
  /** latest entries already moved to a new date_added by this pass: updated in place from then on */
  readonly placed: Set<Micros>;
}

const newPass = (): Pass => ({
  changes: [],
  unlinked: new Set(),
  fresh: [],
  newIds: new Set(),
  announced: new Map(),
  refreshed: new Set(),
  placed: new Set(),
});

/** Statement marking definitions an ingest call makes known, and how to derive a stored version's facts again with them. */
export interface StatementsInBatch {
  /** ids of the statement marking definitions (the batch's own, or others' of the same ingest call) */
  readonly ids: readonly string[];
  /** own facts of a stored version (its JSON text) with every known statement resolved */
  readonly refacts: (json: string) => VersionFacts;
}

/** A version stored by the current transaction, as placed (before linked attributes). */
interface FreshVersion {
  readonly dateAdded: Micros;
  readonly id: string;
  readonly type: string;
  readonly facts: VersionFacts;
  readonly value: EntryValue;
}

const FIRST = 1;
const LAST = 2;

const CLOCK_KEY = 'clock';
const SECRET_KEY = 'node-secret';
const countKey = (collection: string) => `count:${collection}`;
/** sorts after every string in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';

export class Store {
  private readonly root: RootDatabase;
  private readonly objects: Database<string, Key>;
  private readonly entries: Database<EntryValue, Key>;
  private readonly versionLists: Database<VersionList, Key>;
  /** the per-version records of stores written before version lists (migrated, then emptied) */
  private readonly legacyVersions: Database<Micros, Key>;
  private readonly provenance: Database<Micros, Key>;
  private readonly links: Database<number, Key>;
  private readonly sectorIndex: Database<number, Key>;
  private readonly summaries: Database<LinkSummary, Key>;
  private readonly meta: Database<unknown, string>;
  private readonly statuses: Database<unknown, string>;
  /** upstream subscription cursors and status records, by key (see src/upstream/) */
  private readonly upstream: Database<unknown, string>;
  /** quarantined input (invalid objects, malformed envelopes), by id (micros, unique) */
  private readonly quarantine: Database<Omit<QuarantineRecord, 'id'>, number>;
  private lastQuarantined: Micros | undefined;
  private lastAssigned: Micros;
  private reindexedCount = 0;
  /** statement marking definitions, and objects that wait for a marking definition */
  readonly markings: MarkingRegistry;
  /** whether entries carry policy attributes (facts, links, summaries, sector index): see StoreOptions */
  readonly keepsPolicyAttributes: boolean;

  private constructor(
    readonly path: string,
    options: StoreOptions = {},
  ) {
    try {
      this.root = open({ path, maxDbs: 32, compression: false });
    } catch (cause) {
      throw new StoreError(`cannot open the LMDB store at ${path}`, { cause });
    }
    this.objects = this.root.openDB<string, Key>('objects', { encoding: 'string' });
    // Shared msgpack structures: without them every entry value carries its own record definitions,
    // and decoding those dominated both ingest and paging.
    this.entries = this.root.openDB<EntryValue, Key>('entries', { sharedStructuresKey: Symbol.for('structures') });
    this.versionLists = this.root.openDB<VersionList, Key>('version-lists', {});
    this.legacyVersions = this.root.openDB<Micros, Key>('versions', {});
    this.provenance = this.root.openDB<Micros, Key>('provenance', {});
    this.links = this.root.openDB<number, Key>('links', {});
    this.sectorIndex = this.root.openDB<number, Key>('sectors', {});
    this.summaries = this.root.openDB<LinkSummary, Key>('summaries', {});
    this.meta = this.root.openDB<unknown, string>('meta', {});
    this.statuses = this.root.openDB<unknown, string>('status', {});
    this.upstream = this.root.openDB<unknown, string>('upstream', {});
    this.quarantine = this.root.openDB<Omit<QuarantineRecord, 'id'>, number>('quarantine', {});
    this.markings = new MarkingRegistry(this.root);
    this.lastAssigned = this.readClock();
    this.keepsPolicyAttributes = this.settleAttributeMode(options.policyAttributes ?? true);
    this.ensureVersionLists();
    if (this.keepsPolicyAttributes) {
      this.ensureSectorIndex();
      this.ensureSummaries();
      this.ensureUnresolvedMarkings();
    }
  }

  /** Notes, once, the objects of a store written before markings were tracked that carry markings unknown to it. */
  private ensureUnresolvedMarkings(): void {
    if (this.meta.get(UNRESOLVED_MARKINGS_KEY) !== undefined) return;
    this.root.transactionSync(() => {
      if (this.meta.get(UNRESOLVED_MARKINGS_KEY) !== undefined) return;
      for (const { key, value } of this.entries.getRange({})) {
        if (value.f?.tlp.kind === 'unknown') this.markings.noteUnresolved(value.f.tlp.markings, key[0] as string, value.id);
      }
      this.meta.putSync(UNRESOLVED_MARKINGS_KEY, 1);
    });
  }

  /**
   * A store keeps policy attributes or not for its whole life: the mode is recorded when it is
   * created, and opening it in the other mode fails (its indexes would be incomplete).
   */
  private settleAttributeMode(wanted: boolean): boolean {
    const recorded = this.meta.get(ATTRIBUTES_KEY) as 'none' | undefined;
    const isNew = this.collectionIds().length === 0 && this.meta.get(CLOCK_KEY) === undefined;
    if (isNew && !wanted && recorded === undefined) this.meta.putSync(ATTRIBUTES_KEY, 'none');
    const keeps = isNew && recorded === undefined ? wanted : recorded !== 'none';
    if (keeps !== wanted) {
      void this.root.close();
      throw new StoreError(
        `the store at ${this.path} was created ${keeps ? 'with' : 'without'} policy attributes and cannot be opened ${wanted ? 'with' : 'without'} them`,
      );
    }
    return keeps;
  }

  /**
   * Brings the links of a store written before link summaries existed up to date once: the
   * ends of every relationship and sighting version (role v, replacing the latest-only role e),
   * then a summary for every object something links to.
   */
  private ensureSummaries(): void {
    if (this.meta.get(SUMMARIES_KEY) !== undefined) return;
    this.root.transactionSync(() => {
      if (this.meta.get(SUMMARIES_KEY) !== undefined) return;
      for (const key of this.links.getKeys({})) if (key[2] === 'e') this.links.removeSync(key);
      for (const { collection, id, list } of this.allVersionLists()) {
        for (const [, dateAdded] of list) {
          const entry = this.entries.get([collection, dateAdded]);
          if (entry) this.linkEnds(collection, id, entry.type, entry.f);
        }
      }
      this.summaries.clearSync();
      for (const [collection, ids] of this.referencedIds()) {
        const reader = this.linkReader(collection);
        for (const id of ids) this.summaries.putSync([collection, id], summaryOf(id, reader) ?? {});
      }
      this.meta.putSync(SUMMARIES_KEY, 1);
    });
  }

  /** Every id some link refers to, per collection. */
  private referencedIds(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const key of this.links.getKeys({})) {
      const [collection, ref] = key as [string, string];
      let ids = out.get(collection);
      if (!ids) out.set(collection, (ids = new Set()));
      ids.add(ref);
    }
    return out;
  }

  /** Turns the per-version records of a store written before version lists into lists, once. */
  private ensureVersionLists(): void {
    if (this.meta.get(VERSION_LISTS_KEY) !== undefined) return;
    this.root.transactionSync(() => {
      if (this.meta.get(VERSION_LISTS_KEY) !== undefined) return;
      let current: { collection: string; id: string; list: Array<[string, Micros]> } | undefined;
      const flush = () => current && this.versionLists.putSync([current.collection, current.id], current.list);
      // keys come sorted by (collection, id, versionKey): each object's run is its list, oldest first
      for (const { key, value: dateAdded } of this.legacyVersions.getRange({})) {
        const [collection, id, versionKey] = key as [string, string, string];
        if (current?.collection !== collection || current.id !== id) {
          flush();
          current = { collection, id, list: [] };
        }
        current.list.push([versionKey, dateAdded]);
      }
      flush();
      this.legacyVersions.clearSync();
      this.meta.putSync(VERSION_LISTS_KEY, 1);
    });
  }

  /** An object's versions in a collection, oldest first (empty when it has none). */
  private versionsHeld(collection: string, id: string): VersionList {
    return this.versionLists.get([collection, id]) ?? [];
  }

  private setVersionsHeld(collection: string, id: string, list: VersionList): void {
    if (list.length === 0) this.versionLists.removeSync([collection, id]);
    else this.versionLists.putSync([collection, id], list);
  }

  /** Every object's version list, collection by collection. */
  private *allVersionLists(): Generator<{ collection: string; id: string; list: VersionList }> {
    for (const { key, value } of this.versionLists.getRange({})) {
      const [collection, id] = key as [string, string];
      yield { collection, id, list: value };
    }
  }

  /**
   * (Re)builds the sector index once for a store written before it (or its current rule)
   * existed, after filing relationships and sightings by their stored sectors and ends.
   */
  private ensureSectorIndex(): void {
    if (this.meta.get(SECTOR_INDEX_KEY) !== undefined) return;
    this.root.transactionSync(() => {
      if (this.meta.get(SECTOR_INDEX_KEY) !== undefined) return;
      for (const { key, value } of this.entries.getRange({})) {
        if (!isSro(value.type) || !value.f) continue;
        const n = this.narrowestStored(key[0] as string, value);
        this.entries.putSync(key, { ...value, n: n === null ? null : [...n] });
      }
      this.sectorIndex.clearSync();
      for (const { key, value } of this.entries.getRange({})) {
        const [collection, dateAdded] = key as [string, number];
        for (const sector of sectorKeys(value)) this.sectorIndex.putSync([collection, sector, dateAdded], 1);
      }
      this.meta.putSync(SECTOR_INDEX_KEY, 1);
    });
  }

  /** Writes an index entry and keeps the sector index in step (`before`: the value it replaces at this position). */
  private putEntry(collection: string, dateAdded: Micros, value: EntryValue, before?: EntryValue): void {
    this.entries.putSync([collection, dateAdded], value);
    if (!this.keepsPolicyAttributes) return;
    const old = before ? sectorKeys(before) : [];
    const now = sectorKeys(value);
    for (const s of old) if (!now.includes(s)) this.sectorIndex.removeSync([collection, s, dateAdded]);
    for (const s of now) if (!old.includes(s)) this.sectorIndex.putSync([collection, s, dateAdded], 1);
  }

  private removeEntry(collection: string, dateAdded: Micros, value: EntryValue | undefined): void {
    this.entries.removeSync([collection, dateAdded]);
    if (value && this.keepsPolicyAttributes) for (const s of sectorKeys(value)) this.sectorIndex.removeSync([collection, s, dateAdded]);
  }

  static open(path: string, options?: StoreOptions): Store {
    return new Store(path, options);
  }

  /** Opens (creating it) the store of a node's data directory: `<dataDir>/store`. */
  static openInDataDir(dataDir: string): Store {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return new Store(join(dataDir, 'store'));
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  /** The last date_added assigned, from the clock record and, defensively, the index itself. */
  private readClock(): Micros {
    let last = (this.meta.get(CLOCK_KEY) as Micros | undefined) ?? 0;
    for (const collection of this.collectionIds()) {
      const tail = this.lastAdded(collection);
      if (tail !== null && tail > last) last = tail;
    }
    return last;
  }

  private syncClock(): void {
    const persisted = (this.meta.get(CLOCK_KEY) as Micros | undefined) ?? 0;
    if (persisted > this.lastAssigned) this.lastAssigned = persisted;
  }

  /** Next date_added: never backwards, even if the wall clock stepped back. */
  private nextDateAdded(): Micros {
    const now = nowMicros();
    this.lastAssigned = now > this.lastAssigned ? now : this.lastAssigned + 1;
    return this.lastAssigned;
  }

  /** A random per-node secret (for HMAC-bound paging tokens), created on first use. */
  nodeSecret(): Buffer {
    const existing = this.meta.get(SECRET_KEY) as Uint8Array | undefined;
    if (existing) return Buffer.from(existing);
    const secret = randomBytes(32);
    this.meta.putSync(SECRET_KEY, secret);
    return secret;
  }

  /**
   * Stores a batch of versions into one collection in a single transaction. Versions already
   * in the collection are duplicates (no new date_added). `alsoInTransaction` lets a caller
   * write its own records (a cursor, a status) atomically with the batch.
   */
  commitBatch(
    collection: string,
    batch: readonly PreparedVersion[],
    provenance: Provenance,
    alsoInTransaction?: (outcomes: readonly VersionOutcome[]) => void,
    statements?: StatementsInBatch,
  ): VersionOutcome[] {
    let reindexed = 0;
    try {
      const outcomes = this.root.transactionSync(() => {
        // Another process (`relay import` next to `relay start`) may have assigned dates since
        // this store was opened; the write transaction sees its committed clock.
        this.syncClock();
        const outcomes: VersionOutcome[] = [];
        let added = 0;
        const pass = newPass();
        for (const v of batch) {
          // The object's versions already in the collection (usually none or a few), oldest first.
          const held = this.versionsHeld(collection, v.id);
          const existing = held.find(([key]) => key === v.versionKey)?.[1];
          if (existing !== undefined) {
            // stored once, but every source that delivered it is recorded
            const seenKey = [v.id, v.versionKey, provenance.source, provenance.detail];
            if (!this.provenance.doesExist(seenKey)) this.provenance.putSync(seenKey, existing);
            outcomes.push({ kind: 'duplicate', dateAdded: existing });
            continue;
          }
          if (held.length === 0) pass.newIds.add(v.id);
          const dateAdded = this.nextDateAdded();
          const bodyIsNew = !this.objects.doesExist([v.id, v.versionKey]);
          if (bodyIsNew) this.objects.putSync([v.id, v.versionKey], v.json);
          const oldest = held[0];
          const newest = held[held.length - 1];
          const isFirst = !oldest || v.versionKey < oldest[0];
          const isLast = !newest || v.versionKey > newest[0];
          if (isFirst && oldest) this.setEdge(collection, oldest[1], FIRST, false);
          if (isLast && newest) this.setEdge(collection, newest[1], LAST, false);
          if (!this.keepsPolicyAttributes) {
            const edge = (isFirst ? FIRST : 0) | (isLast ? LAST : 0);
            this.entries.putSync([collection, dateAdded], {
              id: v.id,
              type: v.type,
              version: v.version,
              versionKey: v.versionKey,
              specVersion: v.specVersion,
              edge,
            });
          } else {
            const facts = v.facts ?? versionFacts(JSON.parse(v.json) as StixObject, DEFAULT_NODE_POLICY);
            const previous = isLast && newest ? this.entries.get([collection, newest[1]]) : undefined;
            const before = previous?.f;
            if (isLast && !pass.announced.has(v.id)) pass.announced.set(v.id, previous);
            // Written with its own sectors, as if nothing linked to it; deriveAfter rewrites the
            // entries whose links give them more (most new objects have no links yet). A
            // relationship or sighting gets its sector-index keys from its ends, in deriveAfter.
            const value = withLinked(
              {
                id: v.id,
                type: v.type,
                version: v.version,
                versionKey: v.versionKey,
                specVersion: v.specVersion,
                edge: (isFirst ? FIRST : 0) | (isLast ? LAST : 0),
                f: facts,
              },
              isSro(v.type) ? { sectors: facts.own, narrowest: null } : { sectors: facts.own },
            );
            this.putEntry(collection, dateAdded, value);
            if (facts.tlp.kind === 'unknown') this.markings.noteUnresolved(facts.tlp.markings, collection, v.id);
            pass.fresh.push({ dateAdded, id: v.id, type: v.type, facts, value });
            this.linkEnds(collection, v.id, v.type, facts);
            if (isLast) {
              this.relink(collection, v.id, v.type, before, facts, pass.unlinked);
              pass.changes.push({ id: v.id, type: v.type, before, after: facts });
            }
          }
          this.setVersionsHeld(collection, v.id, [...held, [v.versionKey, dateAdded] as const].sort(byVersionKey));
          const provenanceKey = [v.id, v.versionKey, provenance.source, provenance.detail];
          // A new body cannot have provenance yet; only a known one needs the lookup.
          if (bodyIsNew || !this.provenance.doesExist(provenanceKey)) this.provenance.putSync(provenanceKey, dateAdded);
          outcomes.push({ kind: 'stored', dateAdded });
          added++;
        }
        if (statements && this.keepsPolicyAttributes) reindexed += this.resolveWaiting(collection, pass, statements);
        if (this.keepsPolicyAttributes) reindexed += this.deriveAfter(collection, pass);
        if (added > 0) this.meta.putSync(countKey(collection), this.count(collection) + added);
        if (added > 0 || reindexed > 0) this.meta.putSync(CLOCK_KEY, this.lastAssigned);
        alsoInTransaction?.(outcomes);
        return outcomes;
      });
      this.reindexedCount += reindexed;
      return outcomes;
    } catch (cause) {
      throw new StoreError(`cannot store a batch of ${batch.length} versions in ${collection}`, { cause });
    }
  }

  /**
   * Records statement marking definitions and derives again the own facts of the objects that
   * waited for them (in this collection within `pass`, in others each with its own pass).
   * Returns how many entries were re-indexed.
   */
  private resolveWaiting(collection: string, pass: Pass, statements: StatementsInBatch): number {
    let reindexed = 0;
    const others = new Map<string, Pass>();
    for (const marking of statements.ids) {
      if (!this.markings.addStatement(marking)) continue;
      for (const waiting of this.markings.takeWaiting(marking)) {
        let p = waiting.collection === collection ? pass : others.get(waiting.collection);
        if (!p) others.set(waiting.collection, (p = newPass()));
        reindexed += this.refreshFacts(waiting.collection, waiting.id, statements.refacts, p);
      }
    }
    for (const [other, p] of others) reindexed += this.deriveAfter(other, p);
    return reindexed;
  }

  /**
   * Derives again the own facts of every version of one object (inside a write transaction,
   * before the pass's deriveAfter). Changed versions are rewritten in place; a latest version
   * that may now reach more members moves to a new date_added, so pollers receive it. Returns
   * how many entries moved.
   */
  private refreshFacts(collection: string, id: string, refacts: (json: string) => VersionFacts, pass: Pass): number {
    let moved = 0;
    for (const [versionKey, dateAdded] of this.versionsHeld(collection, id)) {
      const value = this.entries.get([collection, dateAdded]);
      const json = this.objects.get([id, versionKey]);
      if (!value || json === undefined) continue;
      const facts = refacts(json);
      if (JSON.stringify(value.f) === JSON.stringify(facts)) continue;
      const next: EntryValue = { ...value, f: facts };
      if (facts.tlp.kind === 'unknown') this.markings.noteUnresolved(facts.tlp.markings, collection, id);
      if ((value.edge & LAST) === 0) {
        this.putEntry(collection, dateAdded, next, value);
        continue;
      }
      this.relink(collection, id, value.type, value.f, facts, pass.unlinked);
      pass.changes.push({ id, type: value.type, before: value.f, after: facts });
      if (!pass.announced.has(id)) pass.announced.set(id, value);
      if (mayReachMore(attributesOf(value), attributesOf(next))) {
        pass.placed.add(this.moveEntry(collection, dateAdded, value, next));
        moved++;
      } else {
        this.putEntry(collection, dateAdded, next, value);
      }
    }
    pass.refreshed.add(id);
    return moved;
  }

  /** Records the ends of one version of a relationship or sighting (role v). */
  private linkEnds(collection: string, id: string, type: string, facts: VersionFacts | undefined): void {
    for (const ref of endRefs(type, facts)) {
      const key = [collection, ref, 'v', id];
      if (!this.links.doesExist(key)) this.addLink(key);
    }
  }

  /**
   * Adds a link key. The referenced object's summary record exists exactly while something
   * links to it (an empty summary `{}` when its links give nothing), so derivation knows from
   * one read whether an object has referrers at all.
   */
  private addLink(key: Key): void {
    this.links.putSync(key, 1);
    const marker = [key[0] as string, key[1] as string];
    if (!this.summaries.doesExist(marker)) this.summaries.putSync(marker, {});
  }

  /**
   * Removes a link key and notes the referenced object in `unlinked`: its summary record is
   * dropped after the pass (`deriveAfter`) if nothing links to it any more. Not before: the pass
   * compares the summary as it was with what the links give now.
   */
  private removeLink(key: Key, unlinked: Set<string>): void {
    this.links.removeSync(key);
    unlinked.add(key[1] as string);
  }

  /** Keeps the links index equal to what the latest version of `id` refers to. */
  private relink(
    collection: string,
    id: string,
    type: string,
    before: VersionFacts | undefined,
    after: VersionFacts | undefined,
    unlinked: Set<string>,
  ): void {
    const key = ([ref, role]: [string, LinkRole]) => `${role} ${ref}`;
    const old = new Map(linkKeys(type, before).map((k) => [key(k), k]));
    const now = new Map(linkKeys(type, after).map((k) => [key(k), k]));
    for (const [k, [ref, role]] of old) if (!now.has(k)) this.removeLink([collection, ref, role, id], unlinked);
    for (const [k, [ref, role]] of now) if (!old.has(k)) this.addLink([collection, ref, role, id]);
  }

  /** The latest entry of an object in a collection (by version), or undefined. */
  private latestEntry(collection: string, id: string): { dateAdded: Micros; value: EntryValue } | undefined {
    const held = this.versionsHeld(collection, id);
    const newest = held[held.length - 1];
    if (newest === undefined) return undefined;
    const value = this.entries.get([collection, newest[1]]);
    return value ? { dateAdded: newest[1], value } : undefined;
  }

  /**
   * Latest facts and referrers of one collection's objects, read straight from the indexes
   * (for `check()` and rebuilding summaries).
   */
  private linkReader(collection: string): LinkReader {
    // Memoized for the reader's life (one pass): base facts and links only change when versions
    // are stored and relinked, which happens before a pass starts. Chains revisit the same hubs
    // (a malware, a sector identity) for many objects.
    const latest = new Map<string, ReturnType<LinkReader['latest']>>();
    // One range read per object gives its referrers in every role (keys are [c, ref, role, id]).
    const referrers = new Map<string, Map<string, string[]>>();
    const byRole = (id: string) => {
      let roles = referrers.get(id);
      if (!roles) {
        roles = new Map();
        for (const key of this.links.getKeys({ start: [collection, id], end: [collection, id, HIGH] })) {
          const role = key[2] as string;
          const list = roles.get(role);
          if (list) list.push(key[3] as string);
          else roles.set(role, [key[3] as string]);
        }
        referrers.set(id, roles);
      }
      return roles;
    };
    return {
      latest: (id) => {
        if (latest.has(id)) return latest.get(id);
        const e = this.latestEntry(collection, id);
        const facts = e ? { ...(e.value.f ?? LEGACY_FACTS), type: e.value.type } : undefined;
        latest.set(id, facts);
        return facts;
      },
      referrers: (id, role) => byRole(id).get(role) ?? [],
      seed: (id: string, facts: ReturnType<LinkReader['latest']>) => latest.set(id, facts),
    } as LinkReader & { seed(id: string, facts: ReturnType<LinkReader['latest']>): void };
  }

  /**
   * The reader one derivation pass uses: latest facts of the transaction's changed objects are
   * known without a read, link summaries are memoized (`remember` records one the pass has just
   * written), and an object without a summary record has no referrers, so it costs no range read.
   */
  private derivationReader(
    collection: string,
    changes: readonly LatestChange[],
  ): SummaryReader & { remember(id: string, summary: LinkSummary | undefined): void } {
    const links = this.linkReader(collection) as LinkReader & { seed(id: string, facts: ReturnType<LinkReader['latest']>): void };
    for (const c of changes) links.seed(c.id, c.after && { ...c.after, type: c.type });
    const known = new Map<string, LinkSummary | undefined>();
    const summary = (id: string) => {
      if (known.has(id)) return known.get(id);
      const found = this.summaries.get([collection, id]);
      known.set(id, found);
      return found;
    };
    return {
      latest: links.latest,
      referrers: (id, role) => (summary(id) === undefined ? [] : links.referrers(id, role)),
      summary,
      remember: (id, s) => known.set(id, s),
    };
  }

  /**
   * After a transaction's versions are in place (and relinked): updates the link summaries the
   * changes affect (policy/linked.ts `propagate`), fills the linked attributes of the versions it
   * stored, and re-derives every version of each object whose summaries or linked ends changed:
   * the latest version is re-indexed (new date_added) when its attributes changed, older
   * versions are updated in place. Returns how many entries were re-indexed.
   */
  private deriveAfter(collection: string, pass: Pass): number {
    const { changes, unlinked, fresh, newIds, announced } = pass;
    const reader = this.derivationReader(collection, changes);
    const { summaries, rederive } = propagate(changes, reader);
    for (const [id, summary] of summaries) {
      // the record stays while something links to the object (relink / removeLink keep that)
      const key = [collection, id];
      const kept = summary ?? (this.summaries.doesExist(key) ? {} : undefined);
      if (kept) this.summaries.putSync(key, kept);
      reader.remember(id, kept);
    }
    for (const id of unlinked) {
      if (!isEmptyRange(this.links.getKeys({ start: [collection, id], end: [collection, id, HIGH], limit: 1 }))) continue;
      this.summaries.removeSync([collection, id]);
      reader.remember(id, undefined);
    }
    const done = new Set<Micros>();
    for (const v of fresh) {
      done.add(v.dateAdded);
      const linked = linkedOfVersion(v.id, v.type, v.facts, reader);
      if (sameLinked(v.value, linked)) continue; // placed with exactly these sectors
      const value = this.entries.get([collection, v.dateAdded]); // edge flags may have changed since
      if (value) this.putEntry(collection, v.dateAdded, withLinked(value, linked), value);
    }
    let reindexed = 0;
    /** latest entries re-indexed by this pass: their value before */
    const movedFrom = new Map<string, EntryValue>();
    for (const id of new Set([...rederive, ...pass.refreshed])) {
      if (newIds.has(id)) continue;
      for (const [, dateAdded] of this.versionsHeld(collection, id)) {
        if (done.has(dateAdded)) continue;
        const value = this.entries.get([collection, dateAdded]);
        if (!value) continue;
        const linked = linkedOfVersion(id, value.type, value.f ?? LEGACY_FACTS, reader);
        if (sameLinked(value, linked)) continue;
        if ((value.edge & LAST) === 0 || sameAttributes(value, linked) || pass.placed.has(dateAdded)) {
          // an older version (pollers are not sent old versions again), or only where the sector
          // index files it changed: updated in place
          this.putEntry(collection, dateAdded, withLinked(value, linked), value);
          continue;
        }
        done.add(this.moveEntry(collection, dateAdded, value, withLinked(value, linked)));
        movedFrom.set(id, value);
        reindexed++;
      }
    }
    return reindexed + this.reannounce(collection, reader, announced, movedFrom);
  }

  /**
   * A relationship or sighting is served only while every object it refers to is, so when such
   * an object is announced (new latest version, or re-indexed) in a way that may let more
   * members receive it (policy `mayReachMore`), the relationships and sightings whose latest
   * version refers to it are re-indexed too: a member polling with added_after then receives a
   * relationship that arrived before its indicator once the indicator is there. Returns how many
   * were re-indexed.
   */
  private reannounce(
    collection: string,
    reader: LinkReader,
    announced: ReadonlyMap<string, EntryValue | undefined>,
    movedFrom: ReadonlyMap<string, EntryValue>,
  ): number {
    let moved = 0;
    const done = new Set<string>();
    for (const [end, before] of [...announced, ...movedFrom]) {
      const on = reader.referrers(end, 'v'); // memoized; empty for most objects
      if (isEmptyRange(on)) continue;
      const now = this.latestEntry(collection, end)?.value;
      if (!mayReachMore(before && attributesOf(before), now && attributesOf(now))) continue;
      for (const z of on) {
        if (announced.has(z) || movedFrom.has(z) || done.has(z)) continue;
        const latest = this.latestEntry(collection, z);
        if (!latest || !endRefs(latest.value.type, latest.value.f).includes(end)) continue;
        this.moveEntry(collection, latest.dateAdded, latest.value, latest.value);
        done.add(z);
        moved++;
      }
    }
    return moved;
  }

  /** Re-indexes an object's entry at a new date_added (pollers receive it again); returns it. */
  private moveEntry(collection: string, dateAdded: Micros, value: EntryValue, next: EntryValue): Micros {
    const moved = this.nextDateAdded();
    this.removeEntry(collection, dateAdded, value);
    this.putEntry(collection, moved, next);
    this.setVersionsHeld(
      collection,
      value.id,
      this.versionsHeld(collection, value.id).map(([k, d]) => (k === value.versionKey ? ([k, moved] as const) : ([k, d] as const))),
    );
    return moved;
  }

  /** Range scan of one collection's index in date_added order, filtering without bodies. */
  scan(request: ScanRequest): ScanResult {
    const { collection, after } = request;
    const range = this.entries.getRange({ start: [collection, after], end: [collection, Infinity] });
    const candidates = function* (): Generator<[Micros, EntryValue]> {
      for (const { key, value } of range) yield [key[1] as Micros, value];
    };
    return this.collectPage(request, candidates());
  }

  /**
   * Like `scan`, over the entries whose derived sectors include one of `sectors` (and, when
   * `unscoped`, those with no sector): a merge of the sector index's ranges in date_added order,
   * so a sparse sector view costs about what its matches cost, not the whole collection.
   */
  scanSectors(request: ScanRequest & { readonly sectors: readonly string[]; readonly unscoped: boolean }): ScanResult {
    if (!this.keepsPolicyAttributes) throw new StoreError('this store keeps no policy attributes, so it has no sector index');
    const { collection, after } = request;
    const keys = [
      ...new Set([
        ...request.sectors.filter((x) => x !== UNSCOPED && x !== EVERY_READER),
        ...(request.unscoped ? [UNSCOPED] : []),
        EVERY_READER,
      ]),
    ];
    const heads: Array<{ it: Iterator<Key>; at: Micros | undefined }> = keys.map((sector) => {
      const it = this.sectorIndex.getKeys({ start: [collection, sector, after], end: [collection, sector, Infinity] })[Symbol.iterator]();
      return { it, at: undefined };
    });
    const advance = (h: { it: Iterator<Key>; at: Micros | undefined }) => {
      for (;;) {
        const r = h.it.next();
        if (r.done) return (h.at = undefined);
        const d = r.value[2] as Micros;
        if (d > after) return (h.at = d);
      }
    };
    heads.forEach(advance);
    const entries = this.entries;
    const candidates = function* (): Generator<[Micros, EntryValue]> {
      for (;;) {
        let next: Micros | undefined;
        for (const h of heads) if (h.at !== undefined && (next === undefined || h.at < next)) next = h.at;
        if (next === undefined) return;
        for (const h of heads) if (h.at === next) advance(h); // an entry in several sectors once
        const value = entries.get([collection, next]);
        if (value) yield [next, value];
      }
    };
    return this.collectPage(request, candidates());
  }

  /**
   * One page from candidate entries in date_added order: at most `maxScanned` examined, those
   * `accept` refuses skipped (their position still advances `resumeAfter`), `limit` kept, and
   * `more` set when a further match or the spent budget means the client should continue.
   */
  private collectPage(request: ScanRequest, candidates: Iterator<[Micros, EntryValue]>): ScanResult {
    const { collection, after, limit, accept, maxScanned } = request;
    const found: IndexEntry[] = [];
    let scanned = 0;
    let resumeAfter = after;
    let more = false;
    for (let c = candidates.next(); !c.done; c = candidates.next()) {
      const [dateAdded, value] = c.value;
      if (dateAdded <= after) continue;
      if (scanned >= maxScanned) {
        more = true; // budget spent: the client continues from resumeAfter
        break;
      }
      scanned++;
      const entry = toEntry(collection, dateAdded, value);
      if (!accept(entry)) {
        resumeAfter = dateAdded;
        continue;
      }
      if (found.length === limit) {
        more = true;
        break;
      }
      found.push(entry);
      resumeAfter = dateAdded;
    }
    candidates.return?.(undefined);
    return { entries: found, more, resumeAfter };
  }

  /** Every version of one object in one collection, oldest version first. */
  versionsOf(collection: string, id: string): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const [, dateAdded] of this.versionsHeld(collection, id)) {
      const value = this.entries.get([collection, dateAdded]);
      if (value) out.push(toEntry(collection, dateAdded, value));
    }
    return out;
  }

  /** The newest version of one object in one collection (with its policy attributes). */
  latestOf(collection: string, id: string): IndexEntry | undefined {
    const e = this.latestEntry(collection, id);
    return e ? toEntry(collection, e.dateAdded, e.value) : undefined;
  }

  /** Oldest and newest version keys of an object in a collection (for match[version]). */
  versionBounds(collection: string, id: string): { first: string; last: string } | null {
    const held = this.versionsHeld(collection, id);
    const first = held[0];
    const last = held[held.length - 1];
    return first !== undefined && last !== undefined ? { first: first[0], last: last[0] } : null;
  }

  /** Sets or clears an edge flag on one index entry (inside a write transaction). */
  private setEdge(collection: string, dateAdded: Micros, flag: number, on: boolean): void {
    const value = this.entries.get([collection, dateAdded]);
    if (!value) return;
    const edge = on ? value.edge | flag : value.edge & ~flag;
    if (edge !== value.edge) this.entries.putSync([collection, dateAdded], { ...value, edge });
  }

  /** The stored JSON text of one object version. */
  body(id: string, versionKey: string): string | undefined {
    return this.objects.get([id, versionKey]);
  }

  /** Removes versions of an object from one collection; bodies stay for other collections. */
  deleteVersions(collection: string, entries: readonly IndexEntry[]): number {
    if (entries.length === 0) return 0;
    let reindexed = 0;
    const removedCount = this.root.transactionSync(() => {
      let removed = 0;
      const touched = new Set<string>();
      const pass = newPass();
      const latestBefore = new Map<string, { type: string; facts: VersionFacts | undefined }>();
      for (const e of entries) {
        if (!latestBefore.has(e.id)) {
          const l = this.latestEntry(collection, e.id);
          latestBefore.set(e.id, { type: e.type, facts: l?.value.f });
        }
      }
      for (const e of entries) {
        const held = this.versionsHeld(collection, e.id);
        if (!held.some(([k, d]) => k === e.versionKey && d === e.dateAdded)) continue;
        this.setVersionsHeld(
          collection,
          e.id,
          held.filter(([k]) => k !== e.versionKey),
        );
        this.removeEntry(collection, e.dateAdded, this.entries.get([collection, e.dateAdded]));
        touched.add(e.id);
        removed++;
      }
      // The surviving oldest / newest versions take over the edge flags.
      for (const id of touched) {
        const left = this.versionsHeld(collection, id);
        const first = left[0];
        const last = left[left.length - 1];
        if (first) this.setEdge(collection, first[1], FIRST, true);
        if (last) this.setEdge(collection, last[1], LAST, true);
      }
      // Ends no remaining version of a relationship or sighting refers to are unlinked.
      for (const id of this.keepsPolicyAttributes ? touched : []) {
        const type = latestBefore.get(id)?.type ?? '';
        if (type !== 'relationship' && type !== 'sighting') continue;
        const kept = new Set<string>();
        for (const [, dateAdded] of this.versionsHeld(collection, id)) {
          for (const ref of endRefs(type, this.entries.get([collection, dateAdded])?.f)) kept.add(ref);
        }
        for (const e of entries) {
          if (e.id !== id) continue;
          for (const ref of e.attributes.refs ?? [])
            if (!kept.has(ref) && this.links.doesExist([collection, ref, 'v', id]))
              this.removeLink([collection, ref, 'v', id], pass.unlinked);
        }
      }
      // The links and linked attributes follow the new latest versions.
      for (const id of this.keepsPolicyAttributes ? touched : []) {
        const was = latestBefore.get(id);
        const now = this.latestEntry(collection, id)?.value.f;
        if (was && was.facts !== now) {
          this.relink(collection, id, was.type, was.facts, now, pass.unlinked);
          pass.changes.push({ id, type: was.type, before: was.facts, after: now });
        }
      }
      reindexed = this.keepsPolicyAttributes ? this.deriveAfter(collection, pass) : 0;
      if (reindexed > 0) this.meta.putSync(CLOCK_KEY, this.lastAssigned);
      this.meta.putSync(countKey(collection), this.count(collection) - removed);
      return removed;
    });
    this.reindexedCount += reindexed;
    return removedCount;
  }

  /**
   * Entries this process has re-indexed (moved to a new date_added because a later object
   * changed their linked attributes) since it opened the store.
   */
  get reindexed(): number {
    return this.reindexedCount;
  }

  count(collection: string): number {
    return (this.meta.get(countKey(collection)) as number | undefined) ?? 0;
  }

  firstAdded(collection: string): Micros | null {
    for (const key of this.entries.getKeys({ start: [collection, 0], end: [collection, Infinity], limit: 1 })) {
      return key[1] as Micros;
    }
    return null;
  }

  lastAdded(collection: string): Micros | null {
    for (const key of this.entries.getKeys({
      start: [collection, Infinity],
      end: [collection, 0],
      reverse: true,
      limit: 1,
    })) {
      return key[1] as Micros;
    }
    return null;
  }

  /** Collections that hold at least one entry or ever had a counter. */
  collectionIds(): string[] {
    const ids: string[] = [];
    for (const key of this.meta.getKeys({ start: 'count:', end: 'count;' })) {
      ids.push(key.slice('count:'.length));
    }
    return ids;
  }

  provenanceOf(id: string, versionKey: string): Array<{ source: string; detail: string; at: Micros }> {
    const out: Array<{ source: string; detail: string; at: Micros }> = [];
    for (const { key, value } of this.provenance.getRange({ start: [id, versionKey], end: [id, versionKey, HIGH] })) {
      out.push({ source: key[2] as string, detail: key[3] as string, at: value });
    }
    return out;
  }

  putStatus(id: string, status: unknown): void {
    this.statuses.putSync(id, status);
  }

  getStatus(id: string): unknown {
    return this.statuses.get(id);
  }

  /** An upstream record (a subscription's cursor or status), or undefined. */
  getUpstream<T>(key: string): T | undefined {
    return this.upstream.get(key) as T | undefined;
  }

  /**
   * Writes an upstream record. Called inside commitBatch's `alsoInTransaction`, it commits with
   * that batch (how a cursor advances atomically with the page it covers).
   */
  putUpstream(key: string, value: unknown): void {
    this.upstream.putSync(key, value);
  }

  /** Keys of upstream records starting with `prefix`. */
  upstreamKeys(prefix = ''): string[] {
    return [...this.upstream.getKeys({ start: prefix, end: `${prefix}${HIGH}` })];
  }

  /** Records quarantined input and returns its id; inside a transaction it joins it. */
  addQuarantine(record: Omit<QuarantineRecord, 'id' | 'at'>): string {
    if (this.lastQuarantined === undefined) {
      this.lastQuarantined = 0;
      for (const key of this.quarantine.getKeys({ reverse: true, limit: 1 })) this.lastQuarantined = key;
    }
    const now = nowMicros();
    const at = now > this.lastQuarantined ? now : this.lastQuarantined + 1;
    this.lastQuarantined = at;
    this.quarantine.putSync(at, { ...record, at });
    return String(at);
  }

  /** Quarantine records, newest first. */
  listQuarantine(options: { limit?: number; detail?: string } = {}): QuarantineRecord[] {
    const out: QuarantineRecord[] = [];
    const limit = options.limit ?? 100;
    for (const { key, value } of this.quarantine.getRange({ reverse: true })) {
      if (out.length >= limit) break;
      if (options.detail !== undefined && value.detail !== options.detail) continue;
      out.push({ ...value, id: String(key) });
    }
    return out;
  }

  getQuarantine(id: string): QuarantineRecord | undefined {
    if (!/^\d+$/.test(id)) return undefined;
    const value = this.quarantine.get(Number(id));
    return value ? { ...value, id } : undefined;
  }

  quarantineCount(): number {
    return this.quarantine.getCount();
  }

  stats(): { collections: CollectionStats[]; objectVersions: number } {
    return {
      collections: this.collectionIds().map((collection) => ({
        collection,
        versions: this.count(collection),
        firstAdded: this.firstAdded(collection),
        lastAdded: this.lastAdded(collection),
      })),
      objectVersions: this.objects.getCount(),
    };
  }

  /**
   * The links index holds exactly what the latest versions refer to, and every version's linked
   * attributes (sectors, opinion) are what derivation gives now (none stale).
   */
  private checkLinks(report: (p: string) => void): void {
    const expected = new Set<string>();
    const stored: Array<{ collection: string; id: string; value: EntryValue }> = [];
    for (const { collection, id, list } of this.allVersionLists()) {
      for (const [, dateAdded] of list) {
        const value = this.entries.get([collection, dateAdded]);
        if (!value) continue;
        stored.push({ collection, id, value });
        for (const ref of endRefs(value.type, value.f)) expected.add(JSON.stringify([collection, ref, 'v', id]));
        if ((value.edge & LAST) === 0) continue;
        for (const [ref, role] of linkKeys(value.type, value.f)) expected.add(JSON.stringify([collection, ref, role, id]));
      }
    }
    let matched = 0;
    for (const key of this.links.getKeys({})) {
      if (expected.has(JSON.stringify(key))) matched++;
      else report(`link ${JSON.stringify(key)} does not match the latest version of its referrer`);
    }
    if (matched < expected.size) report(`links index lacks ${expected.size - matched} links the latest versions make`);
    this.checkSummaries(report);
    const readers = new Map<string, LinkReader>();
    for (const { collection, id, value } of stored) {
      if (!value.f) continue;
      let reader = readers.get(collection);
      if (!reader) readers.set(collection, (reader = this.linkReader(collection)));
      const linked = deriveLinked(id, value.type, value.f, reader);
      if (!sameAttributes(value, linked)) {
        report(
          `${collection} ${id}: stored sectors/opinion ${JSON.stringify([value.s ?? [], value.o])} are stale (now ${JSON.stringify([linked.sectors, linked.opinion])})`,
        );
      }
    }
  }

  /** Every stored link summary is what the links give now, and no referenced object lacks one. */
  private checkSummaries(report: (p: string) => void): void {
    const referenced = this.referencedIds();
    for (const { key, value } of this.summaries.getRange({})) {
      const [collection, id] = key as [string, string];
      if (!referenced.get(collection)?.has(id))
        report(`${collection} ${id}: link summary ${JSON.stringify(value)} but nothing links to it`);
    }
    for (const [collection, ids] of referenced) {
      const reader = this.linkReader(collection);
      for (const id of ids) {
        const stored = this.summaries.get([collection, id]);
        const now = summaryOf(id, reader);
        if (stored === undefined) report(`${collection} ${id}: something links to it but it has no summary record`);
        else if (!sameSummary(stored, now))
          report(`${collection} ${id}: link summary ${JSON.stringify(stored)} is stale (now ${JSON.stringify(now)})`);
      }
    }
  }

  /**
   * Where a relationship or sighting belongs in the sector index, from its stored sectors and
   * the stored latest entries of its ends (policy/linked.ts computes it from summaries during a
   * pass; `check()` compares the two).
   */
  private narrowestStored(collection: string, value: EntryValue): readonly string[] | null {
    let narrowest: readonly string[] = value.s ?? [];
    for (const end of value.f?.refs ?? []) {
      if (isSro(end.slice(0, end.indexOf('--')))) continue; // as policy/linked.ts: tells nothing
      const latest = this.latestEntry(collection, end)?.value;
      if (latest === undefined || neverRedistributed((latest.f ?? LEGACY_FACTS).tlp)) return null;
      const sectors = latest.s ?? [];
      if (sectors.length < narrowest.length) narrowest = sectors;
    }
    return narrowest;
  }

  /**
   * The sector index holds exactly each entry's keys: its derived sectors (or the unscoped
   * bucket), for relationships and sightings those of their narrowest end as the ends stand now.
   */
  private checkSectorIndex(report: (p: string) => void): void {
    const expected = new Set<string>();
    for (const { key, value } of this.entries.getRange({})) {
      const [collection, dateAdded] = key as [string, number];
      if (isSro(value.type) && value.f) {
        const n = this.narrowestStored(collection, value);
        const same = n === null || value.n === undefined || value.n === null ? n === value.n : sameList(n, value.n);
        if (!same)
          report(
            `${collection}@${dateAdded} (${value.id}): filed under ${JSON.stringify(value.n)}, its sectors and ends now say ${JSON.stringify(n)}`,
          );
      }
      for (const s of sectorKeys(value)) expected.add(JSON.stringify([collection, s, dateAdded]));
    }
    let matched = 0;
    for (const key of this.sectorIndex.getKeys({})) {
      if (expected.has(JSON.stringify(key))) matched++;
      else report(`sector index key ${JSON.stringify(key)} matches no index entry`);
    }
    if (matched < expected.size) report(`sector index lacks ${expected.size - matched} keys of index entries`);
  }

  /**
   * No version's facts name a known statement definition as an unknown marking (its
   * re-derivation was lost), and every object with an unknown marking is noted as waiting for it.
   */
  private checkMarkings(report: (p: string) => void): void {
    for (const { key, value } of this.entries.getRange({})) {
      if (value.f?.tlp.kind !== 'unknown') continue;
      const collection = key[0] as string;
      for (const m of value.f.tlp.markings) {
        if (this.markings.isStatement(m))
          report(`${collection} ${value.id} ${value.version}: facts treat statement marking ${m} as unknown`);
        else if (!this.markings.isWaiting(m, collection, value.id))
          report(`${collection} ${value.id}: unknown marking ${m} is not noted as awaited`);
      }
    }
  }

  /** Verifies that indexes, bodies, counters and the clock agree. Read-only. */
  check(): CheckReport {
    const problems: string[] = [];
    const report = (p: string) => {
      if (problems.length < 100) problems.push(p);
    };
    const perCollection = new Map<string, number>();
    let maxAdded = 0;
    for (const { key, value } of this.entries.getRange({})) {
      const [collection, dateAdded] = key as [string, number];
      perCollection.set(collection, (perCollection.get(collection) ?? 0) + 1);
      if (dateAdded > maxAdded) maxAdded = dateAdded;
      const back = this.versionsHeld(collection, value.id).find(([k]) => k === value.versionKey)?.[1];
      if (back !== dateAdded) {
        report(`index entry ${collection}@${dateAdded} (${value.id} ${value.version}) has version record ${String(back)}`);
      }
      if (!this.objects.doesExist([value.id, value.versionKey])) {
        report(`index entry ${collection}@${dateAdded} points at missing body ${value.id} ${value.version}`);
      }
    }
    // Each object's list is sorted by version and flags exactly its oldest version FIRST and its
    // newest LAST.
    for (const { collection, id, list } of this.allVersionLists()) {
      if (list.length === 0) report(`${collection} ${id}: empty version list`);
      list.forEach(([versionKey, dateAdded], i) => {
        const previous = list[i - 1];
        if (previous && previous[0] >= versionKey) report(`${collection} ${id}: version list out of order at ${versionKey}`);
        const entry = this.entries.get([collection, dateAdded]);
        if (!entry || entry.id !== id || entry.versionKey !== versionKey) {
          report(`version record ${collection} ${id} ${versionKey} has no matching index entry`);
          return;
        }
        const want = (i === 0 ? FIRST : 0) | (i === list.length - 1 ? LAST : 0);
        if (entry.edge !== want) report(`${collection} ${id}: version ${entry.version} has edge flags ${entry.edge}, expected ${want}`);
      });
    }
    if (this.legacyVersions.getCount() > 0) report('per-version records of the earlier layout remain after migration');
    if (this.keepsPolicyAttributes) {
      this.checkLinks(report);
      this.checkSectorIndex(report);
      this.checkMarkings(report);
    }
    const counted = new Set([...perCollection.keys(), ...this.collectionIds()]);
    for (const collection of counted) {
      const actual = perCollection.get(collection) ?? 0;
      const recorded = this.count(collection);
      if (actual !== recorded) report(`collection ${collection}: counter says ${recorded}, index holds ${actual}`);
    }
    const clock = (this.meta.get(CLOCK_KEY) as number | undefined) ?? 0;
    if (maxAdded > clock) report(`clock ${clock} is behind the newest date_added ${maxAdded}`);
    const { collections, objectVersions } = this.stats();
    return { ok: problems.length === 0, problems, collections, objectVersions };
  }
}

/**
 * the sector index is built by the current rule (earlier stores indexed never-redistributed
 * entries, relationships under every sector of every end, and definitions as unscoped)
 */
const SECTOR_INDEX_KEY = 'sector-index-4';
const VERSION_LISTS_KEY = 'version-lists';
/** set once every stored object with a marking unknown to the node is noted in the markings registry */
const UNRESOLVED_MARKINGS_KEY = 'unresolved-markings-1';
/** 'none' in a store created without policy attributes */
const ATTRIBUTES_KEY = 'policy-attributes';
/** set once the links carry role v and every referenced object has a summary record (earlier stores are migrated) */
const SUMMARIES_KEY = 'link-summaries-2';
/** the sector index's bucket for entries without any sector */
const UNSCOPED = '';
/** the sector index's bucket for what reaches every reader (marking and extension definitions): every sector scan reads it */
const EVERY_READER = '\u0000every-reader';

function isEmptyRange(range: Iterable<unknown>): boolean {
  for (const _ of range) return false;
  return true;
}

/**
 * The sector index keys of an entry: its derived sectors, or the unscoped bucket. None for an
 * entry whose own markings keep it from every member (AMBER+STRICT, RED, unknown): no sparse
 * view could serve it, so it would only cost reads there.
 */
function sectorKeys(value: EntryValue): string[] {
  if (value.f && neverRedistributed(value.f.tlp)) return [];
  if (reachesEveryReader(value.type)) return [EVERY_READER];
  if (value.n !== undefined) return value.n === null ? [] : value.n.length > 0 ? value.n : [UNSCOPED];
  return value.s && value.s.length > 0 ? value.s : [UNSCOPED];
}

const isSro = (type: string) => type === 'relationship' || type === 'sighting';

/** Facts of entries written before policy attributes existed: unmarked, no links. */
const LEGACY_FACTS: VersionFacts = { tlp: { kind: 'unmarked' }, rank: 0, granular: false, revoked: false, own: [] };

function withLinked(value: EntryValue, linked: IndexedAttributes): EntryValue {
  const { s: _s, o: _o, n: _n, ...rest } = value;
  return {
    ...rest,
    ...(linked.sectors.length > 0 ? { s: [...linked.sectors] } : {}),
    ...(linked.opinion !== undefined ? { o: linked.opinion } : {}),
    ...(linked.narrowest !== undefined ? { n: linked.narrowest === null ? null : [...linked.narrowest] } : {}),
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether the entry's linked attributes (what members are judged by) are these. */
function sameAttributes(value: EntryValue, linked: LinkedAttributes): boolean {
  return value.o === linked.opinion && sameList(value.s ?? [], linked.sectors);
}

/** …and it is filed in the sector index as these say. */
function sameLinked(value: EntryValue, linked: IndexedAttributes): boolean {
  if (!sameAttributes(value, linked)) return false;
  const [a, b] = [value.n, linked.narrowest];
  return a === undefined || a === null || b === undefined || b === null ? a === b : sameList(a, b);
}

function toEntry(collection: string, dateAdded: Micros, v: EntryValue): IndexEntry {
  return {
    collection,
    dateAdded,
    id: v.id,
    type: v.type,
    version: v.version,
    versionKey: v.versionKey,
    specVersion: v.specVersion,
    isFirst: (v.edge & FIRST) !== 0,
    isLast: (v.edge & LAST) !== 0,
    attributes: attributesOf(v),
  };
}

function attributesOf(v: EntryValue): EntryAttributes {
  const f = v.f ?? LEGACY_FACTS;
  return {
    type: v.type,
    tlp: f.tlp,
    sectors: v.s ?? [],
    ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
    ...(v.o !== undefined ? { opinion: v.o } : {}),
    revoked: f.revoked,
    granular: f.granular,
    ...(f.refs !== undefined && (v.type === 'relationship' || v.type === 'sighting') ? { refs: f.refs } : {}),
  };
}
