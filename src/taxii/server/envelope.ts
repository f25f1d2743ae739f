/**
 * Envelope bodies [T §3.7] built by concatenating stored JSON text: stored objects are never
 * parsed or re-serialized on the read path. Also the X-TAXII-Date-Added-* headers shared by the
 * object, manifest and versions endpoints.
 */
import { formatTaxiiTimestamp } from '../../stix/time.ts';
import type { IndexEntry } from '../../store/index.ts';

/** `"more":…,"next":…` members shared by paged resources (leading, without braces). */
export function pagingMembers(more: boolean, next: string | undefined): string {
  return more && next !== undefined ? `"more":true,"next":${JSON.stringify(next)}` : `"more":${more}`;
}

/**
 * The envelope text for a page. `bodyOf` returns the stored JSON of a version; a version whose
 * body vanished in between (cannot happen today: bodies are never removed) is skipped.
 */
export function envelopeText(
  entries: readonly IndexEntry[],
  more: boolean,
  next: string | undefined,
  bodyOf: (entry: IndexEntry) => string | undefined,
): string {
  let objects = '';
  for (const e of entries) {
    const body = bodyOf(e);
    if (body === undefined) continue;
    objects += objects === '' ? body : `,${body}`;
  }
  const head = pagingMembers(more, next);
  return objects === '' ? `{${head}}` : `{${head},"objects":[${objects}]}`;
}

/** X-TAXII-Date-Added-First/-Last for a non-empty page (earliest and latest date_added in it). */
export function dateAddedHeaders(entries: readonly IndexEntry[]): Record<string, string> {
  if (entries.length === 0) return {};
  let min = Infinity;
  let max = -Infinity;
  for (const e of entries) {
    if (e.dateAdded < min) min = e.dateAdded;
    if (e.dateAdded > max) max = e.dateAdded;
  }
  return {
    'X-TAXII-Date-Added-First': formatTaxiiTimestamp(min),
    'X-TAXII-Date-Added-Last': formatTaxiiTimestamp(max),
  };
}
