/**
 * Where the sector index files an entry, and which of its keys a member's scan reads: the rule
 * that lets a sparse member view read its matches instead of the whole collection. The store
 * keeps the keys it is given (an entry's `filing`); this module decides them.
 *
 *   - an entry whose own markings keep it from every member (AMBER+STRICT, RED, unknown) is
 *     filed nowhere: no member's scan needs it;
 *   - marking and extension definitions are filed under the every-reader key, which every sector
 *     scan reads (they reach every reader whatever its sectors);
 *   - a relationship or sighting under the narrowest sector set a member must meet to receive it
 *     (linked.ts narrowestOf): nowhere while an end is absent or never redistributed;
 *   - any other entry under each of its sectors, or the unscoped key when it has none.
 */
import { FILING, type VersionFacts } from '../stix/attributes.ts';
import { neverRedistributed, reachesEveryReader } from './decide.ts';
import { isSro } from './derive.ts';

/**
 * The filing keys of a version with these (derived) sectors; `narrowest` for relationships and
 * sightings (linked.ts narrowestOf: null while an end is absent or never redistributed).
 */
export function filingOf(type: string, facts: VersionFacts, sectors: readonly string[], narrowest?: readonly string[] | null): string[] {
  if (neverRedistributed(facts.tlp)) return [];
  if (reachesEveryReader(type)) return [FILING.everyReader];
  if (isSro(type)) {
    if (narrowest === undefined || narrowest === null) return [];
    return narrowest.length > 0 ? [...narrowest] : [FILING.unscoped];
  }
  return sectors.length > 0 ? [...sectors] : [FILING.unscoped];
}

/**
 * Filing when a version is stored, before the re-indexer derives what its links give it: its own
 * sectors; relationships and sightings nowhere until their ends are looked at.
 */
export function initialFiling(type: string, facts: VersionFacts): string[] {
  return filingOf(type, facts, facts.ownSectors, isSro(type) ? null : undefined);
}

/** The keys a scan for a member (or view) taking these sectors reads: its sectors, the unscoped key when it takes unscoped objects, and every-reader. */
export function scanKeys(sectors: readonly string[], unscoped: boolean): string[] {
  const keys = new Set(sectors.filter((s) => s !== FILING.unscoped && s !== FILING.everyReader));
  if (unscoped) keys.add(FILING.unscoped);
  keys.add(FILING.everyReader);
  return [...keys];
}
