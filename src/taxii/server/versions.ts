/**
 * Versions resources [T §5.8.1]. A page is selected in date_added order (so added_after, next
 * and the X-TAXII headers work as on the other endpoints); within the page the version strings
 * are sorted oldest to newest as instants. When every version fits one page (the usual case)
 * the whole list is therefore in version order.
 *
 * The spec's versions resource has no `next` member; the endpoint accepts `next`, so this
 * server includes it when `more` is true (clients that do not know it page with added_after).
 */
import type { IndexEntry } from '../../store/index.ts';
import { pagingMembers } from './envelope.ts';

export function versionsText(entries: readonly IndexEntry[], more: boolean, next: string | undefined): string {
  const head = pagingMembers(more, next);
  if (entries.length === 0) return `{${head}}`;
  const sorted = [...entries].sort((a, b) => (a.versionKey < b.versionKey ? -1 : a.versionKey > b.versionKey ? 1 : 0));
  return `{${head},"versions":[${sorted.map((e) => JSON.stringify(e.version)).join(',')}]}`;
}
