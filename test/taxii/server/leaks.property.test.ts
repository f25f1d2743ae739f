/**
 * No leak through older versions, property-based over real HTTPS: generated objects whose later
 * versions tighten their markings (a producer re-marking GREEN to AMBER, AMBER+STRICT, RED or a
 * marking nobody knows), members with generated ceilings. For every member and object:
 *   - latest version hidden: the one-object endpoints (every match[version], the versions
 *     endpoint) answer byte for byte as for an id that does not exist, and no listing or
 *     manifest names any version of it;
 *   - latest version visible: every version the member may see on its own is served.
 * The seed changes every run (printed; replay with RELAY_TEST_SEED).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TLP1, TLP2 } from '../../../src/stix/markings.ts';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, type TestMember, type TestNode } from '../../support/node.ts';
import { UNKNOWN_MARKING } from '../../support/policy-fixtures.ts';
import { runSeed } from '../../support/seed.ts';
import { indicator } from './fixtures.ts';

/** Markings from loosest to tightest, with the rank a member's ceiling is compared with (Infinity: never served). */
const LADDER: ReadonlyArray<readonly [string | undefined, number]> = [
  [TLP2.clear, 0],
  [undefined, 1], // unmarked: the test node's default TLP is GREEN
  [TLP1.green, 1],
  [TLP1.amber, 2],
  [TLP2.amberStrict, Infinity],
  [TLP2.red, Infinity],
  [UNKNOWN_MARKING, Infinity],
];
const CEILINGS = { clear: 0, green: 1, amber: 2 } as const;
const MEMBERS: TestMember[] = ['alice', 'bob', 'carol'];
const RUNS = 8;

/** Each object: its versions' rungs on the ladder, never looser than the one before. */
const corpus = fc.array(
  fc
    .array(fc.nat({ max: LADDER.length - 1 }), { minLength: 1, maxLength: 3 })
    .map((rungs) => rungs.map((r, i) => Math.max(r, ...rungs.slice(0, i)))),
  { minLength: 3, maxLength: 8 },
);
const ceilings = fc.tuple(...MEMBERS.map(() => fc.constantFrom(...(Object.keys(CEILINGS) as Array<keyof typeof CEILINGS>))));

async function observe(t: TestNode, member: TestMember, path: string) {
  const res = await t.request(path, { headers: { accept: TAXII, authorization: basicAuth(member) } });
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  return { status: res.status, text, headers };
}

describe('older versions never outlive a hidden latest version (property)', () => {
  it('every endpoint answers for a re-marked object exactly as for one that does not exist', async () => {
    let hiddenChecked = 0;
    let visibleChecked = 0;
    await fc.assert(
      fc.asyncProperty(corpus, ceilings, async (objects, memberCeilings) => {
        const t = await startTestNode((data) => {
          data.members.forEach((m: Record<string, any>, i: number) => {
            m.policy = { tlp_ceiling: memberCeilings[i] };
            m.grants = [{ api_root: 'isac', collection: 'shared', read: true, write: false }];
          });
        });
        try {
          const ids = objects.map(() => `indicator--${randomUUID()}`);
          const versions = objects.flatMap((rungs, n) =>
            rungs.map((rung, v) => {
              const marking = LADDER[rung]?.[0];
              return indicator(ids[n], v, marking ? { object_marking_refs: [marking] } : {});
            }),
          );
          t.node.ingestor.ingest(COLLECTIONS.shared, versions, { source: 'import', detail: 'property' });
          const unknown = `indicator--${randomUUID()}`;
          const base = `/isac/collections/${COLLECTIONS.shared}`;
          for (const [m, member] of MEMBERS.entries()) {
            const ceiling = CEILINGS[memberCeilings[m] as keyof typeof CEILINGS];
            const all = await t.get(`${base}/objects/?match[version]=all&limit=200`, member);
            const manifest = await t.get(`${base}/manifest/?match[version]=all&limit=200`, member);
            for (const [n, rungs] of objects.entries()) {
              const id = ids[n] as string;
              const latestRank = LADDER[rungs[rungs.length - 1] as number]?.[1] as number;
              const listed = (all.body.objects ?? []).filter((o: { id: string }) => o.id === id);
              const inManifest = (manifest.body.objects ?? []).filter((o: { id: string }) => o.id === id);
              if (latestRank > ceiling) {
                hiddenChecked++;
                expect(listed, `${member} ${id}`).toEqual([]);
                expect(inManifest, `${member} ${id}`).toEqual([]);
                for (const suffix of ['/', '/?match[version]=all', '/?match[version]=first', '/versions/']) {
                  const hidden = await observe(t, member, `${base}/objects/${id}${suffix}`);
                  const none = await observe(t, member, `${base}/objects/${unknown}${suffix}`);
                  expect(hidden, `${member} ${id}${suffix}`).toEqual(none);
                }
              } else {
                visibleChecked++;
                // tightening only: every older version is at least as loose as the latest
                expect(listed, `${member} ${id}`).toHaveLength(rungs.length);
                const history = await t.get(`${base}/objects/${id}/versions/`, member);
                expect(history.body.versions, `${member} ${id}`).toHaveLength(rungs.length);
              }
            }
          }
        } finally {
          await t.close();
        }
      }),
      { numRuns: RUNS, seed: runSeed('leaks property'), endOnFailure: true },
    );
    console.log(`leaks property: ${hiddenChecked} hidden and ${visibleChecked} visible (member, object) pairs checked`);
    // both sides were exercised (a hidden latest behind looser older versions included)
    expect(hiddenChecked).toBeGreaterThan(RUNS);
    expect(visibleChecked).toBeGreaterThan(RUNS);
  }, 600_000);
});
