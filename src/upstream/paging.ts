/**
 * Paging decisions of a poll cycle, pure: where the cursor stands after a page and whether the
 * cycle goes on, is caught up, or is stuck on an upstream that pages wrongly.
 */
import type { ObjectsPage, ObjectsQuery } from '../taxii/client/index.ts';
import { compareTimestamps, later, nextBoundary, versionKeyOf, type Cursor } from './cursor.ts';

/** `more: true` with empty pages (legal: objects deleted meanwhile) is followed this many times. */
export const MAX_EMPTY_PAGES = 50;

export interface PageAnswer {
  /** the cursor the page was asked from */
  readonly cursor: Cursor;
  readonly page: ObjectsPage;
  /** the query the page answers */
  readonly query: ObjectsQuery;
  /** the newest date_added of the page (its header, else the manifest's), null when unknown */
  readonly last: string | null;
  /** empty pages with more=true met in a row before this one */
  readonly emptyRun: number;
  readonly pageSize: number;
}

export interface PageStep {
  /** the cursor to commit with the page */
  readonly advanced: Cursor;
  readonly emptyRun: number;
  /** the cycle ends after this page: caught up, or stuck (`stuck` says why) */
  readonly stop?: 'caught-up' | 'stuck';
  readonly stuck?: string;
}

export function afterPage({ cursor, page, query, last, emptyRun: before, pageSize }: PageAnswer): PageStep {
  const position = later(cursor.last, last);
  const continueWithNext = page.more && page.next !== undefined && !cursor.nextIgnored;
  const advanced: Cursor = {
    ...cursor,
    ...(continueWithNext ? { next: page.next as string, addedAfter: query.addedAfter ?? null } : { next: null, addedAfter: position }),
    last: position,
    boundary: nextBoundary(cursor.boundary, page.objects),
    pages: cursor.pages + 1,
  };
  const emptyRun = page.objects.length === 0 ? before + 1 : 0;
  if (continueWithNext) {
    if (emptyRun >= MAX_EMPTY_PAGES) {
      return {
        advanced,
        emptyRun,
        stop: 'stuck',
        stuck: `upstream sent ${emptyRun} empty pages in a row with more=true; continuing next cycle`,
      };
    }
    return { advanced, emptyRun };
  }
  if (!page.more && page.objects.length < pageSize) {
    // (`more: false` with a full page may be a server that under-reports `more`: ask once more.)
    return { advanced, emptyRun, stop: 'caught-up' };
  }
  if (compareTimestamps(position, query.addedAfter ?? null) <= 0) {
    // No position to advance to: stop here instead of asking for the same page again.
    if (!page.more) return { advanced, emptyRun, stop: 'caught-up' };
    const stuck =
      last === null
        ? 'upstream says more objects exist but sends no X-TAXII-Date-Added-Last (and its manifest did not tell); the rest is fetched next cycle'
        : 'upstream says more objects exist but its position did not advance';
    return { advanced, emptyRun, stop: 'stuck', stuck };
  }
  return { advanced, emptyRun };
}

/** What tells two objects apart when looking for repeats: "id|version", else the whole object. */
export function identityOf(object: unknown): string {
  return versionKeyOf(object) ?? `raw:${JSON.stringify(object)}`;
}
