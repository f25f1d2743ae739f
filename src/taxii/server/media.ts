/**
 * Content negotiation [T §1.6, §3.1]. Pure functions over header values.
 *
 * Accept (be liberal, refuse only what is truly incompatible):
 *   - missing or empty Accept                      -> acceptable (RFC 9110: no preference)
 *   - application/taxii+json, with no version or version=2.1 -> acceptable
 *   - *\/* and application/*                        -> acceptable
 *   - application/stix+json (no version or 2.1)     -> acceptable on the manifest endpoint only
 *   - parameter names and type names are case-insensitive, spaces around ';' and '=' are
 *     ignored, values may be quoted, a q-value of 0 means "not acceptable"
 *   - everything else (other types, the TAXII 2.0 type application/vnd.oasis.taxii+json,
 *     any version other than 2.1) is not acceptable; a request with no acceptable item -> 406
 * Content-Type of a POST: application/taxii+json with no version or version=2.1; other
 * parameters (charset) are ignored; anything else -> 415.
 */

export const TAXII_CONTENT_TYPE = 'application/taxii+json;version=2.1';

export interface MediaRange {
  /** lower-cased "type/subtype" */
  readonly type: string;
  /** lower-cased parameter names; values unquoted, as written */
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

/** Parses one media type or media range ("type/subtype; p=v; q=0.5"); null when malformed. */
export function parseMediaType(text: string): MediaRange | null {
  const parts = splitOutsideQuotes(text, ';');
  const type = (parts[0] ?? '').trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+*-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  let q = 1;
  for (const raw of parts.slice(1)) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    const name = p.slice(0, eq).trim().toLowerCase();
    let value = p.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name === 'q') {
      const n = Number(value);
      if (!/^\d+(\.\d*)?$/.test(value) || n > 1) return null;
      q = n;
      continue;
    }
    params.set(name, value);
  }
  return { type, params, q };
}

/** Parses an Accept header into its ranges; malformed items are dropped. */
export function parseAccept(header: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const item of splitOutsideQuotes(header, ',')) {
    if (item.trim() === '') continue;
    const range = parseMediaType(item);
    if (range) out.push(range);
  }
  return out;
}

const versionOk = (range: MediaRange) => {
  const v = range.params.get('version');
  return v === undefined || v.trim() === '2.1';
};

/** Whether one range admits a TAXII 2.1 response (or, with `stix`, a STIX 2.1 one). */
export function rangeAccepts(range: MediaRange, options: { stix?: boolean } = {}): boolean {
  if (range.q <= 0) return false;
  switch (range.type) {
    case '*/*':
    case 'application/*':
      return true;
    case 'application/taxii+json':
      return versionOk(range);
    case 'application/stix+json':
      return options.stix === true && versionOk(range);
    default:
      return false;
  }
}

/** Whether a request with this Accept header may be answered with TAXII 2.1 JSON. */
export function isAcceptable(accept: string | undefined, options: { stix?: boolean } = {}): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return parseAccept(accept).some((range) => rangeAccepts(range, options));
}

/** Whether a POST Content-Type is a TAXII 2.1 envelope. */
export function isTaxiiContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = parseMediaType(contentType);
  return media !== null && media.type === 'application/taxii+json' && versionOk(media);
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}
