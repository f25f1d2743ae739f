/**
 * match[spec_version] and match[version] together [T §3.4.1]: which versions of an object a
 * request selects when the collection may hold it in STIX 2.0 and 2.1.
 *
 * For each object, over its versions in the collection (before added_after and member policy,
 * like first / last always were):
 *   1. the versions the requested collection serves: those whose spec version its media_types
 *      name (a 2.1-only view over a 2.0+2.1 collection serves the 2.1 versions only);
 *   2. of those, the requested spec versions: the listed ones, or by default only the latest
 *      spec version the object is held in (TAXII's default), or on DELETE any;
 *   3. match[version] among what remains: `last` / `first` are the newest / oldest of those
 *      versions, timestamps pick exact versions, `all` keeps them all.
 * So with the medallion malware (2.1 version of 2017, 2.0 version of 2018) a plain request
 * gets the 2017 2.1 version, `match[spec_version]=2.0` the 2018 one, and
 * `match[spec_version]=2.0,2.1` the 2018 one (the newest of both).
 *
 * Cost: an object held in one spec version only (every object of a collection that accepts
 * one) is decided from its index entry's first / last flags, as before. In a collection that
 * accepts both, an entry whose answer the flags cannot give (a 2.0 entry under the default; a
 * version that is not the object's first / last overall under first / last) reads the object's
 * version list once per page.
 */
import type { CollectionConfig } from '../../config/index.ts';
import { compareSpecVersions, specVersionsOfMediaTypes } from '../../stix/specversion.ts';
import type { IndexEntry } from '../../store/index.ts';
import type { SpecVersionMatch, VersionMatch } from './filters.ts';

/** Which spec versions a request may see in a collection. */
export interface SpecScope {
  /** the spec versions the requested collection serves (its media_types) */
  readonly served: ReadonlySet<string>;
  /**
   * whether the collection whose index is read (a view's source) accepts several spec
   * versions, so one object may be held in more than one
   */
  readonly mixed: boolean;
}

/** How to tell an object's oldest / newest version, and read all of them when that is not enough. */
export interface VersionOrder {
  readonly isFirst: (entry: IndexEntry) => boolean;
  readonly isLast: (entry: IndexEntry) => boolean;
  /** the object's versions in the collection, oldest first */
  readonly versionsOf: (id: string) => readonly IndexEntry[];
}

/** The scope of a request to `collection`, reading the index of `indexCollection` (itself, or a view's source). */
export function specScope(
  collection: Pick<CollectionConfig, 'media_types'>,
  indexCollection: Pick<CollectionConfig, 'media_types'>,
): SpecScope {
  return {
    served: specVersionsOfMediaTypes(collection.media_types),
    mixed: specVersionsOfMediaTypes(indexCollection.media_types).size > 1,
  };
}

/** Whether match[spec_version] and match[version] select an index entry (see the header). */
export function versionTest(
  query: { readonly versions: VersionMatch; readonly specVersions: SpecVersionMatch },
  scope: SpecScope,
  order: VersionOrder,
): (entry: IndexEntry) => boolean {
  const { versions, specVersions: spec } = query;
  const wanted = (s: string) => scope.served.has(s) && (spec.kind !== 'listed' || spec.values.has(s));
  const highestServed = [...scope.served].sort(compareSpecVersions).at(-1);
  return (entry) => {
    if (!wanted(entry.specVersion)) return false;
    if (!scope.mixed) return versionSelected(versions, entry, order);
    let held: readonly IndexEntry[] | undefined;
    const all = () => (held ??= order.versionsOf(entry.id));
    // The default keeps the latest spec version the object is held in (among those served);
    // an entry in the highest served version is in it without looking.
    let latest: string | undefined;
    if (spec.kind === 'latest' && entry.specVersion !== highestServed) {
      latest = all()
        .map((v) => v.specVersion)
        .filter((s) => scope.served.has(s))
        .sort(compareSpecVersions)
        .at(-1);
      if (latest !== entry.specVersion) return false;
    }
    if (versionSelected(versions, entry, order)) return true; // newest / oldest of all is newest / oldest of any part
    if (versions.all || (!versions.first && !versions.last)) return false;
    const candidates = all().filter((v) => wanted(v.specVersion) && (spec.kind !== 'latest' || v.specVersion === entry.specVersion));
    const isThis = (v: IndexEntry | undefined) => v !== undefined && v.versionKey === entry.versionKey;
    return (versions.last && isThis(candidates.at(-1))) || (versions.first && isThis(candidates[0]));
  };
}

export function versionSelected(match: VersionMatch, entry: IndexEntry, order: Pick<VersionOrder, 'isFirst' | 'isLast'>): boolean {
  if (match.all) return true;
  if (match.keys.has(entry.versionKey)) return true;
  return (match.last && order.isLast(entry)) || (match.first && order.isFirst(entry));
}
