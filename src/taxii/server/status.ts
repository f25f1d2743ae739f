/**
 * Status resources [T §4.3.1] as the TAXII server serves them: only to the member that made the
 * request, in the API root it was made in, until the retention period ends (then 404). The
 * resource itself is built and moved on by ingest/status.ts.
 */
import type { Micros } from '../../stix/time.ts';
import type { StatusResource, StoredStatus } from '../../ingest/index.ts';

export { DUPLICATE_MESSAGE, statusFromReport, type StatusDetail, type StatusResource, type StoredStatus } from '../../ingest/index.ts';

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
