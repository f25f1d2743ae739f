/**
 * The real data sets served to members with different profiles: OASIS CTI documentation
 * examples (TLP 1.0 markings, granular markings, a statement marking the node does not know),
 * the OpenCTI test bundle, the OASIS JSON schema examples and OpenCTI's sector identities, in
 * one collection, production default TLP (unmarked = AMBER). A GREEN member, an AMBER member
 * and a sector member each receive exactly what the oracle (test/support/policy-oracle.ts)
 * predicts, bodies included (redacted where granular markings apply).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsOfDocument } from '../../../src/ingest/index.ts';
import { ATTACK_STATEMENT, COLLECTIONS, startTestNode, type TestMember, type TestNode } from '../../support/node.ts';
import { Oracle, versionOf } from '../../support/policy-oracle.ts';
import { DATA, jsonFiles } from '../../support/data.ts';

type Obj = Record<string, any>;

const SOURCES = [
  ...jsonFiles(join(DATA, 'oasis-cti-documentation')),
  ...jsonFiles(join(DATA, 'opencti-test-bundle')),
  ...jsonFiles(join(DATA, 'oasis-json-schemas/examples')),
  ...jsonFiles(join(DATA, 'opencti-sectors')),
];

const PROFILES: Record<TestMember, Obj> = {
  alice: { tlp_ceiling: 'green' },
  bob: { tlp_ceiling: 'amber' },
  carol: { tlp_ceiling: 'amber', sectors: ['technology', 'government-national'], unscoped: false },
};
const SETTINGS = { defaultTlp: 'amber', markingMap: { [ATTACK_STATEMENT]: 'clear' }, sectorProperties: [], sectorLabels: [] };

const key = (o: Obj) => `${o.id}|${Date.parse(versionOf(o))}`;

describe('policy on the real data sets', () => {
  let t: TestNode;
  let oracle: Oracle;
  let held: Obj[];

  beforeAll(async () => {
    t = await startTestNode((data) => {
      data.policy = { default_tlp: 'amber', marking_map: { [ATTACK_STATEMENT]: 'clear' } };
      for (const m of data.members) {
        m.policy = PROFILES[m.id as TestMember];
        m.grants = [{ api_root: 'isac', collection: 'shared', read: true, write: false }];
      }
    });
    const stored = new Map<string, Obj>();
    for (const file of SOURCES) {
      const objects = objectsOfDocument(JSON.parse(readFileSync(file, 'utf8'))) as Obj[];
      const report = t.node.ingestor.ingest(COLLECTIONS.shared, objects, { source: 'import', detail: file });
      report.outcomes.forEach((o, i) => {
        const object = objects[i] as Obj;
        // the version held is the first one received (re-deliveries are duplicates)
        if (o.kind === 'stored') stored.set(key(object), object);
      });
    }
    held = [...stored.values()];
    oracle = new Oracle(held, SETTINGS);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  async function everything(member: TestMember): Promise<Obj[]> {
    const out: Obj[] = [];
    let next: string | undefined;
    for (let i = 0; i < 100; i++) {
      const q = `match[version]=all&limit=200${next ? `&next=${encodeURIComponent(next)}` : ''}`;
      const page = await t.get(`/isac/collections/shared/objects/?${q}`, member);
      expect(page.status).toBe(200);
      out.push(...(page.body.objects ?? []));
      if (!page.body.more) return out;
      next = page.body.next;
    }
    throw new Error('more than 100 pages');
  }

  const counts: Partial<Record<TestMember, number>> = {};

  for (const member of ['alice', 'bob', 'carol'] as const) {
    it(`${member} (${JSON.stringify(PROFILES[member])}) receives exactly what the oracle predicts`, async () => {
      const expected = held
        .map((o) => oracle.served(o, [{ sectors: [], unscoped: true, ...PROFILES[member] }]))
        .filter((o): o is Obj => o !== undefined);
      const got = await everything(member);
      counts[member] = got.length;
      expect(got.length).toBe(expected.length);
      const byKey = new Map(expected.map((o) => [key(o), o]));
      for (const o of got) expect(o, key(o)).toEqual(byKey.get(key(o)));
    });
  }

  it('the profiles make a difference: GREEN < AMBER, the sector member a small part, nothing above the ceiling', () => {
    expect(held.length).toBeGreaterThan(300);
    expect(counts.alice).toBeGreaterThan(0);
    expect(counts.alice).toBeLessThan(counts.bob as number);
    expect(counts.carol).toBeGreaterThan(0);
    expect(counts.carol).toBeLessThan((counts.bob as number) / 4);
    expect(counts.bob).toBeLessThan(held.length); // RED, unknown markings and their relationships stay
  });

  it('the granular-marking example: unmarked (AMBER by default), so 404 for GREEN; AMBER gets it without its RED description', async () => {
    const id = 'indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1';
    const source = held.find((o) => o.id === id) as Obj;
    expect(source.description).toBeDefined();
    expect((await t.get(`/isac/collections/shared/objects/${id}/`, 'alice')).status).toBe(404);
    const res = await t.get(`/isac/collections/shared/objects/${id}/`, 'bob');
    expect(res.status).toBe(200);
    const copy = res.body.objects[0];
    expect(copy.description).toBeUndefined();
    expect(copy.pattern).toBe(source.pattern);
    expect(copy.name).toBe(source.name);
  });
});
