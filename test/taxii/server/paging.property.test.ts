/**
 * Paging property, end to end over HTTPS: while ingest runs concurrently (batches interleaved
 * between page fetches, on fast-check-generated schedules), a poller that pages with
 * match[version]=all receives every object version present at the end exactly once —
 * following `next` within a poll, or using only `added_after` from X-TAXII-Date-Added-Last.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../../support/node.ts';
import { UNVERSIONED, indicator, ipv4 } from './fixtures.ts';

const POOL = 120; // fresh collection per run, shrinking included
let t: TestNode;
const pool: string[] = [];

beforeAll(async () => {
  t = await startTestNode((data) => {
    const root = data.api_roots[0];
    const alice = data.members.find((m: any) => m.id === 'alice');
    for (let i = 0; i < POOL; i++) {
      const id = randomUUID();
      pool.push(id);
      root.collections.push({ id, title: `property run ${i}` });
      alice.grants.push({ api_root: 'isac', collection: id, read: true, write: true });
    }
  });
});
afterAll(async () => {
  await t?.close();
});

function freshCollection(): string {
  const id = pool.shift();
  if (!id) throw new Error('the property test ran out of fresh collections; raise POOL');
  return id;
}

type Step =
  | { readonly kind: 'ingest'; readonly versions: ReadonlyArray<{ readonly obj: number; readonly v: number }>; readonly scos: number }
  | { readonly kind: 'page' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('ingest' as const),
    versions: fc.array(fc.record({ obj: fc.nat({ max: 5 }), v: fc.nat({ max: 4 }) }), { maxLength: 8 }),
    scos: fc.nat({ max: 2 }),
  }),
  fc.constant({ kind: 'page' as const }),
);
const schedule = fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 25 }), limit: fc.integer({ min: 1, max: 7 }) });

const objectId = (n: number) => `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const key = (o: any) => `${o.id}@${o.modified ?? o.created ?? UNVERSIONED}`;

/** Runs the schedule: ingest steps store objects, page steps call `fetchPage`. */
async function run(collection: string, steps: readonly Step[], fetchPage: () => Promise<boolean>): Promise<Set<string>> {
  const expected = new Set<string>();
  for (const s of steps) {
    if (s.kind === 'page') {
      await fetchPage();
      continue;
    }
    const objects = [...s.versions.map(({ obj, v }) => indicator(objectId(obj), v)), ...Array.from({ length: s.scos }, () => ipv4())];
    const report = t.node.ingestor.ingest(collection, objects, { source: 'import', detail: 'property' });
    expect(report.rejected).toBe(0);
    for (const o of objects) expected.add(key(o));
  }
  // ingest has stopped: drain until the server says there is no more
  for (let i = 0; ; i++) {
    expect(i).toBeLessThan(500);
    if (!(await fetchPage())) break;
  }
  return expected;
}

describe('paging while ingest runs', () => {
  it('following next (and added_after between polls) returns every version exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async ({ steps, limit }) => {
        const collection = freshCollection();
        const base = `/isac/collections/${collection}/objects/?match[version]=all&limit=${limit}`;
        const seen: string[] = [];
        let pollAddedAfter: string | null = null; // fixed during one poll (a chain of next tokens)
        let next: string | null = null;
        let lastDateAdded: string | null = null;
        const fetchPage = async (): Promise<boolean> => {
          let path = base;
          if (pollAddedAfter) path += `&added_after=${pollAddedAfter}`;
          if (next) path += `&next=${encodeURIComponent(next)}`;
          const r = await t.get(path);
          expect(r.status).toBe(200);
          const objects = r.body.objects ?? [];
          expect(objects.length).toBeLessThanOrEqual(limit);
          seen.push(...objects.map(key));
          if (objects.length > 0) lastDateAdded = r.headers.get('x-taxii-date-added-last');
          if (r.body.more) {
            expect(typeof r.body.next).toBe('string');
            next = r.body.next;
            return true;
          }
          // poll finished: the next poll starts after the last date_added received
          next = null;
          pollAddedAfter = lastDateAdded;
          return false;
        };
        const expected = await run(collection, steps, fetchPage);
        expect(seen.length).toBe(new Set(seen).size);
        expect(new Set(seen)).toEqual(expected);
      }),
      { numRuns: 15 },
    );
  });

  it('paging only with added_after from X-TAXII-Date-Added-Last returns every version exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async ({ steps, limit }) => {
        const collection = freshCollection();
        const base = `/isac/collections/${collection}/objects/?match[version]=all&limit=${limit}`;
        const seen: string[] = [];
        let addedAfter: string | null = null;
        const fetchPage = async (): Promise<boolean> => {
          const r = await t.get(addedAfter ? `${base}&added_after=${addedAfter}` : base);
          expect(r.status).toBe(200);
          const objects = r.body.objects ?? [];
          seen.push(...objects.map(key));
          if (objects.length > 0) {
            const last = r.headers.get('x-taxii-date-added-last');
            expect(last).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
            addedAfter = last;
          }
          return r.body.more === true;
        };
        const expected = await run(collection, steps, fetchPage);
        expect(seen.length).toBe(new Set(seen).size);
        expect(new Set(seen)).toEqual(expected);
      }),
      { numRuns: 15 },
    );
  });
});
