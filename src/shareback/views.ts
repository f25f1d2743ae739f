/**
 * What reviewers read: review items and outbox entries as JSON, the same for the admin HTTP API
 * and `relay review` / `relay outbox` (one shape, so a script written against one reads the
 * other). Pure: the caller loads the submitted object (desk.ts). Field names are snake_case and
 * times TAXII timestamps, as in the rest of the node's JSON.
 */
import { formatTaxiiTimestamp } from '../stix/time.ts';
import type { OutboxEntry, OutboxState, ReviewFinding, ReviewItem, ReviewState } from '../store/index.ts';
import { parseFindingPath, valueAt } from './parts.ts';

export const REVIEW_STATES: readonly ReviewState[] = ['open', 'decided', 'approved', 'rejected', 'superseded', 'failed'];
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'sent', 'failed'];

export interface FindingView {
  readonly path: string;
  readonly kind: string;
  readonly start: number;
  readonly end: number;
  /** the flagged text (detail view only: personal data, for the reviewer's eyes) */
  readonly text?: string;
}

export interface VerdictView {
  readonly verdict: 'approve' | 'reject';
  readonly by: string;
  readonly at: string;
  readonly note?: string;
  /** the reviewer's edited object (detail view), or whether there was one (list view) */
  readonly edited?: Record<string, unknown> | boolean;
}

export interface ReviewView {
  readonly id: string;
  readonly state: ReviewState;
  readonly member: string;
  readonly api_root: string;
  readonly inbox: string;
  readonly status_id: string;
  readonly object: { readonly id: string; readonly type: string; readonly version: string; readonly date_added: string };
  /** `release-without`: the rest went out at once; `hold`: nothing went out */
  readonly decision: ReviewItem['decision'];
  readonly withheld: readonly string[];
  /** why the whole object is held */
  readonly because?: string;
  readonly findings: readonly FindingView[];
  readonly opened_at: string;
  readonly verdict?: VerdictView;
  /** what applying the verdict led to, or why it could not be applied (state failed) */
  readonly outcome?: string;
  readonly closed_at?: string;
}

export interface ReviewDetailView extends ReviewView {
  /** the member's object as submitted (null when it is no longer in the inbox) */
  readonly submitted: Record<string, unknown> | null;
}

const typeOf = (id: string) => id.slice(0, Math.max(0, id.indexOf('--')));

function findingView(finding: ReviewFinding, submitted?: Record<string, unknown> | null): FindingView {
  const base = { path: finding.path, kind: finding.kind, start: finding.start, end: finding.end };
  if (!submitted) return base;
  const value = valueAt(submitted, parseFindingPath(finding.path));
  return typeof value === 'string' ? { ...base, text: value.slice(finding.start, finding.end) } : base;
}

function reviewView(item: ReviewItem, submitted?: Record<string, unknown> | null): ReviewView {
  const v = item.verdict;
  const detail = submitted !== undefined;
  return {
    id: item.id,
    state: item.state,
    member: item.member,
    api_root: item.apiRoot,
    inbox: item.inbox,
    status_id: item.statusId,
    object: {
      id: item.object.id,
      type: typeOf(item.object.id),
      version: item.object.version,
      date_added: formatTaxiiTimestamp(item.object.dateAdded),
    },
    decision: item.decision,
    withheld: item.withheld,
    ...(item.because !== undefined ? { because: item.because } : {}),
    findings: item.findings.map((f) => findingView(f, submitted)),
    opened_at: formatTaxiiTimestamp(item.openedAt),
    ...(v
      ? {
          verdict: {
            verdict: v.verdict,
            by: v.by,
            at: formatTaxiiTimestamp(v.at),
            ...(v.note !== undefined ? { note: v.note } : {}),
            ...(v.edited !== undefined ? { edited: detail ? v.edited : true } : {}),
          },
        }
      : {}),
    ...(item.outcome !== undefined ? { outcome: item.outcome } : {}),
    ...(item.closedAt !== undefined ? { closed_at: formatTaxiiTimestamp(item.closedAt) } : {}),
  };
}

/** A review item in a list: no personal data beyond where it is (paths, kinds, spans). */
export function reviewSummary(item: ReviewItem): ReviewView {
  return reviewView(item);
}

/** One review item for a reviewer: the submitted object, the flagged texts, an edited object. */
export function reviewDetail(item: ReviewItem, submitted: Record<string, unknown> | null): ReviewDetailView {
  return { ...reviewView(item, submitted), submitted };
}

export interface OutboxEntryView {
  readonly seq: number;
  readonly upstream: string;
  readonly collection: string;
  readonly id: string;
  readonly version: string;
  readonly member: string;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly enqueued_at: string;
  readonly last_error?: string;
  readonly upstream_status?: string;
  readonly settled_at?: string;
}

export function outboxEntryView(entry: OutboxEntry): OutboxEntryView {
  return {
    seq: entry.seq,
    upstream: entry.upstream,
    collection: entry.collection,
    id: entry.id,
    version: entry.version,
    member: entry.member,
    state: entry.state,
    attempts: entry.attempts,
    enqueued_at: formatTaxiiTimestamp(entry.enqueuedAt),
    ...(entry.lastError !== undefined ? { last_error: entry.lastError } : {}),
    ...(entry.upstreamStatus !== undefined ? { upstream_status: entry.upstreamStatus } : {}),
    ...(entry.settledAt !== undefined ? { settled_at: formatTaxiiTimestamp(entry.settledAt) } : {}),
  };
}

export interface OutboxView {
  /** every entry by state (not narrowed by the filter) */
  readonly counts: Readonly<Record<OutboxState, number>>;
  /** newest first */
  readonly entries: readonly OutboxEntryView[];
}
