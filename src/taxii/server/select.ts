/**
 * Selecting one page of index entries for a query: the only place that reads the store's
 * indexes for the object, manifest and versions endpoints. Filters run on index entries, never
 * on bodies. Two paths:
 *   - a collection range scan (Store.scan) bounded by a scan budget, so sparse queries stay
 *     bounded per request on any collection size;
 *   - an id lookup (Store.versionsOf) when the query names a few ids (match[id], one-object
 *     endpoints), which never touches the rest of the collection.
 * `first` / `last` are the object's oldest / newest version in the collection (by instant),
 * whatever added_after says: `added_after=T` with the default `last` gives the newest version
 * of each object if that version was added after T. Where an object is held in STIX 2.0 and
 * 2.1, they are taken among the versions of the requested spec versions (specversions.ts).
 */
import type { Micros } from '../../stix/time.ts';
import type { IndexEntry, ScanResult, Store } from '../../store/index.ts';
import type { TaxiiQuery } from './filters.ts';
import { versionTest, type SpecScope, type VersionOrder } from './specversions.ts';

export type { VersionOrder } from './specversions.ts';

export interface Selection {
  readonly collection: string;
  /** resume after this date_added (max of added_after and the next token's position) */
  readonly after: Micros;
  readonly limit: number;
  readonly query: Pick<TaxiiQuery, 'ids' | 'types' | 'versions' | 'specVersions'>;
  /** the spec versions the requested collection serves, and whether its index mixes them */
  readonly specScope: SpecScope;
  /** index entries examined at most per page on the scan path */
  readonly scanBudget: number;
  /** member policy (taxii/server/policy.ts): runs after the query's own filters */
  readonly policy?: (entry: IndexEntry) => boolean;
  /**
   * When the policy admits only some sectors: the sector-index keys to read instead of the whole
   * collection (the policy still decides every entry they yield).
   */
  readonly filing?: readonly string[] | undefined;
}

/** At or below this many ids, look them up instead of scanning the collection. */
export const ID_LOOKUP_MAX = 100;

export function defaultScanBudget(limit: number): number {
  return Math.max(10_000, 20 * limit);
}

/**
 * The filter for one entry. Cheap tests first; the version test may read the store; the
 * member's policy last (it may look up referenced objects or redact a body).
 */
export function entryFilter(
  query: Selection['query'],
  specScope: SpecScope,
  order: VersionOrder,
  policy?: (entry: IndexEntry) => boolean,
): (entry: IndexEntry) => boolean {
  const { ids, types } = query;
  const selected = versionTest(query, specScope, order);
  return (entry) =>
    (ids === null || ids.has(entry.id)) &&
    (types === null || types.has(entry.type)) &&
    selected(entry) &&
    (policy === undefined || policy(entry));
}

/**
 * Version order from the flags the store keeps on each index entry (no extra reads); an
 * object's whole version list is read only when spec versions mix, once per page.
 */
export function indexVersionOrder(store: Store, collection: string): VersionOrder {
  const lists = new Map<string, readonly IndexEntry[]>();
  return {
    isFirst: (e) => e.isFirst,
    isLast: (e) => e.isLast,
    versionsOf: (id) => {
      let list = lists.get(id);
      if (list === undefined) {
        if (lists.size >= 10_000) lists.clear(); // a page examines a bounded number of entries anyway
        list = store.versionsOf(collection, id);
        lists.set(id, list);
      }
      return list;
    },
  };
}

/** Version order from complete version lists (oldest first), keyed by object id. */
export function listVersionOrder(versionsById: ReadonlyMap<string, readonly IndexEntry[]>): VersionOrder {
  const end = (e: IndexEntry, pick: (list: readonly IndexEntry[]) => IndexEntry | undefined) => {
    const list = versionsById.get(e.id);
    return list !== undefined && pick(list)?.versionKey === e.versionKey;
  };
  return {
    isFirst: (e) => end(e, (l) => l[0]),
    isLast: (e) => end(e, (l) => l[l.length - 1]),
    versionsOf: (id) => versionsById.get(id) ?? [],
  };
}

export function selectPage(store: Store, s: Selection): ScanResult {
  if (s.query.ids !== null && s.query.ids.size <= ID_LOOKUP_MAX) return selectByIds(store, s, s.query.ids);
  if (s.filing !== undefined) {
    return store.index.scanFiled({
      collection: s.collection,
      after: s.after,
      limit: s.limit,
      accept: entryFilter(s.query, s.specScope, indexVersionOrder(store, s.collection), s.policy),
      maxScanned: s.scanBudget,
      keys: s.filing,
    });
  }
  return store.index.scan({
    collection: s.collection,
    after: s.after,
    limit: s.limit,
    accept: entryFilter(s.query, s.specScope, indexVersionOrder(store, s.collection), s.policy),
    maxScanned: s.scanBudget,
  });
}

function selectByIds(store: Store, s: Selection, ids: ReadonlySet<string>): ScanResult {
  const byId = new Map<string, IndexEntry[]>();
  for (const id of ids) byId.set(id, store.versionsOf(s.collection, id)); // oldest version first
  const accept = entryFilter(s.query, s.specScope, listVersionOrder(byId), s.policy);
  const matching: IndexEntry[] = [];
  for (const versions of byId.values()) {
    for (const e of versions) if (e.dateAdded > s.after && accept(e)) matching.push(e);
  }
  matching.sort((a, b) => a.dateAdded - b.dateAdded);
  const entries = matching.slice(0, s.limit);
  const tail = entries[entries.length - 1];
  return { entries, more: matching.length > s.limit, resumeAfter: tail ? tail.dateAdded : s.after };
}
