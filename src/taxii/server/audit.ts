/** What the audit trail keeps of a page of objects served to a member (store/audit.ts). */
import type { DeliveredRecord, IndexEntry } from '../../store/index.ts';

export const NO_SECTOR = '(none)';

/** A page's record: its count, date_added range, and counts per TLP and per sector; undefined for an empty page. */
export function deliveryRecord(
  member: string,
  apiRoot: string,
  collection: string,
  entries: readonly IndexEntry[],
): DeliveredRecord | undefined {
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (!first || !last) return undefined;
  const tlp: Record<string, number> = {};
  const sectors: Record<string, number> = {};
  for (const e of entries) {
    const level = e.attributes.tlp.kind === 'tlp' ? e.attributes.tlp.level : e.attributes.tlp.kind;
    tlp[level] = (tlp[level] ?? 0) + 1;
    const own = e.attributes.sectors.length > 0 ? e.attributes.sectors : [NO_SECTOR];
    for (const s of own) sectors[s] = (sectors[s] ?? 0) + 1;
  }
  return { member, apiRoot, collection, count: entries.length, firstAdded: first.dateAdded, lastAdded: last.dateAdded, tlp, sectors };
}
