/**
 * Timestamps. STIX timestamps are RFC 3339 UTC with at least millisecond precision on
 * created/modified and may be finer; TAXII timestamps are exactly microseconds. Versions are
 * compared as instants, so every STIX timestamp is normalized to a fixed-width, sortable key
 * with nanosecond digits ("2016-01-01T01:01:01.100000000Z").
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

interface Parsed {
  /** whole seconds since the epoch, UTC */
  seconds: number;
  /** fractional digits as written (may be empty) */
  fraction: string;
  /** whether the zone designator was a literal Z */
  zulu: boolean;
}

function parse(text: string): Parsed | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const daysInMonth = new Date(utc(year, month, 0, 0, 0, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  let offsetMinutes = 0;
  const zulu = zone === 'Z' || zone === 'z';
  if (!zulu) {
    const sign = zone.startsWith('-') ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  // A leap second (":60") is folded onto the next second, as Date does.
  const ms = utc(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  return { seconds: Math.floor(ms / 1000), fraction: frac, zulu };
}

/** Date.UTC without its two-digit-year rule (Date.UTC(99, …) is 1999, not year 99). */
function utc(year: number, monthIndex: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

const CANONICAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The common case (upper-case T and Z, no leap second, at most nine digits) without Date
 * arithmetic: ingest normalizes two or more timestamps per object. Returns undefined when the
 * general parser must decide.
 */
function canonicalKey(text: string, minFractionDigits: number): string | null | undefined {
  const m = CANONICAL.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS[month - 1] as number))) return null;
  const fraction = m[7] ?? '';
  if (fraction.length < minFractionDigits) return null;
  return `${text.slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

/**
 * Validates a STIX timestamp (UTC, literal Z) and returns its sortable version key, or null.
 * `minFractionDigits` is 3 for created/modified, 0 for other timestamp properties.
 */
export function stixTimestampKey(text: string, minFractionDigits = 0): string | null {
  const fast = canonicalKey(text, minFractionDigits);
  if (fast !== undefined) return fast;
  const p = parse(text);
  if (!p || !p.zulu || p.fraction.length < minFractionDigits) return null;
  return `${isoSeconds(p.seconds)}.${p.fraction.slice(0, 9).padEnd(9, '0')}Z`;
}

/** Compares two STIX timestamps as instants (both must be valid). */
export function compareStixTimestamps(a: string, b: string): number {
  const ka = stixTimestampKey(a) ?? a;
  const kb = stixTimestampKey(b) ?? b;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Microseconds since the epoch; TAXII `date_added` values are held in this unit. */
export type Micros = number;

/** Formats microseconds as a TAXII timestamp: exactly six fractional digits, literal Z. */
export function formatTaxiiTimestamp(us: Micros): string {
  const seconds = Math.floor(us / 1_000_000);
  const micro = us - seconds * 1_000_000;
  return `${isoSeconds(seconds)}.${String(micro).padStart(6, '0')}Z`;
}

/**
 * Parses any RFC 3339 timestamp (any precision, Z or numeric offset) into microseconds,
 * truncating digits finer than a microsecond. Returns null when it is not RFC 3339.
 */
export function parseTaxiiTimestamp(text: string): Micros | null {
  const p = parse(text);
  if (!p) return null;
  const micro = Number(p.fraction.slice(0, 6).padEnd(6, '0'));
  return p.seconds * 1_000_000 + micro;
}

export function nowMicros(): Micros {
  // performance.timeOrigin + now() gives sub-millisecond resolution on the wall clock.
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
