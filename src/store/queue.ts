/**
 * The durable set of objects to derive again: written in the transaction that makes the work
 * necessary (a commit, a marking definition arriving, a configuration change), drained by the
 * re-indexer (src/derive/) in small transactions. Sole owner of:
 *
 *   pending        [collection, id]                -> Pending (what is to be done for the object)
 *   pending-order  [lane, since, collection, id]   -> 1       (fresh work first, then oldest first)
 *   pending-count  'items'                         -> number  (how many are queued: read after every step and ingest call)
 *
 * Queuing an object that is already queued merges the work (coalescing): a malware that gains
 * three targets relationships before the re-indexer reaches it is derived once.
 *
 * Two lanes: `fresh` work (the derivation of versions a commit just placed, which readers do not
 * see past until it is done: see CollectionIndex's unsettled entries) goes first, so new data is
 * served quickly even behind a backlog of fan-out work.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { LinkedAttributes, LinkKey, LinkRole, ReferrerNotice, SummaryPart, VersionFacts } from '../stix/attributes.ts';
import { nowMicros, type Micros } from '../stix/time.ts';
import type { BodyRef } from './types.ts';

/** An object's latest version as it was when a change to it was first queued. */
export interface LatestSnapshot {
  /** which version it was */
  readonly body: BodyRef;
  readonly type: string;
  readonly facts: VersionFacts;
  readonly linked?: LinkedAttributes;
  readonly links: readonly LinkKey[];
}

export type Notice = ReferrerNotice;

export interface Fanout {
  readonly role: LinkRole;
  readonly notice: Notice;
  /** the last referrer told so far ('' before the first) */
  readonly after: string;
}

/** The work queued for one object. Every part is optional; parts merge when it is queued again. */
export interface Pending {
  /** when the object was first queued: its place in the order, and the backlog's age */
  readonly since: Micros;
  /** versions of it were just placed and wait for their first derivation (the first lane) */
  readonly fresh?: true;
  /** its latest version when a change was first queued (null: it had none) */
  readonly before?: LatestSnapshot | null;
  /** derive its own facts again from its bodies (a marking definition arrived, the configuration changed) */
  readonly refacts?: true;
  /** summary parts to compute again from its links */
  readonly dirty?: readonly SummaryPart[];
  /** derive its versions' linked attributes and filing again */
  readonly rederive?: true;
  /** move its latest entry to a new date_added (an object it refers to may now reach more members) */
  readonly announce?: true;
  /** referrers still to be told */
  readonly fanouts?: readonly Fanout[];
}

/** Work to add for an object (its `since` is the queue's business). */
export type Work = Omit<Pending, 'since'>;

type PendingKey = [collection: string, id: string];
type OrderKey = [lane: number, since: Micros, collection: string, id: string];

const laneOf = (p: { fresh?: true }) => (p.fresh ? 0 : 1);

export interface QueuedItem {
  readonly collection: string;
  readonly id: string;
  readonly pending: Pending;
}

export class DerivationQueue {
  private readonly pending: Database<Pending, PendingKey>;
  private readonly order: Database<1, OrderKey>;
  /** the number of queued objects, kept with every add and take (counting the queue reads every entry) */
  private readonly count: Database<number, 'items'>;
  private lastSince = 0;

  constructor(root: RootDatabase) {
    this.pending = root.openDB<Pending, PendingKey>('pending', {});
    this.order = root.openDB<1, OrderKey>('pending-order', {});
    this.count = root.openDB<number, 'items'>('pending-count', {});
    // a store from before the counter: count once
    if (this.count.get('items') === undefined) root.transactionSync(() => this.count.putSync('items', this.pending.getCount()));
  }

  /**
   * Queues work for an object, merged with what is queued for it already (inside a write
   * transaction). `since` keeps an item's place when the re-indexer puts back what it left.
   */
  add(collection: string, id: string, work: Work, since?: Micros): void {
    const existing = this.pending.get([collection, id]);
    if (existing === undefined) {
      const item: Pending = { since: since ?? this.nextSince(), ...work };
      this.pending.putSync([collection, id], item);
      this.order.putSync([laneOf(item), item.since, collection, id], 1);
      this.count.putSync('items', this.size() + 1);
      return;
    }
    const merged = merge(existing, work);
    this.pending.putSync([collection, id], merged);
    if (laneOf(merged) !== laneOf(existing)) {
      this.order.removeSync([laneOf(existing), existing.since, collection, id]);
      this.order.putSync([laneOf(merged), merged.since, collection, id], 1);
    }
  }

  get(collection: string, id: string): Pending | undefined {
    return this.pending.get([collection, id]);
  }

  /** Takes an object's work off the queue (inside a write transaction); returns it. */
  take(collection: string, id: string): Pending | undefined {
    const existing = this.pending.get([collection, id]);
    if (existing === undefined) return undefined;
    this.pending.removeSync([collection, id]);
    this.order.removeSync([laneOf(existing), existing.since, collection, id]);
    this.count.putSync('items', this.size() - 1);
    return existing;
  }

  /** The next queued objects in order (fresh first, then oldest), at most `limit` (read only). */
  next(limit: number): Array<{ collection: string; id: string }> {
    const out: Array<{ collection: string; id: string }> = [];
    for (const [, , collection, id] of this.order.getKeys({ limit })) out.push({ collection, id });
    return out;
  }

  /** How many objects are queued (one read). */
  size(): number {
    return this.count.get('items') ?? 0;
  }

  /** How many objects are queued, counted entry by entry (for checks: equals `size()`). */
  countEntries(): number {
    return this.pending.getCount();
  }

  /** Whether fresh work (versions waiting for their first derivation) is queued. */
  hasFresh(): boolean {
    for (const [lane] of this.order.getKeys({ limit: 1 })) return lane === 0;
    return false;
  }

  /** When the oldest queued item was queued (µs), or null when the queue is empty. */
  oldestSince(): Micros | null {
    let oldest: Micros | null = null;
    for (const lane of [0, 1]) {
      for (const [, since] of this.order.getKeys({ start: [lane], end: [lane + 1], limit: 1 })) {
        if (oldest === null || since < oldest) oldest = since;
      }
    }
    return oldest;
  }

  /** Every queued item (for checks). */
  *all(): Generator<QueuedItem> {
    for (const { key, value } of this.pending.getRange({})) yield { collection: key[0], id: key[1], pending: value };
  }

  /** Every order key (for checks). */
  *orderKeys(): Generator<{ lane: number; since: Micros; collection: string; id: string }> {
    for (const [lane, since, collection, id] of this.order.getKeys({})) yield { lane, since, collection, id };
  }

  private nextSince(): Micros {
    if (this.lastSince === 0) for (const [, since] of this.order.getKeys({ reverse: true, limit: 1 })) this.lastSince = since;
    const now = nowMicros();
    this.lastSince = now > this.lastSince ? now : this.lastSince + 1;
    return this.lastSince;
  }
}

/** Merges work into what is queued: the earliest `before` wins, flags add up, a fanout queued again starts over. */
export function merge(existing: Pending, work: Work): Pending {
  const dirty = [...new Set([...(existing.dirty ?? []), ...(work.dirty ?? [])])];
  const fanouts = [...(existing.fanouts ?? [])];
  for (const f of work.fanouts ?? []) {
    const i = fanouts.findIndex((g) => g.role === f.role && g.notice === f.notice);
    if (i >= 0) fanouts[i] = { ...f, after: f.after === '' || fanouts[i]?.after === '' ? '' : f.after };
    else fanouts.push(f);
  }
  return {
    since: existing.since,
    ...(existing.fresh || work.fresh ? { fresh: true as const } : {}),
    ...(existing.before !== undefined ? { before: existing.before } : work.before !== undefined ? { before: work.before } : {}),
    ...(existing.refacts || work.refacts ? { refacts: true as const } : {}),
    ...(dirty.length > 0 ? { dirty } : {}),
    ...(existing.rederive || work.rederive ? { rederive: true as const } : {}),
    ...(existing.announce || work.announce ? { announce: true as const } : {}),
    ...(fanouts.length > 0 ? { fanouts } : {}),
  };
}
