/**
 * Query parameters [T §3.4]: parsed and validated into a typed query. Pure.
 *
 * Choices (see the report / docs/ARCHITECTURE.md):
 *   - A parameter the endpoint does not support (per the table in standards.md 1.6) is ignored,
 *     as are unknown parameters and unknown match[...] fields (the spec: MAY ignore).
 *   - A supported parameter given twice -> 400; a malformed value -> 400.
 *   - limit: positive integer; above the server maximum it is clamped, not refused.
 *   - match[version]: first, last, all, or STIX timestamps (compared as instants); `all` must be
 *     alone; no keyword or instant may repeat. Default `last` (objects, manifest, one object);
 *     `all` on DELETE (delete every version unless told otherwise) and on versions (no filter).
 *   - match[spec_version]: "n.m" values. Default: the latest spec version held per object on the
 *     read endpoints (specversions.ts says how that meets match[version]); every spec version on
 *     DELETE (delete every version unless told otherwise, like match[version]).
 */
import { parseTaxiiTimestamp, stixTimestampKey, type Micros } from '../../stix/time.ts';
import { badRequest } from './errors.ts';

export type Endpoint = 'objects' | 'manifest' | 'object' | 'versions' | 'delete';

export type VersionMatch =
  { readonly all: true } | { readonly all: false; readonly first: boolean; readonly last: boolean; readonly keys: ReadonlySet<string> };

/**
 * match[spec_version]: the listed values; absent, the latest spec version each object is held
 * in (read endpoints) or any (DELETE).
 */
export type SpecVersionMatch =
  { readonly kind: 'listed'; readonly values: ReadonlySet<string> } | { readonly kind: 'latest' } | { readonly kind: 'any' };

export interface TaxiiQuery {
  /** exclusive lower bound on date_added, microseconds */
  readonly addedAfter: Micros | null;
  readonly limit: number;
  readonly next: string | null;
  readonly ids: ReadonlySet<string> | null;
  readonly types: ReadonlySet<string> | null;
  readonly versions: VersionMatch;
  readonly specVersions: SpecVersionMatch;
}

export interface PageSettings {
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

/** Cap on values per match field (a filter with thousands of ids is refused). */
export const MAX_MATCH_VALUES = 100;
/**
 * Longest STIX identifier: a type name (at most 250 characters), "--" and a UUID. Longer
 * match[id] values are refused; longer object ids in a URL name no object (they are never
 * looked up: the store's keys are bounded).
 */
export const MAX_ID_LENGTH = 250 + 2 + 36;
const MAX_NEXT_LENGTH = 512;

const ALLOWED: Record<Endpoint, ReadonlySet<string>> = {
  objects: new Set(['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]']),
  manifest: new Set(['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]']),
  object: new Set(['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]']),
  delete: new Set(['match[version]', 'match[spec_version]']),
  versions: new Set(['added_after', 'limit', 'next', 'match[spec_version]']),
};

const LAST_ONLY: VersionMatch = { all: false, first: false, last: true, keys: new Set() };
const ALL: VersionMatch = { all: true };
const LATEST_SPEC: SpecVersionMatch = { kind: 'latest' };
const ANY_SPEC: SpecVersionMatch = { kind: 'any' };

export function parseQuery(params: URLSearchParams, endpoint: Endpoint, settings: PageSettings): TaxiiQuery {
  const allowed = ALLOWED[endpoint];
  const single = (name: string): string | undefined => {
    if (!allowed.has(name)) return undefined;
    const values = params.getAll(name);
    if (values.length > 1) throw badRequest(`the parameter '${name}' may be given only once`, 'duplicate-parameter');
    return values[0];
  };

  const addedAfterText = single('added_after');
  let addedAfter: Micros | null = null;
  if (addedAfterText !== undefined) {
    // an unencoded '+' in a numeric offset arrives as a space: take it as meant
    addedAfter = parseTaxiiTimestamp(addedAfterText.trim().replace(/ (\d{2}:\d{2})$/, '+$1'));
    if (addedAfter === null) {
      throw badRequest(`'added_after' must be an RFC 3339 timestamp, got '${clip(addedAfterText)}'`, 'invalid-filter');
    }
  }

  const limit = parseLimit(single('limit'), settings);

  const next = single('next') ?? null;
  if (next !== null && (next === '' || next.length > MAX_NEXT_LENGTH)) {
    throw badRequest("'next' is not a value this server issued", 'invalid-next');
  }

  const ids = parseList(single('match[id]'), 'match[id]');
  if (ids?.some((id) => id.length > MAX_ID_LENGTH)) {
    throw badRequest(`'match[id]' values are STIX identifiers of at most ${MAX_ID_LENGTH} characters`, 'invalid-filter');
  }
  const types = parseList(single('match[type]'), 'match[type]');
  const specList = parseList(single('match[spec_version]'), 'match[spec_version]');
  if (specList) {
    for (const v of specList) {
      if (!/^\d+\.\d+$/.test(v)) {
        throw badRequest(`'match[spec_version]' values look like 2.1, got '${clip(v)}'`, 'invalid-filter');
      }
    }
  }
  const versionText = single('match[version]');
  const versions =
    versionText === undefined ? (endpoint === 'delete' || endpoint === 'versions' ? ALL : LAST_ONLY) : parseVersionMatch(versionText);

  return {
    addedAfter,
    limit,
    next,
    ids: ids && new Set(ids),
    types: types && new Set(types),
    versions,
    specVersions: specList ? { kind: 'listed', values: new Set(specList) } : endpoint === 'delete' ? ANY_SPEC : LATEST_SPEC,
  };
}

export function parseLimit(text: string | undefined, settings: PageSettings): number {
  if (text === undefined) return settings.defaultPageSize;
  const trimmed = text.trim();
  if (trimmed.length > 100 || !/^\d+$/.test(trimmed) || Number(trimmed) < 1) {
    throw badRequest(`'limit' must be a positive integer, got '${clip(text)}'`, 'invalid-limit');
  }
  return Math.min(Number(trimmed), settings.maxPageSize);
}

export function parseVersionMatch(text: string): VersionMatch {
  const values = parseList(text, 'match[version]') as string[];
  let first = false;
  let last = false;
  let all = false;
  const keys = new Set<string>();
  for (const v of values) {
    if (v === 'first' || v === 'last' || v === 'all') {
      if ((v === 'first' && first) || (v === 'last' && last) || (v === 'all' && all)) {
        throw badRequest(`'match[version]' repeats '${v}'`, 'invalid-filter');
      }
      if (v === 'first') first = true;
      else if (v === 'last') last = true;
      else all = true;
      continue;
    }
    const key = stixTimestampKey(v);
    if (key === null) {
      throw badRequest(`'match[version]' values are first, last, all or STIX timestamps, got '${clip(v)}'`, 'invalid-filter');
    }
    if (keys.has(key)) throw badRequest(`'match[version]' repeats the version '${clip(v)}'`, 'invalid-filter');
    keys.add(key);
  }
  if (all) {
    if (values.length > 1) throw badRequest("'match[version]=all' cannot be combined with other values", 'invalid-filter');
    return ALL;
  }
  return { all: false, first, last, keys };
}

function parseList(text: string | undefined, name: string): string[] | null {
  if (text === undefined) return null;
  const values = text.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw badRequest(`'${name}' has an empty value`, 'invalid-filter');
  if (values.length > MAX_MATCH_VALUES) {
    throw badRequest(`'${name}' may list at most ${MAX_MATCH_VALUES} values`, 'too-many-values');
  }
  return values;
}

/**
 * Canonical text of everything in a query that selects content (not `next`, not `limit`):
 * what a paging token is bound to. Equal queries written differently give equal text.
 */
export function canonicalQuery(q: TaxiiQuery): string {
  const list = (s: ReadonlySet<string> | null) => (s ? JSON.stringify([...s].sort()) : '-');
  const version = q.versions.all
    ? 'all'
    : JSON.stringify([q.versions.first ? 'first' : '', q.versions.last ? 'last' : '', ...[...q.versions.keys].sort()]);
  return [
    `added_after=${q.addedAfter ?? '-'}`,
    `id=${list(q.ids)}`,
    `type=${list(q.types)}`,
    `version=${version}`,
    `spec_version=${list(q.specVersions.kind === 'listed' ? q.specVersions.values : null)}`,
  ].join('&');
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
