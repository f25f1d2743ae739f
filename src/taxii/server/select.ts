/**
 * Selecting one page of index entries for a query: the only place that reads the store's
 * indexes for the object, manifest and versions endpoints. Filters run on index entries, never
 * on bodies. Two paths:
 *   - a collection range scan (Store.scan) bounded by a scan budget, so sparse queries stay
 *     bounded per request on any collection size;
 *   - an id lookup (Store.versionsOf) when the query names a few ids (match[id], one-object
 *     endpoints), which never touches the rest of the collection.
 */
import type { Micros } from '../../stix/time.ts';
import type { IndexEntry, ScanResult, Store } from '../../store/index.ts';
import type { TaxiiQuery, VersionMatch } from './filters.ts';

export interface Selection {
  readonly collection: string;
  /** resume after this date_added (max of added_after and the next token's position) */
  readonly after: Micros;
  readonly limit: number;
  readonly query: Pick<TaxiiQuery, 'ids' | 'types' | 'versions' | 'specVersions'>;
  /** index entries examined at most per page on the scan path */
  readonly scanBudget: number;
}

/** At or below this many ids, look them up instead of scanning the collection. */
export const ID_LOOKUP_MAX = 100;

export function defaultScanBudget(limit: number): number {
  return Math.max(10_000, 20 * limit);
}

type Bounds = { first: string; last: string } | null;

/** Whether an entry's version is selected, given the object's oldest/newest version keys. */
export function versionSelected(match: VersionMatch, versionKey: string, bounds: () => Bounds): boolean {
  if (match.all) return true;
  if (match.keys.has(versionKey)) return true;
  if (!match.first && !match.last) return false;
  const b = bounds();
  if (!b) return false;
  return (match.first && b.first === versionKey) || (match.last && b.last === versionKey);
}

/** The filter for one entry; `boundsOf` gives an object's first/last version keys. */
export function entryFilter(
  query: Selection['query'],
  boundsOf: (id: string) => Bounds,
): (entry: IndexEntry) => boolean {
  const { ids, types, specVersions, versions } = query;
  return (entry) =>
    (ids === null || ids.has(entry.id)) &&
    (types === null || types.has(entry.type)) &&
    (specVersions === null || specVersions.has(entry.specVersion)) &&
    versionSelected(versions, entry.versionKey, () => boundsOf(entry.id));
}

export function selectPage(store: Store, s: Selection): ScanResult {
  if (s.query.ids !== null && s.query.ids.size <= ID_LOOKUP_MAX) return selectByIds(store, s, s.query.ids);
  const cache = new Map<string, Bounds>();
  const boundsOf = (id: string): Bounds => {
    let b = cache.get(id);
    if (b === undefined) {
      b = store.versionBounds(s.collection, id);
      if (cache.size < 10_000) cache.set(id, b);
    }
    return b;
  };
  return store.scan({
    collection: s.collection,
    after: s.after,
    limit: s.limit,
    accept: entryFilter(s.query, boundsOf),
    maxScanned: s.scanBudget,
  });
}

function selectByIds(store: Store, s: Selection, ids: ReadonlySet<string>): ScanResult {
  const candidates: IndexEntry[] = [];
  const bounds = new Map<string, Bounds>();
  for (const id of ids) {
    const versions = store.versionsOf(s.collection, id); // oldest version first
    const first = versions[0];
    const last = versions[versions.length - 1];
    bounds.set(id, first && last ? { first: first.versionKey, last: last.versionKey } : null);
    for (const e of versions) if (e.dateAdded > s.after) candidates.push(e);
  }
  const accept = entryFilter(s.query, (id) => bounds.get(id) ?? null);
  const matching = candidates.filter(accept).sort((a, b) => a.dateAdded - b.dateAdded);
  const entries = matching.slice(0, s.limit);
  const tail = entries[entries.length - 1];
  return { entries, more: matching.length > s.limit, resumeAfter: tail ? tail.dateAdded : s.after };
}
