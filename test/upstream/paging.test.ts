/** The paging decisions of a poll cycle (pure): where the cursor goes and when a cycle ends. */
import { describe, expect, it } from 'vitest';
import type { ObjectsPage } from '../../src/taxii/client/index.ts';
import { initialCursor, type Cursor } from '../../src/upstream/cursor.ts';
import { afterPage, MAX_EMPTY_PAGES } from '../../src/upstream/paging.ts';
import { indicators } from './scripted-server.ts';

const start: Cursor = initialCursor('beginning', 0);
const T1 = '2026-12-01T00:00:00.000000Z';
const T2 = '2026-12-01T00:00:01.000000Z';

function page(objects: unknown[], more: boolean, extra: Partial<ObjectsPage> = {}): ObjectsPage {
  return {
    url: 'https://hub.example/objects/',
    objects,
    more,
    next: undefined,
    dateAddedFirst: undefined,
    dateAddedLast: undefined,
    bytes: 0,
    ...extra,
  };
}

describe('after a page', () => {
  it('a short last page ends the cycle caught up, the position moved to its newest date_added', () => {
    const step = afterPage({
      cursor: start,
      page: page(indicators(3), false),
      query: { addedAfter: null },
      last: T1,
      emptyRun: 0,
      pageSize: 10,
    });
    expect(step.stop).toBe('caught-up');
    expect(step.advanced).toMatchObject({ addedAfter: T1, last: T1, next: null, pages: 1 });
    expect(step.advanced.boundary).toHaveLength(3);
  });

  it('a full page saying more=false is asked about once more (servers under-report more)', () => {
    const step = afterPage({
      cursor: start,
      page: page(indicators(10), false),
      query: { addedAfter: null },
      last: T1,
      emptyRun: 0,
      pageSize: 10,
    });
    expect(step.stop).toBeUndefined();
  });

  it('follows a next token, keeping the added_after of the chain', () => {
    const cursor = { ...start, addedAfter: T1, last: T1 };
    const step = afterPage({
      cursor,
      page: page(indicators(10), true, { next: 'tok-2' }),
      query: { addedAfter: T1 },
      last: T2,
      emptyRun: 0,
      pageSize: 10,
    });
    expect(step.stop).toBeUndefined();
    expect(step.advanced).toMatchObject({ next: 'tok-2', addedAfter: T1, last: T2 });
  });

  it(`is stuck after ${MAX_EMPTY_PAGES} empty pages in a row that say more=true`, () => {
    const before = afterPage({
      cursor: start,
      page: page([], true, { next: 't' }),
      query: { addedAfter: null },
      last: null,
      emptyRun: MAX_EMPTY_PAGES - 2,
      pageSize: 10,
    });
    expect(before.stop).toBeUndefined();
    const step = afterPage({
      cursor: start,
      page: page([], true, { next: 't' }),
      query: { addedAfter: null },
      last: null,
      emptyRun: before.emptyRun,
      pageSize: 10,
    });
    expect(step.stop).toBe('stuck');
    expect(step.stuck).toContain(`${MAX_EMPTY_PAGES} empty pages in a row`);
  });

  it('is stuck, naming the missing header, when more=true comes without a position to advance to', () => {
    const step = afterPage({
      cursor: start,
      page: page(indicators(10), true),
      query: { addedAfter: null },
      last: null,
      emptyRun: 0,
      pageSize: 10,
    });
    expect(step.stop).toBe('stuck');
    expect(step.stuck).toContain('no X-TAXII-Date-Added-Last');
  });

  it('a page that did not move the position past added_after is stuck when more=true, caught up otherwise', () => {
    const cursor = { ...start, addedAfter: T2, last: T2 };
    const same = { cursor, query: { addedAfter: T2 }, last: T1, emptyRun: 0, pageSize: 10 };
    expect(afterPage({ ...same, page: page(indicators(10), true) }).stuck).toContain('position did not advance');
    expect(afterPage({ ...same, page: page(indicators(10), false) }).stop).toBe('caught-up');
  });
});
