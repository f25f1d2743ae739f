/**
 * The durable set of objects to derive again: written in the transaction that makes the work
 * necessary (a commit, a marking definition arriving, a configuration change), drained by the
 * re-indexer (src/derive/) in small transactions. Sole owner of:
 *
 *   pending        [collection, id]          -> Pending (what is to be done for the object)
 *   pending-order  [since, collection, id]   -> 1       (oldest first)
 *
 * Queuing an object that is already queued merges the work (coalescing): a malware that gains
 * three targets relationships before the re-indexer reaches it is derived once.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { LinkedAttributes, LinkKey, LinkRole, SummaryPart, VersionFacts } from '../stix/attributes.ts';
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

/** What to tell the objects that refer to one in a role (walked in chunks: hubs have many). */
export type Notice = 'rederive' | 'announce' | 'targeted-of-source' | 'indicated-of-source';

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
type OrderKey = [since: Micros, collection: string, id: string];

export interface QueuedItem {
  readonly collection: string;
  readonly id: string;
  readonly pending: Pending;
}

export class DerivationQueue {
  private readonly pending: Database<Pending, PendingKey>;
  private readonly order: Database<1, OrderKey>;
  private lastSince = 0;

  constructor(root: RootDatabase) {
    this.pending = root.openDB<Pending, PendingKey>('pending', {});
    this.order = root.openDB<1, OrderKey>('pending-order', {});
  }

  /**
   * Queues work for an object, merged with what is queued for it already (inside a write
   * transaction). `since` keeps an item's place when the re-indexer puts back what it left.
   */
  add(collection: string, id: string, work: Work, since?: Micros): void {
    const existing = this.pending.get([collection, id]);
    if (existing === undefined) {
      since ??= this.nextSince();
      this.pending.putSync([collection, id], { since, ...work });
      this.order.putSync([since, collection, id], 1);
      return;
    }
    this.pending.putSync([collection, id], merge(existing, work));
  }

  /** Replaces what is queued for an object (keeping its place), or removes it when nothing is left. */
  replace(collection: string, id: string, pending: Pending): void {
    if (isEmpty(pending)) return this.done(collection, id);
    this.pending.putSync([collection, id], pending);
  }

  get(collection: string, id: string): Pending | undefined {
    return this.pending.get([collection, id]);
  }

  done(collection: string, id: string): void {
    const existing = this.pending.get([collection, id]);
    if (existing === undefined) return;
    this.pending.removeSync([collection, id]);
    this.order.removeSync([existing.since, collection, id]);
  }

  /** The oldest queued items, at most `limit` (read only: the caller marks them done). */
  oldest(limit: number): QueuedItem[] {
    const out: QueuedItem[] = [];
    for (const [, collection, id] of this.order.getKeys({ limit })) {
      const pending = this.pending.get([collection, id]);
      if (pending) out.push({ collection, id, pending });
    }
    return out;
  }

  size(): number {
    return this.pending.getCount();
  }

  /** When the oldest queued item was queued (µs), or null when the queue is empty. */
  oldestSince(): Micros | null {
    for (const [since] of this.order.getKeys({ limit: 1 })) return since;
    return null;
  }

  /** Every queued item (for checks). */
  *all(): Generator<QueuedItem> {
    for (const { key, value } of this.pending.getRange({})) yield { collection: key[0], id: key[1], pending: value };
  }

  /** Every order key (for checks). */
  *orderKeys(): Generator<OrderKey> {
    yield* this.order.getKeys({});
  }

  private nextSince(): Micros {
    if (this.lastSince === 0) for (const [since] of this.order.getKeys({ reverse: true, limit: 1 })) this.lastSince = since;
    const now = nowMicros();
    this.lastSince = now > this.lastSince ? now : this.lastSince + 1;
    return this.lastSince;
  }
}

function isEmpty(p: Pending): boolean {
  return p.before === undefined && !p.refacts && !p.rederive && !p.announce && !p.dirty?.length && !p.fanouts?.length;
}

/** Merges work into what is queued: the earliest `before` wins, flags add up, a fanout queued again starts over. */
export function merge(existing: Pending, work: Work): Pending {
  const dirty = [...new Set([...(existing.dirty ?? []), ...(work.dirty ?? [])])];
  const fanouts = [...(existing.fanouts ?? [])];
  for (const f of work.fanouts ?? []) {
    const i = fanouts.findIndex((g) => g.role === f.role && g.notice === f.notice);
    if (i >= 0) fanouts[i] = { ...f, after: '' };
    else fanouts.push(f);
  }
  return {
    since: existing.since,
    ...(existing.before !== undefined ? { before: existing.before } : work.before !== undefined ? { before: work.before } : {}),
    ...(existing.refacts || work.refacts ? { refacts: true as const } : {}),
    ...(dirty.length > 0 ? { dirty } : {}),
    ...(existing.rederive || work.rederive ? { rederive: true as const } : {}),
    ...(existing.announce || work.announce ? { announce: true as const } : {}),
    ...(fanouts.length > 0 ? { fanouts } : {}),
  };
}
