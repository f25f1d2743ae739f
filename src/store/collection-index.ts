/**
 * The collection index: per collection, every version's entry in date_added order, a secondary
 * index of entries by filing key (sectors), the node's date_added clock and per-collection
 * counters. Sole owner of these databases:
 *
 *   index-entries [collection, dateAdded]          -> EntryRecord
 *   sector-index  [collection, filingKey, dateAdded] -> 1  (the entries filed under each key)
 *   clock         'last'                           -> the last date_added assigned
 *   counts        collection                       -> versions in the collection
 *   unsettled     [collection, dateAdded]          -> 1  (entries placed by a commit and not yet derived)
 *
 * `dateAdded` is unique across the node and strictly increasing in commit order, so it is both
 * the `date_added` TAXII reports and the exact position a `next` token resumes from. Entries are
 * appended at the end of their collection's range (new versions, re-announced ones), so writing
 * them touches the last pages of the B-tree only.
 *
 * Unsettled entries: a version placed by a commit whose derivation is still queued carries only
 * its own sectors. Scans stop before a collection's first unsettled entry (the fence), so no
 * client's `added_after` position ever passes an entry whose attributes may still widen; the
 * re-indexer then derives such an entry in place and settles it, instead of moving it to a new
 * date_added (which would send it to members twice and rewrite it). It derives them first.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { LinkedAttributes, LinkKey, ObjectAttributes, VersionFacts } from '../stix/attributes.ts';
import { nowMicros, type Micros } from '../stix/time.ts';
import type { BodyRef, FiledScanRequest, IndexEntry, ScanRequest, ScanResult } from './types.ts';

/** Bits of EntryRecord.versionEdges. */
export const OLDEST = 1;
export const NEWEST = 2;

/** One version in one collection, as stored. */
export interface EntryRecord {
  readonly id: string;
  readonly type: string;
  readonly version: string;
  readonly versionKey: string;
  readonly specVersion: string;
  /** OLDEST | NEWEST: whether it is the object's oldest / newest version in the collection, kept exact */
  readonly versionEdges: number;
  readonly body: BodyRef;
  /** the version's own facts (absent in a store without policy attributes) */
  readonly facts?: VersionFacts;
  /** what links give it; absent until the re-indexer says more than its own sectors */
  readonly linked?: LinkedAttributes;
  /** its keys in the sector index */
  readonly filing?: readonly string[];
  /** the links this version makes while it is the latest */
  readonly links?: readonly LinkKey[];
  /** relationships and sightings: the objects this version refers to */
  readonly ends?: readonly string[];
}

export type EntryKey = [collection: string, dateAdded: Micros];
type FilingKey = [collection: string, filing: string, dateAdded: Micros];

/** Facts of a version stored without policy attributes (the benchmark's baseline mode). */
const NO_FACTS: VersionFacts = { tlp: { kind: 'unmarked' }, rank: 0, granular: false, revoked: false, ownSectors: [] };

export class CollectionIndex {
  private readonly entries: Database<EntryRecord, EntryKey>;
  private readonly filed: Database<1, FilingKey>;
  private readonly clock: Database<Micros, 'last'>;
  private readonly counts: Database<number, string>;
  private readonly unsettled: Database<1, EntryKey>;
  private lastAssigned: Micros;

  constructor(root: RootDatabase) {
    // Shared msgpack structures: without them every entry value carries its own record
    // definitions, and decoding those dominated both ingest and paging.
    this.entries = root.openDB<EntryRecord, EntryKey>('index-entries', { sharedStructuresKey: Symbol.for('entry-structures') });
    this.filed = root.openDB<1, FilingKey>('sector-index', {});
    this.clock = root.openDB<Micros, 'last'>('clock', {});
    this.counts = root.openDB<number, string>('counts', {});
    this.unsettled = root.openDB<1, EntryKey>('unsettled', {});
    this.lastAssigned = this.readClock();
  }

  /** The last date_added assigned: the clock record and, defensively, the index's own tails. */
  private readClock(): Micros {
    let last = this.clock.get('last') ?? 0;
    for (const collection of this.collections()) {
      const tail = this.lastAdded(collection);
      if (tail !== null && tail > last) last = tail;
    }
    return last;
  }

  /** Inside a write transaction: another process (`relay import` beside `relay start`) may have assigned dates. */
  syncClock(): void {
    const persisted = this.clock.get('last') ?? 0;
    if (persisted > this.lastAssigned) this.lastAssigned = persisted;
  }

  /** Next date_added: never backwards, even if the wall clock stepped back. Persisted with the transaction. */
  nextDateAdded(): Micros {
    const now = nowMicros();
    this.lastAssigned = now > this.lastAssigned ? now : this.lastAssigned + 1;
    this.clock.putSync('last', this.lastAssigned);
    return this.lastAssigned;
  }

  /** Sets the clock forward (a migration carrying over an earlier layout's clock); never backwards. */
  setClock(value: Micros): void {
    if (value <= this.lastAssigned && value <= (this.clock.get('last') ?? 0)) return;
    this.lastAssigned = Math.max(this.lastAssigned, value);
    this.clock.putSync('last', this.lastAssigned);
  }

  lastClock(): Micros {
    return this.clock.get('last') ?? 0;
  }

  get(collection: string, dateAdded: Micros): EntryRecord | undefined {
    return this.entries.get([collection, dateAdded]);
  }

  /** Writes an entry and keeps the sector index in step with its filing (`before`: the record it replaces here). */
  put(collection: string, dateAdded: Micros, record: EntryRecord, before?: EntryRecord): void {
    this.entries.putSync([collection, dateAdded], record);
    const old = before?.filing ?? [];
    const now = record.filing ?? [];
    if (old === now) return;
    for (const key of old) if (!now.includes(key)) this.filed.removeSync([collection, key, dateAdded]);
    for (const key of now) if (!old.includes(key)) this.filed.putSync([collection, key, dateAdded], 1);
  }

  remove(collection: string, dateAdded: Micros, record: EntryRecord): void {
    this.entries.removeSync([collection, dateAdded]);
    this.unsettled.removeSync([collection, dateAdded]);
    for (const key of record.filing ?? []) this.filed.removeSync([collection, key, dateAdded]);
  }

  /** Moves an entry to a new date_added (pollers receive it again); returns the new position. */
  move(collection: string, dateAdded: Micros, record: EntryRecord, next: EntryRecord): Micros {
    const moved = this.nextDateAdded();
    this.remove(collection, dateAdded, record);
    this.put(collection, moved, next);
    return moved;
  }

  /** Marks an entry just placed as waiting for its first derivation (readers do not see past it). */
  markUnsettled(collection: string, dateAdded: Micros): void {
    this.unsettled.putSync([collection, dateAdded], 1);
  }

  isUnsettled(collection: string, dateAdded: Micros): boolean {
    return this.unsettled.doesExist([collection, dateAdded]);
  }

  /** Its first derivation is done: readers may see it and past it. */
  settle(collection: string, dateAdded: Micros): void {
    this.unsettled.removeSync([collection, dateAdded]);
  }

  /** The date_added of a collection's first unsettled entry: scans stop before it (null: none). */
  fence(collection: string): Micros | null {
    for (const [, dateAdded] of this.unsettled.getKeys({ start: [collection, 0], end: [collection, Infinity], limit: 1 })) return dateAdded;
    return null;
  }

  /** Every unsettled entry (for checks). */
  *allUnsettled(): Generator<EntryKey> {
    yield* this.unsettled.getKeys({});
  }

  /** Sets or clears a version-edge bit on one entry (inside a write transaction). */
  setEdge(collection: string, dateAdded: Micros, bit: number, on: boolean): void {
    const record = this.entries.get([collection, dateAdded]);
    if (!record) return;
    const versionEdges = on ? record.versionEdges | bit : record.versionEdges & ~bit;
    if (versionEdges !== record.versionEdges) this.entries.putSync([collection, dateAdded], { ...record, versionEdges });
  }

  count(collection: string): number {
    return this.counts.get(collection) ?? 0;
  }

  addToCount(collection: string, delta: number): void {
    if (delta !== 0) this.counts.putSync(collection, this.count(collection) + delta);
  }

  /** Collections that hold at least one entry or ever had a counter. */
  collections(): string[] {
    return [...this.counts.getKeys({})];
  }

  firstAdded(collection: string): Micros | null {
    for (const [, dateAdded] of this.entries.getKeys({ start: [collection, 0], end: [collection, Infinity], limit: 1 })) return dateAdded;
    return null;
  }

  lastAdded(collection: string): Micros | null {
    for (const [, dateAdded] of this.entries.getKeys({ start: [collection, Infinity], end: [collection, 0], reverse: true, limit: 1 })) {
      return dateAdded;
    }
    return null;
  }

  /** Every entry, collection by collection, in date_added order (for checks and migrations). */
  *all(): Generator<{ collection: string; dateAdded: Micros; record: EntryRecord }> {
    for (const { key, value } of this.entries.getRange({})) yield { collection: key[0], dateAdded: key[1], record: value };
  }

  /** Every sector-index key (for checks). */
  *filingKeys(): Generator<FilingKey> {
    yield* this.filed.getKeys({});
  }

  totalEntries(): number {
    return this.entries.getCount();
  }

  /** Range scan of one collection's index in date_added order, filtering without bodies. */
  scan(request: ScanRequest): ScanResult {
    const { collection, after } = request;
    const range = this.entries.getRange({ start: [collection, after], end: [collection, this.fence(collection) ?? Infinity] });
    const candidates = function* (): Generator<[Micros, EntryRecord]> {
      for (const { key, value } of range) yield [key[1], value];
    };
    return this.collectPage(request, candidates());
  }

  /**
   * Like `scan`, over the entries filed under any of `keys`: a merge of the sector index's
   * ranges in date_added order, so a sparse sector view costs about what its matches cost, not
   * the whole collection. An entry filed under several of the keys is yielded once.
   */
  scanFiled(request: FiledScanRequest): ScanResult {
    const { collection, after } = request;
    const end = this.fence(collection) ?? Infinity;
    const heads = [...new Set(request.keys)].map((key) => ({
      it: this.filed.getKeys({ start: [collection, key, after], end: [collection, key, end] })[Symbol.iterator](),
      at: undefined as Micros | undefined,
    }));
    const advance = (head: (typeof heads)[number]) => {
      for (;;) {
        const r = head.it.next();
        if (r.done) return (head.at = undefined);
        if (r.value[2] > after) return (head.at = r.value[2]);
      }
    };
    heads.forEach(advance);
    const entries = this.entries;
    const candidates = function* (): Generator<[Micros, EntryRecord]> {
      for (;;) {
        let next: Micros | undefined;
        for (const h of heads) if (h.at !== undefined && (next === undefined || h.at < next)) next = h.at;
        if (next === undefined) return;
        for (const h of heads) if (h.at === next) advance(h);
        const value = entries.get([collection, next]);
        if (value) yield [next, value];
      }
    };
    try {
      return this.collectPage(request, candidates());
    } finally {
      // A range iterator left unfinished keeps its read transaction: once a commit makes that
      // snapshot old it holds one of LMDB's reader slots for good, and a page a commit apart
      // takes another, until MDB_READERS_FULL. Every head is closed with the page.
      for (const head of heads) head.it.return?.();
    }
  }

  /**
   * One page from candidate entries in date_added order: at most `maxScanned` examined, those
   * `accept` refuses skipped (their position still advances `resumeAfter`), `limit` kept, and
   * `more` set when a further match or the spent budget means the client should continue.
   */
  private collectPage(request: ScanRequest, candidates: Iterator<[Micros, EntryRecord]>): ScanResult {
    const { collection, after, limit, accept, maxScanned } = request;
    const found: IndexEntry[] = [];
    let scanned = 0;
    let resumeAfter = after;
    let more = false;
    for (let c = candidates.next(); !c.done; c = candidates.next()) {
      const [dateAdded, record] = c.value;
      if (dateAdded <= after) continue;
      if (scanned >= maxScanned) {
        more = true; // budget spent: the client continues from resumeAfter
        break;
      }
      scanned++;
      const entry = toEntry(collection, dateAdded, record);
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
}

/** The index entry readers see: the record with its position and its policy attributes. */
export function toEntry(collection: string, dateAdded: Micros, r: EntryRecord): IndexEntry {
  return {
    collection,
    dateAdded,
    id: r.id,
    type: r.type,
    version: r.version,
    versionKey: r.versionKey,
    specVersion: r.specVersion,
    isFirst: (r.versionEdges & OLDEST) !== 0,
    isLast: (r.versionEdges & NEWEST) !== 0,
    body: r.body,
    attributes: attributesOf(r),
  };
}

/** A record's facts and linked attributes as the policy reads them (a mapping of data, no decision). */
export function attributesOf(r: EntryRecord): ObjectAttributes {
  const f = r.facts ?? NO_FACTS;
  const linked = r.linked;
  return {
    type: r.type,
    tlp: f.tlp,
    sectors: linked?.sectors ?? f.ownSectors,
    ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
    ...(linked?.opinion !== undefined ? { opinion: linked.opinion } : {}),
    revoked: f.revoked,
    granular: f.granular,
    ...(r.ends !== undefined && r.ends.length > 0 ? { refs: r.ends } : {}),
  };
}
