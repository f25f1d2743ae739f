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

/** Looks up the JSON a member receives for an entry; undefined skips it. */
export type BodyOf = (entry: IndexEntry) => string | undefined;

/**
 * An envelope produced piece by piece, so a large page can be streamed without ever holding
 * its whole text: each `next(minChars)` reads bodies until the piece is at least that long
 * (or the page ends) and returns it; null once the envelope is complete. The pieces joined are
 * exactly `envelopeText` of the same page. `bodyOf` returns the stored JSON of a version; a
 * version without one (withheld by redaction, or a body that vanished in between) is skipped,
 * and a page whose bodies all vanished is the envelope without `objects`.
 */
export class EnvelopeChunks {
  private index = 0;
  private opened = false;
  private done = false;
  private readonly head: string;
  /** the page's entries; each is dropped once its body is out, so a streamed page lets go as it goes */
  private readonly entries: Array<IndexEntry | undefined>;

  constructor(
    entries: readonly IndexEntry[],
    more: boolean,
    next: string | undefined,
    private readonly bodyOf: BodyOf,
  ) {
    this.entries = [...entries];
    this.head = pagingMembers(more, next);
  }

  /** Whether every piece has been produced. */
  get finished(): boolean {
    return this.done;
  }

  next(minChars: number): string | null {
    if (this.done) return null;
    let piece = '';
    while (this.index < this.entries.length && piece.length < minChars) {
      const entry = this.entries[this.index] as IndexEntry;
      this.entries[this.index++] = undefined;
      const body = this.bodyOf(entry);
      if (body === undefined) continue;
      piece += this.opened ? `,${body}` : `{${this.head},"objects":[${body}`;
      this.opened = true;
    }
    if (this.index >= this.entries.length) {
      piece += this.opened ? ']}' : `{${this.head}}`;
      this.done = true;
    }
    return piece;
  }
}

/** The whole envelope text for a page (see EnvelopeChunks). */
export function envelopeText(entries: readonly IndexEntry[], more: boolean, next: string | undefined, bodyOf: BodyOf): string {
  return new EnvelopeChunks(entries, more, next, bodyOf).next(Infinity) as string;
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
