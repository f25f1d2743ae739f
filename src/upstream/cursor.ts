/**
 * A subscription's cursor: where polling resumes. It is written in the same LMDB transaction
 * as the objects of the page it follows (Ingestor's alsoInTransaction), so after a crash the
 * next poll starts exactly after the last committed page.
 */
import { formatTaxiiTimestamp, parseTaxiiTimestamp, type Micros } from '../stix/time.ts';
import { parseDuration } from '../config/upstreams.ts';

export interface Cursor {
  readonly v: 1;
  /** `added_after` of the current query chain; null = from the beginning */
  readonly addedAfter: string | null;
  /** `next` token that continues the chain, when the server offered one */
  readonly next: string | null;
  /** newest X-TAXII-Date-Added-Last processed (server's own text), or derived from its manifest */
  readonly last: string | null;
  /** "id|version" of the most recent objects processed: an inclusive added_after repeats them */
  readonly boundary: readonly string[];
  /** the server was seen to ignore `next`: page with added_after only */
  readonly nextIgnored: boolean;
  /** totals since the subscription began */
  readonly objects: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly pages: number;
  /** wall-clock ms of the commit */
  readonly committedAt: number;
}

export const BOUNDARY_MEMORY = 64;

/** The cursor a subscription starts with: "beginning", a timestamp, or a look-back ("48h"). */
export function initialCursor(start: string, now: number): Cursor {
  let addedAfter: string | null = null;
  if (start !== 'beginning') {
    const at: Micros | null = /^\d+(ms|s|m|h|d)$/.test(start) ? (now - parseDuration(start)) * 1000 : parseTaxiiTimestamp(start);
    if (at === null) throw new Error(`invalid start "${start}"`);
    addedAfter = formatTaxiiTimestamp(at);
  }
  return {
    v: 1,
    addedAfter,
    next: null,
    last: addedAfter,
    boundary: [],
    nextIgnored: false,
    objects: 0,
    stored: 0,
    quarantined: 0,
    pages: 0,
    committedAt: 0,
  };
}

/** "id|version" of an object as received (version = modified, else created, else ""). */
export function versionKeyOf(object: unknown): string | undefined {
  if (!object || typeof object !== 'object') return undefined;
  const o = object as Record<string, unknown>;
  if (typeof o.id !== 'string') return undefined;
  const version = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : '';
  return `${o.id}|${version}`;
}

/** Keeps the newest BOUNDARY_MEMORY keys: the previous memory followed by this page's. */
export function nextBoundary(previous: readonly string[], page: readonly unknown[]): string[] {
  const keys = page.map(versionKeyOf).filter((k): k is string => k !== undefined);
  if (keys.length >= BOUNDARY_MEMORY) return keys.slice(-BOUNDARY_MEMORY);
  return [...previous, ...keys].slice(-BOUNDARY_MEMORY);
}

/**
 * The cursor without its `next` token, continuing from its position: `added_after` one
 * microsecond before `last`, so versions that share the boundary date_added are asked for again
 * (the boundary memory drops those already read) and none is skipped. Null `last`: from the
 * beginning.
 */
export function fromPosition(cursor: Cursor): Cursor {
  const at = cursor.last === null ? null : parseTaxiiTimestamp(cursor.last);
  const addedAfter = cursor.last === null ? null : at === null ? cursor.last : formatTaxiiTimestamp(at - 1);
  return { ...cursor, next: null, addedAfter };
}

/** Compares two TAXII timestamps as instants (null = the beginning). */
export function compareTimestamps(a: string | null, b: string | null): number {
  const ma = a === null ? -1 : (parseTaxiiTimestamp(a) ?? -1);
  const mb = b === null ? -1 : (parseTaxiiTimestamp(b) ?? -1);
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

/** The later of two positions. */
export function later(a: string | null, b: string | null | undefined): string | null {
  if (b === undefined || b === null) return a;
  return compareTimestamps(b, a) > 0 ? b : a;
}
