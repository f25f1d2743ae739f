/** The sector index (real LMDB): sparse sector scans examine only matching entries, page like scan, follow re-indexing. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { scanKeys } from '../../src/policy/filing.ts';
import { Store, type IndexEntry } from '../../src/store/index.ts';
import { identity, indicator, marked, relationship, TLP1, TLP2, UNKNOWN_MARKING } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const FROM = { source: 'import' as const, detail: 'sectors' };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setup() {
  const t = tempDir('relay-sectors-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  return { store, ingestor: new Ingestor(store) };
}

const all = () => true;

function pages(scan: (after: number) => { entries: readonly IndexEntry[]; more: boolean; resumeAfter: number }): IndexEntry[] {
  const out: IndexEntry[] = [];
  let after = 0;
  for (let i = 0; i < 1000; i++) {
    const page = scan(after);
    out.push(...page.entries);
    if (!page.more) return out;
    after = page.resumeAfter;
  }
  throw new Error('did not finish');
}

describe('sector index', () => {
  it('a 1% sector view finds its matches with a scan budget far below the collection size', () => {
    const { store, ingestor } = setup();
    const energy = identity(1, ['energy']);
    const water = identity(2, ['water']);
    const bulk = Array.from({ length: 2000 }, (_, i) => indicator(10 + i));
    const targeted = Array.from({ length: 20 }, (_, i) => indicator(5000 + i));
    ingestor.ingest(C, [energy, water, ...bulk, ...targeted], FROM);
    ingestor.ingest(
      C,
      targeted.map((o, i) => relationship(9000 + i, 'targets', o.id as string, (i % 2 ? energy : water).id as string)),
      FROM,
    );
    const sparse = store.index.scanFiled({
      collection: C,
      after: 0,
      limit: 1000,
      accept: all,
      maxScanned: 50,
      keys: scanKeys(['energy'], false),
    });
    expect(sparse.more).toBe(false);
    // the energy identity, 10 indicators and their 10 relationships
    expect(sparse.entries).toHaveLength(21);
    expect(sparse.entries.every((e) => e.attributes.sectors.includes('energy'))).toBe(true);
    // the plain scan with the same budget cannot get past the unscoped bulk
    const plain = store.index.scan({
      collection: C,
      after: 0,
      limit: 1000,
      accept: (e) => e.attributes.sectors.includes('energy'),
      maxScanned: 50,
    });
    expect(plain.entries).toHaveLength(1);
    expect(plain.more).toBe(true);
  });

  it('pages exactly like a filtered scan: several sectors merged once each, unscoped bucket, small limits', () => {
    const { store, ingestor } = setup();
    const both = identity(1, ['energy', 'water']);
    const objects = [both, identity(2, ['water']), ...Array.from({ length: 30 }, (_, i) => indicator(10 + i))];
    ingestor.ingest(C, objects, FROM);
    ingestor.ingest(
      C,
      Array.from({ length: 12 }, (_, i) => relationship(100 + i, 'targets', objects[2 + i * 2]?.id as string, both.id as string)),
      FROM,
    );
    for (const [sectors, unscoped] of [
      [['energy'], false],
      [['energy', 'water'], false],
      [['water'], true],
      [['nothing-here'], true],
    ] as const) {
      const wanted = (e: IndexEntry) =>
        e.attributes.sectors.length === 0 ? unscoped : e.attributes.sectors.some((s) => (sectors as readonly string[]).includes(s));
      const expected = pages((after) => store.index.scan({ collection: C, after, limit: 4, accept: wanted, maxScanned: 100_000 })).map(
        (e) => e.dateAdded,
      );
      for (const limit of [1, 3, 1000]) {
        const got = pages((after) =>
          store.index.scanFiled({ collection: C, after, limit, accept: all, maxScanned: 100_000, keys: scanKeys(sectors, unscoped) }),
        );
        expect(
          got.map((e) => e.dateAdded),
          `${sectors} ${unscoped} ${limit}`,
        ).toEqual(expected);
      }
    }
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('follows re-indexing and deletes (relay check verifies it)', () => {
    const { store, ingestor } = setup();
    const energy = identity(1, ['energy']);
    const ind = indicator(2);
    ingestor.ingest(C, [energy, ind], FROM);
    const energyOnly = () =>
      store.index
        .scanFiled({ collection: C, after: 0, limit: 100, accept: all, maxScanned: 1000, keys: scanKeys(['energy'], false) })
        .entries.map((e) => e.id);
    expect(energyOnly()).toEqual([energy.id]);
    const rel = relationship(3, 'targets', ind.id as string, energy.id as string);
    ingestor.ingest(C, [rel], FROM);
    // the indicator moves (it gained energy); the relationship, derived before it was served,
    // stays where it was placed
    expect(energyOnly()).toEqual([energy.id, rel.id, ind.id]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
    ingestor.delete(C, store.versionsOf(C, rel.id as string));
    expect(energyOnly()).toEqual([energy.id]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('leaves out entries no member can ever receive (AMBER+STRICT, RED, unknown markings) but keeps unmarked ones', () => {
    const { store, ingestor } = setup();
    const energy = identity(1, ['energy']);
    const plain = [indicator(2), indicator(3, 0, marked(TLP2.green))];
    const never = [
      indicator(4, 0, marked(TLP2.red)),
      indicator(5, 0, marked(TLP2.amberStrict)),
      indicator(6, 0, marked(UNKNOWN_MARKING)),
      indicator(7, 0, marked(TLP1.red)),
    ];
    const objects = [energy, ...plain, ...never];
    ingestor.ingest(
      C,
      [...objects, ...objects.slice(1).map((o, i) => relationship(100 + i, 'targets', o.id as string, energy.id as string))],
      FROM,
    );
    const inEnergy = new Set(
      pages((after) =>
        store.index.scanFiled({ collection: C, after, limit: 100, accept: all, maxScanned: 1000, keys: scanKeys(['energy'], true) }),
      ).map((e) => e.id),
    );
    for (const o of plain) expect(inEnergy.has(o.id as string), o.id as string).toBe(true);
    for (const o of never) {
      expect(inEnergy.has(o.id as string), o.id as string).toBe(false);
      // still stored, with its derived sectors (relay policy explain, full scans)
      expect(store.latestOf(C, o.id as string)?.attributes.sectors).toEqual(['energy']);
    }
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('files a relationship under the narrowest sector set a member must meet: not sectors only one end has, unscoped ends, absent ends', () => {
    const { store, ingestor } = setup();
    const energy = identity(1, ['energy']);
    const water = identity(2, ['water', 'energy']);
    const onlyEnergy = indicator(3);
    const both = indicator(4);
    const unscoped = indicator(5);
    ingestor.ingest(C, [energy, water, onlyEnergy, both, unscoped], FROM);
    ingestor.ingest(
      C,
      [
        relationship(6, 'targets', onlyEnergy.id as string, energy.id as string),
        relationship(7, 'targets', both.id as string, water.id as string),
      ],
      FROM,
    );
    const related = relationship(8, 'related-to', onlyEnergy.id as string, both.id as string);
    const toUnscoped = relationship(9, 'related-to', both.id as string, unscoped.id as string);
    const dangling = relationship(10, 'related-to', both.id as string, indicator(11).id as string);
    ingestor.ingest(C, [related, toUnscoped, dangling], FROM);
    const view = (sectors: string[], withUnscoped = false) =>
      pages((after) =>
        store.index.scanFiled({ collection: C, after, limit: 100, accept: all, maxScanned: 1000, keys: scanKeys(sectors, withUnscoped) }),
      ).map((e) => e.id);
    // {energy} and {energy, water}: only energy members can receive it, so water's range does not hold it
    expect(store.latestOf(C, related.id as string)?.attributes.sectors).toEqual(['energy', 'water']);
    expect(view(['energy'])).toContain(related.id);
    expect(view(['water'])).not.toContain(related.id);
    // an unscoped end: only the unscoped bucket (members taking unscoped objects) holds it
    expect(view(['energy', 'water'])).not.toContain(toUnscoped.id);
    expect(view(['water'], true)).toContain(toUnscoped.id);
    // an end not (yet) in the collection: no range at all, until it arrives
    expect(view(['energy', 'water'], true)).not.toContain(dangling.id);
    ingestor.ingest(C, [indicator(11), relationship(12, 'targets', indicator(11).id as string, water.id as string)], FROM);
    expect(view(['water'])).toContain(dangling.id);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });
  it('a sector page lets go of its range reads: pages between commits, across event-loop turns, never exhaust the reader slots', async () => {
    const { store, ingestor } = setup();
    ingestor.ingest(C, [identity(1, ['energy']), ...Array.from({ length: 50 }, (_, i) => indicator(10 + i))], FROM);
    // LMDB has 126 reader slots by default; a page that kept its snapshot past a commit held one for good
    for (let i = 0; i < 300; i++) {
      const page = store.index.scanFiled({
        collection: C,
        after: 0,
        limit: 5,
        accept: all,
        maxScanned: 100,
        keys: scanKeys(['energy'], true),
      });
      expect(page.more).toBe(true);
      ingestor.ingest(C, [indicator(1000 + i)], FROM);
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});
