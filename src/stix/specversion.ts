/**
 * STIX specification versions the relay knows, and the STIX media types that name them
 * (`application/stix+json;version=2.1`): a collection's `media_types` say which versions it
 * accepts and serves; a manifest record names each version's media type.
 */

export const SPEC_VERSIONS = ['2.0', '2.1'] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];

export function isSpecVersion(value: unknown): value is SpecVersion {
  return value === '2.0' || value === '2.1';
}

/** Only STIX 2.1: what a collection accepts unless its media_types name 2.0 too. */
export const ONLY_STIX_21: ReadonlySet<SpecVersion> = new Set<SpecVersion>(['2.1']);

/** Orders "major.minor" spec version strings numerically ("2.10" after "2.9"). */
export function compareSpecVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

export function stixMediaType(version: SpecVersion): string {
  return `application/stix+json;version=${version}`;
}

const STIX_MEDIA = /^application\/stix\+json\s*;\s*version\s*=\s*"?(\d+\.\d+)"?$/i;

/** The spec version a STIX media type names, or null when it is not one this relay knows. */
export function specVersionOfMediaType(text: string): SpecVersion | null {
  const version = STIX_MEDIA.exec(text.trim())?.[1];
  return isSpecVersion(version) ? version : null;
}

/** The spec versions a list of media types (a collection's `media_types`) names. */
export function specVersionsOfMediaTypes(mediaTypes: readonly string[]): ReadonlySet<SpecVersion> {
  const out = new Set<SpecVersion>();
  for (const m of mediaTypes) {
    const v = specVersionOfMediaType(m);
    if (v) out.add(v);
  }
  return out;
}

/** "2.1", "2.0 and 2.1": for messages. */
export function describeSpecVersions(versions: ReadonlySet<SpecVersion>): string {
  const list = [...versions].sort(compareSpecVersions);
  return list.length <= 1 ? (list[0] ?? 'nothing') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}
