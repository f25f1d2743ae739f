/**
 * TAXII status resources [T §4.3.1] of Add Objects requests: built from an ingest report, and
 * for share-back inboxes moved on object by object as the processor (and later a reviewer)
 * settles each one. Stored with their owner (API root and member); the TAXII server serves a
 * status only to that member in that root (taxii/server/status.ts).
 */
import { formatTaxiiTimestamp, type Micros } from '../stix/time.ts';
import type { IngestReport } from './ingest.ts';

export interface StatusDetail {
  readonly id: string;
  readonly version: string;
  readonly message?: string;
}

export interface StatusResource {
  readonly id: string;
  readonly status: 'complete' | 'pending';
  readonly request_timestamp: string;
  readonly total_count: number;
  readonly success_count: number;
  readonly successes?: readonly StatusDetail[];
  readonly failure_count: number;
  readonly failures?: readonly StatusDetail[];
  readonly pending_count: number;
  readonly pendings?: readonly StatusDetail[];
}

export interface StoredStatus extends StatusResource {
  readonly api_root: string;
  readonly member: string;
  /** when the request was received (microseconds), for expiry */
  readonly received_at: Micros;
}

export const DUPLICATE_MESSAGE = 'duplicate: already in the collection';
const MAX_ECHO = 256;

function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}

/**
 * The status of one Add Objects request from the ingest report (outcomes in input order).
 * `stored` says where a stored object stands: a success (plain ingest) or pending with a
 * message (share-back: checked and released later).
 */
export function statusFromReport(
  id: string,
  requestedAt: Micros,
  report: Pick<IngestReport, 'outcomes'>,
  stored: { readonly pending?: string } = {},
): StatusResource {
  const lists: Record<ObjectState, StatusDetail[]> = { success: [], failure: [], pending: [] };
  report.outcomes.forEach((o, i) => {
    if (o.kind === 'rejected') {
      lists.failure.push({
        id: o.id !== undefined ? clip(o.id) : `(object ${i} without a valid id)`,
        version: o.version !== undefined ? clip(o.version) : '',
        message: o.reason,
      });
    } else if (o.kind === 'duplicate') {
      lists.success.push({ id: o.id, version: o.version, message: DUPLICATE_MESSAGE });
    } else if (stored.pending !== undefined) {
      lists.pending.push({ id: o.id, version: o.version, message: stored.pending });
    } else {
      lists.success.push({ id: o.id, version: o.version });
    }
  });
  return resource(id, formatTaxiiTimestamp(requestedAt), report.outcomes.length, lists);
}

export type ObjectState = 'success' | 'failure' | 'pending';

/** Where one object of a request now stands. */
export interface ObjectSettlement {
  readonly id: string;
  readonly version: string;
  readonly state: ObjectState;
  readonly message?: string | undefined;
}

/**
 * The status with these objects moved to their new list (matched by id and version; an object
 * the status does not list is ignored). The status is `complete` once nothing is pending.
 */
export function settleObjects<S extends StatusResource>(status: S, settlements: readonly ObjectSettlement[]): S {
  const key = (d: { id: string; version: string }) => `${d.id}\u0000${d.version}`;
  const moved = new Map(settlements.map((s) => [key(s), s]));
  const lists: Record<ObjectState, StatusDetail[]> = { success: [], failure: [], pending: [] };
  const place = (state: ObjectState, detail: StatusDetail) => {
    const to = moved.get(key(detail));
    if (!to) return void lists[state].push(detail);
    lists[to.state].push({ id: detail.id, version: detail.version, ...(to.message !== undefined ? { message: to.message } : {}) });
  };
  for (const d of status.successes ?? []) place('success', d);
  for (const d of status.failures ?? []) place('failure', d);
  for (const d of status.pendings ?? []) place('pending', d);
  // the old lists go: an emptied list is left out of the new resource, not kept stale
  const { successes: _s, failures: _f, pendings: _p, ...rest } = status;
  return { ...rest, ...resource(status.id, status.request_timestamp, status.total_count, lists) } as S;
}

function resource(id: string, requestTimestamp: string, total: number, lists: Record<ObjectState, StatusDetail[]>): StatusResource {
  return {
    id,
    status: lists.pending.length === 0 ? 'complete' : 'pending',
    request_timestamp: requestTimestamp,
    total_count: total,
    success_count: lists.success.length,
    ...(lists.success.length > 0 ? { successes: lists.success } : {}),
    failure_count: lists.failure.length,
    ...(lists.failure.length > 0 ? { failures: lists.failure } : {}),
    pending_count: lists.pending.length,
    ...(lists.pending.length > 0 ? { pendings: lists.pending } : {}),
  };
}
