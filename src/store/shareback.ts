/**
 * Share-back records (issue 11): what members posted to inboxes and the processor has yet to
 * handle, the review queue, the outbox to upstream hubs, and the private map from members'
 * objects to the relay's re-issues. Every write joins the caller's transaction, so a submission
 * is accepted with its status, and an object is released with its outbox entries, review items
 * and mappings, atomically. Sole owner of:
 *
 *   sb-submissions     seq (µs, increasing)                 -> Submission
 *   sb-reviews         review id                            -> ReviewItem
 *   sb-review-decided  review id                            -> 1 (decided, not yet applied)
 *   sb-outbox          seq (µs, increasing)                 -> OutboxEntry
 *   sb-outbox-keys     [upstream, collection, id, version]  -> seq (one entry per version: exactly once)
 *   sb-outbox-pending  [upstream, collection, seq]          -> 1 (what the forwarder still has to send)
 *   sb-reissues        [attribution, original id]           -> re-issued id
 *   sb-identities      [member, identity id]                -> 1 (identities found to be the member's)
 */
import { randomUUID } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { nowMicros, type Micros } from '../stix/time.ts';

/** A version an inbox stored (or already held) for a submission. */
export interface SubmittedVersion {
  readonly id: string;
  readonly version: string;
  /** where the inbox holds it (its date_added there) */
  readonly dateAdded: Micros;
}

/** One Add Objects request to an inbox, accepted and waiting for the share-back processor. */
export interface Submission {
  readonly seq: Micros;
  /** its TAXII status resource */
  readonly statusId: string;
  readonly member: string;
  readonly apiRoot: string;
  /** the inbox collection's id */
  readonly inbox: string;
  readonly receivedAt: Micros;
  /** the versions to process, in request order (rejected input never gets here) */
  readonly versions: readonly SubmittedVersion[];
}

export interface ReviewFinding {
  readonly path: string;
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

/** What a reviewer decided; recorded at once, applied by the node's processor. */
export interface ReviewVerdict {
  readonly verdict: 'approve' | 'reject';
  /** who decided (an admin id, or `cli:<user>`) */
  readonly by: string;
  readonly at: Micros;
  readonly note?: string | undefined;
  /** the reviewer's edited version of the object (approve only) */
  readonly edited?: Record<string, unknown> | undefined;
}

export type ReviewState =
  /** waiting for a reviewer */
  | 'open'
  /** a reviewer decided; the processor has not applied it yet */
  | 'decided'
  | 'approved'
  | 'rejected'
  /** the member sent a newer version before the review ended: this one is never released */
  | 'superseded'
  /** the approval could not be applied (an invalid edit): the item is open again with this reason */
  | 'failed';

export interface ReviewItem {
  readonly id: string;
  readonly member: string;
  readonly apiRoot: string;
  readonly inbox: string;
  readonly statusId: string;
  readonly object: SubmittedVersion;
  /** `release-without`: the rest went out at once; `hold`: nothing went out */
  readonly decision: 'release-without' | 'hold';
  /** the withheld parts (release-without) */
  readonly withheld: readonly string[];
  /** why the whole object is held (hold) */
  readonly because?: string | undefined;
  readonly findings: readonly ReviewFinding[];
  readonly openedAt: Micros;
  readonly state: ReviewState;
  readonly verdict?: ReviewVerdict | undefined;
  /** what applying the verdict led to, or why it could not be applied */
  readonly outcome?: string | undefined;
  readonly closedAt?: Micros | undefined;
}

/** Where forwarded objects go: a writable collection of a configured upstream. */
export interface OutboxTarget {
  /** the upstream's name in the configuration */
  readonly upstream: string;
  /** the remote collection as configured (id, alias or title) */
  readonly collection: string;
}

export type OutboxState = 'pending' | 'sent' | 'failed';

export interface OutboxEntry extends OutboxTarget {
  readonly seq: Micros;
  readonly id: string;
  /** `modified` ('' for objects without versions) */
  readonly version: string;
  /** the object as the hub receives it (anonymized per consent) */
  readonly json: string;
  /** whose share it is (never shown to other members) */
  readonly member: string;
  readonly enqueuedAt: Micros;
  readonly state: OutboxState;
  readonly attempts: number;
  /** the last error, or the hub's message for a failure */
  readonly lastError?: string | undefined;
  /** the hub's status resource for the request that carried it */
  readonly upstreamStatus?: string | undefined;
  readonly settledAt?: Micros | undefined;
}

export type OutboxOutcome =
  | { readonly state: 'sent'; readonly upstreamStatus?: string | undefined; readonly message?: string | undefined }
  | { readonly state: 'failed'; readonly upstreamStatus?: string | undefined; readonly message: string }
  /** not settled: tried once more, with this error */
  | { readonly state: 'retry'; readonly message: string; readonly upstreamStatus?: string | undefined };

type OutboxKey = [upstream: string, collection: string, id: string, version: string];
type PendingKey = [upstream: string, collection: string, seq: Micros];
type ReissueKey = [attribution: string, originalId: string];

export class ShareBackRecords {
  private readonly submissions: Database<Submission, Micros>;
  private readonly reviews: Database<ReviewItem, string>;
  private readonly decided: Database<1, string>;
  private readonly outbox: Database<OutboxEntry, Micros>;
  private readonly outboxKeys: Database<Micros, OutboxKey>;
  private readonly outboxPending: Database<1, PendingKey>;
  private readonly reissues: Database<string, ReissueKey>;
  private readonly identities: Database<1, [member: string, identityId: string]>;
  private lastSeq: Micros = 0;

  constructor(root: RootDatabase) {
    this.submissions = root.openDB<Submission, Micros>('sb-submissions', {});
    this.reviews = root.openDB<ReviewItem, string>('sb-reviews', {});
    this.decided = root.openDB<1, string>('sb-review-decided', {});
    this.outbox = root.openDB<OutboxEntry, Micros>('sb-outbox', {});
    this.outboxKeys = root.openDB<Micros, OutboxKey>('sb-outbox-keys', {});
    this.outboxPending = root.openDB<1, PendingKey>('sb-outbox-pending', {});
    this.reissues = root.openDB<string, ReissueKey>('sb-reissues', {});
    this.identities = root.openDB<1, [string, string]>('sb-identities', {});
  }

  /** A sequence number above every one handed out before (in this process and in the files). */
  private nextSeq(): Micros {
    if (this.lastSeq === 0) {
      for (const db of [this.submissions, this.outbox])
        for (const key of db.getKeys({ reverse: true, limit: 1 })) this.lastSeq = Math.max(this.lastSeq, key);
    }
    const now = nowMicros();
    this.lastSeq = now > this.lastSeq ? now : this.lastSeq + 1;
    return this.lastSeq;
  }

  // ---- submissions

  /** Queues a submission for the processor (inside the transaction that stored its objects). */
  addSubmission(submission: Omit<Submission, 'seq'>): Submission {
    const stored = { ...submission, seq: this.nextSeq() };
    this.submissions.putSync(stored.seq, stored);
    return stored;
  }

  /** The oldest submission not yet processed. */
  nextSubmission(): Submission | undefined {
    for (const { value } of this.submissions.getRange({ limit: 1 })) return value;
    return undefined;
  }

  removeSubmission(seq: Micros): void {
    this.submissions.removeSync(seq);
  }

  submissionCount(): number {
    return this.submissions.getCount();
  }

  // ---- reviews

  /** Opens a review item; one per member version (a repeated submission does not open another). */
  openReview(item: Omit<ReviewItem, 'id' | 'openedAt' | 'state'>): ReviewItem {
    const existing = this.findReview(item.member, item.object.id, item.object.version);
    if (existing) return existing;
    const opened: ReviewItem = { ...item, id: randomUUID(), openedAt: nowMicros(), state: 'open' };
    this.reviews.putSync(opened.id, opened);
    return opened;
  }

  review(id: string): ReviewItem | undefined {
    return this.reviews.get(id);
  }

  private findReview(member: string, objectId: string, version: string): ReviewItem | undefined {
    for (const { value } of this.reviews.getRange()) {
      if (value.member === member && value.object.id === objectId && value.object.version === version) return value;
    }
    return undefined;
  }

  /** Review items, oldest first; `states` narrows them. */
  listReviews(filter: { states?: readonly ReviewState[]; member?: string } = {}): ReviewItem[] {
    const out: ReviewItem[] = [];
    for (const { value } of this.reviews.getRange()) {
      if (filter.states && !filter.states.includes(value.state)) continue;
      if (filter.member !== undefined && value.member !== filter.member) continue;
      out.push(value);
    }
    return out.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  }

  /** The open items of a member's object (any of its versions), for superseding them. */
  openReviewsOf(member: string, objectId: string): ReviewItem[] {
    return this.listReviews({ states: ['open', 'failed'], member }).filter((r) => r.object.id === objectId);
  }

  /**
   * Records a reviewer's verdict on an open item; the processor applies it. Returns the item,
   * or a reason it cannot be decided (unknown, or already decided).
   */
  decide(id: string, verdict: ReviewVerdict): { item: ReviewItem } | { problem: string } {
    const item = this.reviews.get(id);
    if (!item) return { problem: `no review item ${id}` };
    if (item.state !== 'open' && item.state !== 'failed') return { problem: `review item ${id} is ${item.state}, not open` };
    const decided: ReviewItem = { ...item, state: 'decided', verdict };
    this.reviews.putSync(id, decided);
    this.decided.putSync(id, 1);
    return { item: decided };
  }

  /** Decided items the processor has not applied yet, oldest verdict first. */
  decidedReviews(): ReviewItem[] {
    const out: ReviewItem[] = [];
    for (const id of this.decided.getKeys()) {
      const item = this.reviews.get(id);
      if (item) out.push(item);
    }
    return out.sort((a, b) => (a.verdict?.at ?? 0) - (b.verdict?.at ?? 0));
  }

  /** Closes an item (approved, rejected, superseded) or reopens it with a reason (failed). */
  settleReview(id: string, state: Exclude<ReviewState, 'open' | 'decided'>, outcome: string): void {
    const item = this.reviews.get(id);
    if (!item) return;
    this.reviews.putSync(id, { ...item, state, outcome, ...(state === 'failed' ? {} : { closedAt: nowMicros() }) });
    this.decided.removeSync(id);
  }

  // ---- outbox

  /**
   * Queues an object for an upstream, once per `(target, id, version)`: a version already
   * queued (pending, sent or failed) is not queued again. Returns whether it was queued.
   */
  enqueue(target: OutboxTarget, object: { id: string; version: string; json: string }, member: string): boolean {
    const key: OutboxKey = [target.upstream, target.collection, object.id, object.version];
    if (this.outboxKeys.get(key) !== undefined) return false;
    const seq = this.nextSeq();
    const entry: OutboxEntry = {
      seq,
      upstream: target.upstream,
      collection: target.collection,
      id: object.id,
      version: object.version,
      json: object.json,
      member,
      enqueuedAt: nowMicros(),
      state: 'pending',
      attempts: 0,
    };
    this.outbox.putSync(seq, entry);
    this.outboxKeys.putSync(key, seq);
    this.outboxPending.putSync([target.upstream, target.collection, seq], 1);
    return true;
  }

  /** The targets with something pending. */
  pendingTargets(): OutboxTarget[] {
    const out: OutboxTarget[] = [];
    let last: string | undefined;
    for (const [upstream, collection] of this.outboxPending.getKeys()) {
      const name = `${upstream}\u0000${collection}`;
      if (name !== last) out.push({ upstream, collection });
      last = name;
    }
    return out;
  }

  /** The oldest pending entries for one target. */
  pendingFor(target: OutboxTarget, limit: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    const range = {
      start: [target.upstream, target.collection, 0] as PendingKey,
      end: [target.upstream, target.collection, Number.MAX_SAFE_INTEGER] as PendingKey,
    };
    for (const key of this.outboxPending.getKeys({ ...range, limit })) {
      const entry = this.outbox.get(key[2]);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Records one attempt's outcome for an entry: settled (sent, failed) or left pending. */
  settleOutbox(seq: Micros, outcome: OutboxOutcome): void {
    const entry = this.outbox.get(seq);
    if (!entry || entry.state !== 'pending') return;
    const attempts = entry.attempts + 1;
    const status = outcome.upstreamStatus !== undefined ? { upstreamStatus: outcome.upstreamStatus } : {};
    if (outcome.state === 'retry') {
      this.outbox.putSync(seq, { ...entry, attempts, lastError: outcome.message, ...status });
      return;
    }
    const message = outcome.message !== undefined ? { lastError: outcome.message } : {};
    this.outbox.putSync(seq, { ...entry, state: outcome.state, attempts, settledAt: nowMicros(), ...status, ...message });
    this.outboxPending.removeSync([entry.upstream, entry.collection, seq]);
  }

  /** Notes the hub's status id for entries sent in one request (before it settles them). */
  noteUpstreamStatus(seqs: readonly Micros[], upstreamStatus: string): void {
    for (const seq of seqs) {
      const entry = this.outbox.get(seq);
      if (entry && entry.state === 'pending') this.outbox.putSync(seq, { ...entry, upstreamStatus });
    }
  }

  outboxEntry(seq: Micros): OutboxEntry | undefined {
    return this.outbox.get(seq);
  }

  /** Outbox entries, newest first; `state` and `member` narrow them. */
  listOutbox(filter: { state?: OutboxState; member?: string; limit?: number } = {}): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    const limit = filter.limit ?? Infinity;
    for (const { value } of this.outbox.getRange({ reverse: true })) {
      if (out.length >= limit) break;
      if (filter.state !== undefined && value.state !== filter.state) continue;
      if (filter.member !== undefined && value.member !== filter.member) continue;
      out.push(value);
    }
    return out;
  }

  outboxCounts(): Record<OutboxState, number> {
    const counts: Record<OutboxState, number> = { pending: 0, sent: 0, failed: 0 };
    for (const { value } of this.outbox.getRange()) counts[value.state]++;
    return counts;
  }

  // ---- re-issues

  putReissue(attribution: string, originalId: string, reissuedId: string): void {
    const key: ReissueKey = [attribution, originalId];
    if (this.reissues.get(key) !== reissuedId) this.reissues.putSync(key, reissuedId);
  }

  reissuedAs(attribution: string, originalId: string): string | undefined {
    return this.reissues.get([attribution, originalId]);
  }

  // ---- the member's identities (found in what it shared: anonymization replaces them from then on)

  rememberIdentities(member: string, identityIds: readonly string[]): void {
    for (const id of identityIds) if (this.identities.get([member, id]) === undefined) this.identities.putSync([member, id], 1);
  }

  identitiesOf(member: string): string[] {
    const out: string[] = [];
    for (const [, id] of this.identities.getKeys({ start: [member, ''], end: [member, '\uffff'] })) out.push(id);
    return out;
  }
}
