/**
 * Status resources [T §4.3.1] for Add Objects. Ingest is synchronous, so every status is
 * `complete` when it is first returned. Stored with its owner (API root and member) and served
 * only to that member in that root; after the retention period it is gone (404).
 */
import { formatTaxiiTimestamp, type Micros } from '../../stix/time.ts';
import type { IngestReport } from '../../ingest/index.ts';

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

/** The status of one Add Objects request from the ingest report (outcomes in input order). */
export function statusFromReport(id: string, requestedAt: Micros, report: IngestReport): StatusResource {
  const successes: StatusDetail[] = [];
  const failures: StatusDetail[] = [];
  report.outcomes.forEach((o, i) => {
    if (o.kind === 'rejected') {
      failures.push({
        id: o.id !== undefined ? clip(o.id) : `(object ${i} without a valid id)`,
        version: o.version !== undefined ? clip(o.version) : '',
        message: o.reason,
      });
    } else if (o.kind === 'duplicate') {
      successes.push({ id: o.id, version: o.version, message: DUPLICATE_MESSAGE });
    } else {
      successes.push({ id: o.id, version: o.version });
    }
  });
  return {
    id,
    status: 'complete',
    request_timestamp: formatTaxiiTimestamp(requestedAt),
    total_count: report.outcomes.length,
    success_count: successes.length,
    ...(successes.length > 0 ? { successes } : {}),
    failure_count: failures.length,
    ...(failures.length > 0 ? { failures } : {}),
    pending_count: 0,
  };
}

/** The stored status as the given member may see it, or null (absent, foreign or expired). */
export function visibleStatus(
  stored: unknown,
  apiRoot: string,
  member: string,
  now: Micros,
  retentionHours: number,
): StatusResource | null {
  if (!stored || typeof stored !== 'object') return null;
  const s = stored as StoredStatus;
  if (s.api_root !== apiRoot || s.member !== member) return null;
  if (typeof s.received_at !== 'number' || now - s.received_at > retentionHours * 3_600_000_000) return null;
  const { api_root: _r, member: _m, received_at: _t, ...resource } = s;
  return resource;
}
