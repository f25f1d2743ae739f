/** Manifest resources [T §5.3.1]: one record per object version, built as text. */
import { formatTaxiiTimestamp } from '../../stix/time.ts';
import type { IndexEntry } from '../../store/index.ts';
import { pagingMembers } from './envelope.ts';
import { STIX_MEDIA_TYPE } from './media.ts';

const MEDIA = JSON.stringify(STIX_MEDIA_TYPE);

export function manifestRecord(e: IndexEntry): string {
  return `{"id":${JSON.stringify(e.id)},"date_added":"${formatTaxiiTimestamp(e.dateAdded)}","version":${JSON.stringify(e.version)},"media_type":${MEDIA}}`;
}

export function manifestText(entries: readonly IndexEntry[], more: boolean, next: string | undefined): string {
  const head = pagingMembers(more, next);
  if (entries.length === 0) return `{${head}}`;
  return `{${head},"objects":[${entries.map(manifestRecord).join(',')}]}`;
}
