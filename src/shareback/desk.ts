/**
 * The review desk: what a reviewer does with the review queue, over the store — list, show,
 * approve, reject — and what the outbox holds. The admin HTTP API and `relay review` both call
 * these, so both record the same verdicts and print the same views (views.ts). A verdict is
 * only recorded here; the node's share-back processor applies it (at once when nudged, else
 * within its poll interval).
 */
import { nowMicros } from '../stix/time.ts';
import type { OutboxState, ReviewItem, ReviewState, ReviewVerdict, Store } from '../store/index.ts';
import { outboxEntryView, reviewDetail, reviewSummary, type OutboxView, type ReviewDetailView, type ReviewView } from './views.ts';

/** No review item has this id. */
export class UnknownReviewError extends Error {
  override readonly name = 'UnknownReviewError';
  constructor(readonly reviewId: string) {
    super(`no review item "${reviewId}"`);
  }
}

/** The item was already decided (or closed): a verdict stands once recorded. */
export class ReviewClosedError extends Error {
  override readonly name = 'ReviewClosedError';
  constructor(
    readonly reviewId: string,
    readonly state: ReviewState,
  ) {
    super(`review item "${reviewId}" is ${state}: only an open (or failed) item can be decided`);
  }
}

/** An edited object that is plainly not an edit of the reviewed one (the processor checks the rest). */
export class InvalidEditError extends Error {
  override readonly name = 'InvalidEditError';
}

export interface ReviewFilter {
  readonly states?: readonly ReviewState[] | undefined;
  readonly member?: string | undefined;
}

export function listReviews(store: Store, filter: ReviewFilter = {}): ReviewView[] {
  return store.shareback
    .listReviews({
      ...(filter.states !== undefined ? { states: filter.states } : {}),
      ...(filter.member !== undefined ? { member: filter.member } : {}),
    })
    .map(reviewSummary);
}

/** One item with the member's object as submitted; UnknownReviewError when there is none. */
export function showReview(store: Store, id: string): ReviewDetailView {
  const item = store.shareback.review(id);
  if (!item) throw new UnknownReviewError(id);
  return reviewDetail(item, submittedObject(store, item));
}

/** The member's object as the inbox holds it (null when it is gone). */
function submittedObject(store: Store, item: ReviewItem): Record<string, unknown> | null {
  const record = store.index.get(item.inbox, item.object.dateAdded);
  const text = record ? store.bodyOf(record) : undefined;
  return text === undefined ? null : (JSON.parse(text) as Record<string, unknown>);
}

export interface Decision {
  /** who decides: an admin id, or `cli:<user>` */
  readonly by: string;
  readonly note?: string | undefined;
  /** approve only: the reviewer's edited object (text edits; the processor validates it) */
  readonly edited?: Record<string, unknown> | undefined;
}

/**
 * Records a verdict in one write transaction: of two reviewers deciding at once (the API and the
 * CLI, two processes), one wins and the other gets ReviewClosedError.
 */
export function decideReview(store: Store, id: string, verdict: 'approve' | 'reject', decision: Decision): ReviewView {
  const recorded: ReviewVerdict = {
    verdict,
    by: decision.by,
    at: nowMicros(),
    ...(decision.note !== undefined ? { note: decision.note } : {}),
    ...(verdict === 'approve' && decision.edited !== undefined ? { edited: decision.edited } : {}),
  };
  const item = store.transaction(() => {
    const current = store.shareback.review(id);
    if (!current) throw new UnknownReviewError(id);
    if (current.state !== 'open' && current.state !== 'failed') throw new ReviewClosedError(id, current.state);
    const editedId = recorded.edited?.id;
    if (recorded.edited !== undefined && editedId !== current.object.id) {
      throw new InvalidEditError(`the edited object's id is ${JSON.stringify(editedId)}, not the reviewed ${current.object.id}`);
    }
    const result = store.shareback.decide(id, recorded);
    if ('problem' in result) throw new ReviewClosedError(id, current.state);
    // the audit trail keeps who decided what, even after the review item is pruned
    store.audit.noteEvent({
      action: 'review.decided',
      actor: recorded.by,
      subject: id,
      detail: {
        verdict,
        member: current.member,
        object: current.object.id,
        version: current.object.version,
        edited: recorded.edited !== undefined,
      },
    });
    return result.item;
  });
  return reviewSummary(item);
}

export interface OutboxFilter {
  readonly state?: OutboxState | undefined;
  readonly member?: string | undefined;
  readonly limit?: number | undefined;
}

export function outboxView(store: Store, filter: OutboxFilter = {}): OutboxView {
  const entries = store.shareback.listOutbox({
    ...(filter.state !== undefined ? { state: filter.state } : {}),
    ...(filter.member !== undefined ? { member: filter.member } : {}),
    ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
  });
  return { counts: store.shareback.outboxCounts(), entries: entries.map(outboxEntryView) };
}
