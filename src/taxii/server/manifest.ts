/** Manifest resources [T §5.3.1]: one record per object version, built as text. */
import { isSpecVersion, stixMediaType } from '../../stix/specversion.ts';
import { formatTaxiiTimestamp } from '../../stix/time.ts';
import type { IndexEntry } from '../../store/index.ts';
import { pagingMembers } from './envelope.ts';

/** Each version's media type names the STIX version it is written in (2.0 versions are stored as received). */
const MEDIA = {
  '2.0': JSON.stringify(stixMediaType('2.0')),
  '2.1': JSON.stringify(stixMediaType('2.1')),
} as const;

export function manifestRecord(e: IndexEntry): string {
  const media = isSpecVersion(e.specVersion) ? MEDIA[e.specVersion] : JSON.stringify(`application/stix+json;version=${e.specVersion}`);
  return `{"id":${JSON.stringify(e.id)},"date_added":"${formatTaxiiTimestamp(e.dateAdded)}","version":${JSON.stringify(e.version)},"media_type":${media}}`;
}

export function manifestText(entries: readonly IndexEntry[], more: boolean, next: string | undefined): string {
  const head = pagingMembers(more, next);
  if (entries.length === 0) return `{${head}}`;
  return `{${head},"objects":[${entries.map(manifestRecord).join(',')}]}`;
}
