/**
 * The audit trail: what the node received, what it delivered to whom, and what people decided.
 * Three append-only databases keyed by time, so writing appends at the end of a B-tree, a
 * report reads one key range, and retention removes one range from the front:
 *
 *   audit-received   one record per committed batch: collection, source, stored/duplicate counts
 *   audit-delivered  one record per page of objects served: member, collection, the date_added
 *                    range, the count, and counts per TLP and per sector (not a row per object:
 *                    a member polling 10,000 objects a day in pages of 1,000 leaves 10 records)
 *   audit-events     share-back decisions and admin actions, with who made them
 *
 * Received and event records are written in the transaction they describe. Delivery records
 * are written as the page goes out, batched by lmdb-js into one transaction per event-loop
 * turn (`put` without Sync), so serving pays no commit of its own; a crash may lose the
 * records of the last few milliseconds of pages, never a decision.
 */
import type { Database, RootDatabase } from 'lmdb';
import { nowMicros, type Micros } from '../stix/time.ts';

/** [time, process id, sequence]: ordered by time, unique across processes writing the same files. */
type AuditKey = [at: Micros, pid: number, seq: number];

export interface ReceivedRecord {
  readonly collection: string;
  readonly source: string;
  /** upstream/collection, member id, file, peer … (as in the versions' provenance) */
  readonly detail: string;
  readonly stored: number;
  readonly duplicate: number;
}

export interface DeliveredRecord {
  readonly member: string;
  readonly apiRoot: string;
  readonly collection: string;
  readonly count: number;
  /** date_added of the first and last object of the page */
  readonly firstAdded: Micros;
  readonly lastAdded: Micros;
  /** objects per TLP level ("green", "unmarked" …) */
  readonly tlp: Readonly<Record<string, number>>;
  /** objects per sector; objects without one count under "(none)" */
  readonly sectors: Readonly<Record<string, number>>;
}

export type AuditAction =
  'shareback.submission' | 'review.decided' | 'review.approved' | 'review.rejected' | 'review.superseded' | 'review.failed';

export interface AuditEvent {
  readonly action: AuditAction;
  /** who: a member id (share-back), an admin id, `cli:<user>`, or `node` */
  readonly actor: string;
  /** what it is about: a review item id, a status id, a path */
  readonly subject: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export type Timed<T> = T & { readonly at: Micros };

export interface AuditRange {
  readonly since: Micros;
  /** exclusive */
  readonly until: Micros;
}

export class AuditTrail {
  private readonly received: Database<ReceivedRecord, AuditKey>;
  private readonly delivered: Database<DeliveredRecord, AuditKey>;
  private readonly events: Database<AuditEvent, AuditKey>;
  private seq = 0;

  constructor(root: RootDatabase) {
    this.received = root.openDB<ReceivedRecord, AuditKey>('audit-received', {});
    this.delivered = root.openDB<DeliveredRecord, AuditKey>('audit-delivered', {});
    this.events = root.openDB<AuditEvent, AuditKey>('audit-events', {});
  }

  private key(at: Micros): AuditKey {
    return [at, process.pid, ++this.seq];
  }

  /** Inside the commit's transaction. */
  noteReceived(record: ReceivedRecord, at: Micros = nowMicros()): void {
    this.received.putSync(this.key(at), record);
  }

  /** As a page goes out (batched into the next write transaction; see the module comment). */
  noteDelivered(record: DeliveredRecord, at: Micros = nowMicros()): Promise<boolean> {
    return this.delivered.put(this.key(at), record);
  }

  /** Inside the transaction that makes the decision or action take effect. */
  noteEvent(event: AuditEvent, at: Micros = nowMicros()): void {
    this.events.putSync(this.key(at), event);
  }

  receivedIn(range: AuditRange): Array<Timed<ReceivedRecord>> {
    return rangeOf(this.received, range);
  }

  deliveredIn(range: AuditRange): Array<Timed<DeliveredRecord>> {
    return rangeOf(this.delivered, range);
  }

  eventsIn(range: AuditRange): Array<Timed<AuditEvent>> {
    return rangeOf(this.events, range);
  }

  /**
   * Removes records older than `before` (retention), at most `limit` per database in one call
   * so a long-neglected trail is pruned in bounded transactions. Returns how many were removed.
   */
  pruneBefore(before: Micros, limit = 10_000): number {
    let removed = 0;
    for (const db of [this.received, this.delivered, this.events] as Array<Database<unknown, AuditKey>>) {
      const keys = [...db.getKeys({ end: [before], limit })];
      if (keys.length === 0) continue;
      db.transactionSync(() => {
        for (const key of keys) db.removeSync(key);
      });
      removed += keys.length;
    }
    return removed;
  }

  /** Waits until every delivery record written so far is committed (tests, shutdown). */
  async flushed(): Promise<void> {
    await this.delivered.flushed;
  }
}

function rangeOf<T>(db: Database<T, AuditKey>, range: AuditRange): Array<Timed<T>> {
  const out: Array<Timed<T>> = [];
  for (const { key, value } of db.getRange({ start: [range.since], end: [range.until] })) out.push({ ...value, at: key[0] });
  return out;
}
