/** Policy attributes derived at ingest and re-derived when links arrive (real LMDB). */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { type NodePolicy } from '../../src/policy/index.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import { Store, type IndexEntry, type Provenance } from '../../src/store/index.ts';
import {
  identity,
  indicator,
  malware,
  marked,
  opinion,
  relationship,
  sighting,
  TLP1,
  TLP2,
  UNKNOWN_MARKING,
} from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const D = '22222222-2222-4222-8222-222222222222';
const FROM: Provenance = { source: 'import', detail: 'unit' };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setup(policy: Partial<NodePolicy> = {}) {
  const t = tempDir('relay-attrs-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  const ingestor = new Ingestor(store, { ...DEFAULT_NODE_POLICY, ...policy });
  const latest = (id: string, collection = C): IndexEntry => {
    const v = store.versionsOf(collection, id);
    return v[v.length - 1] as IndexEntry;
  };
  const add = (objects: Record<string, unknown>[], collection = C) => ingestor.ingest(collection, objects, FROM);
  return { store, ingestor, latest, add, reindexed: () => ingestor.derivation.reindexer.reindexed };
}

const idOf = (o: Record<string, unknown>) => o.id as string;

describe('derived attributes', () => {
  it('TLP 1.0 and 2.0, unknown and operator-mapped markings, granular flag, confidence, revoked', () => {
    const mapped = 'marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168';
    const { latest, add } = setup({ markingMap: new Map([[mapped, 'clear']]) });
    const objs = [
      indicator(1, 0, marked(TLP1.white)),
      indicator(2, 0, marked(TLP2.amberStrict, TLP1.green)),
      indicator(3, 0, marked(UNKNOWN_MARKING, TLP2.clear)),
      indicator(4, 0, marked(mapped)),
      indicator(5, 0, {
        confidence: 85,
        revoked: true,
        granular_markings: [{ marking_ref: TLP2.red, selectors: ['description'] }],
        description: 'x',
      }),
      indicator(6),
    ];
    add(objs);
    expect(latest(idOf(objs[0]!)).attributes.tlp).toEqual({ kind: 'tlp', level: 'clear' });
    expect(latest(idOf(objs[1]!)).attributes.tlp).toEqual({ kind: 'tlp', level: 'amber+strict' });
    expect(latest(idOf(objs[2]!)).attributes.tlp).toEqual({ kind: 'unknown', markings: [UNKNOWN_MARKING] });
    expect(latest(idOf(objs[3]!)).attributes.tlp).toEqual({ kind: 'tlp', level: 'clear' });
    expect(latest(idOf(objs[4]!)).attributes).toMatchObject({ confidence: 85, revoked: true, granular: true, type: 'indicator' });
    expect(latest(idOf(objs[5]!)).attributes).toMatchObject({ tlp: { kind: 'unmarked' }, revoked: false, granular: false, sectors: [] });
  });

  it('sectors: identity sectors, targets, indicator -indicates-> X -targets-> identity, custom properties, labels, SRO union', () => {
    const { latest, add, store } = setup({ sectorProperties: ['x_acme_sectors'], sectorLabels: ['sector:'] });
    const energy = identity(1, ['energy']);
    const health = identity(2, ['healthcare', 'x-open-vocab']);
    const m = malware(3);
    const ind = indicator(4);
    const other = indicator(5, 0, { x_acme_sectors: 'water', labels: ['sector:dams', 'sector:', 'tlp'] });
    const targets = relationship(6, 'targets', idOf(m), idOf(energy));
    const indicates = relationship(7, 'indicates', idOf(ind), idOf(m));
    const direct = relationship(8, 'targets', idOf(ind), idOf(health));
    const related = relationship(9, 'related-to', idOf(other), idOf(m));
    const seen = sighting(10, idOf(ind), [idOf(health)]);
    add([energy, health, m, ind, other, targets, indicates, direct, related, seen]);
    expect(latest(idOf(energy)).attributes.sectors).toEqual(['energy']);
    expect(latest(idOf(m)).attributes.sectors).toEqual(['energy']);
    expect(latest(idOf(ind)).attributes.sectors).toEqual(['energy', 'healthcare', 'x-open-vocab']);
    expect(latest(idOf(other)).attributes.sectors).toEqual(['dams', 'water']);
    expect(latest(idOf(related)).attributes.sectors).toEqual(['dams', 'energy', 'water']);
    expect(latest(idOf(seen)).attributes.sectors).toEqual(['energy', 'healthcare', 'x-open-vocab']);
    expect(latest(idOf(seen)).attributes.refs).toEqual([idOf(ind), idOf(health)]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('links more restricted than the object, or revoked, do not contribute (derived attributes must not leak)', () => {
    const { latest, add, store } = setup();
    const energy = identity(1, ['energy'], marked(TLP2.green));
    const amberInd = indicator(2, 0, marked(TLP2.amber));
    const greenInd = indicator(3, 0, marked(TLP2.green));
    const redRel = relationship(4, 'targets', idOf(amberInd), idOf(energy), marked(TLP2.red));
    const amberRel = relationship(5, 'targets', idOf(greenInd), idOf(energy), marked(TLP2.amber));
    add([energy, amberInd, greenInd, redRel, amberRel]);
    expect(latest(idOf(amberInd)).attributes.sectors).toEqual([]);
    expect(latest(idOf(greenInd)).attributes.sectors).toEqual([]);
    // a GREEN relationship moves the AMBER indicator; revoking it takes the sector away again
    const greenRel = relationship(6, 'targets', idOf(amberInd), idOf(energy), marked(TLP2.green));
    add([greenRel]);
    expect(latest(idOf(amberInd)).attributes.sectors).toEqual(['energy']);
    add([relationship(6, 'targets', idOf(amberInd), idOf(energy), { ...marked(TLP2.green), revoked: true }, 1)]);
    expect(latest(idOf(amberInd)).attributes.sectors).toEqual([]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('opinion score: mean over the latest versions of opinions about the object', () => {
    const { latest, add, store } = setup();
    const ind = indicator(1);
    add([ind, opinion(2, 'agree', [idOf(ind)]), opinion(3, 'strongly-disagree', [idOf(ind)])]);
    expect(latest(idOf(ind)).attributes.opinion).toBe(2.5);
    add([opinion(3, 'strongly-agree', [idOf(ind)], {}, 1)]); // a newer version replaces its vote
    expect(latest(idOf(ind)).attributes.opinion).toBe(4.5);
    add([opinion(2, 'agree', [], {}, 1)]); // no longer about the indicator
    expect(latest(idOf(ind)).attributes.opinion).toBe(5);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('links are per collection: a relationship in another collection moves nothing', () => {
    const { latest, add } = setup();
    const energy = identity(1, ['energy']);
    const ind = indicator(2);
    add([energy, ind]);
    add([energy, relationship(3, 'targets', idOf(ind), idOf(energy))], D);
    expect(latest(idOf(ind)).attributes.sectors).toEqual([]);
    expect(latest(idOf(ind), D)).toBeUndefined();
  });
});

describe('re-indexing when a later object changes an earlier one', () => {
  it('a late relationship gives the indicator a new date_added after it; check stays clean', () => {
    const { latest, add, store, reindexed } = setup();
    const energy = identity(1, ['energy']);
    const ind = indicator(2);
    const first = add([energy, ind]).outcomes[1]!;
    const before = latest(idOf(ind));
    expect(before.dateAdded).toBe(first.kind === 'stored' ? first.dateAdded : -1);
    const rel = add([relationship(3, 'targets', idOf(ind), idOf(energy))]).outcomes[0]!;
    const after = latest(idOf(ind));
    expect(after.attributes.sectors).toEqual(['energy']);
    expect(rel.kind).toBe('stored');
    expect(after.dateAdded).toBeGreaterThan(rel.kind === 'stored' ? rel.dateAdded : Infinity);
    // the relationship stays where it was placed: it was derived (and the indicator moved) before
    // anyone was served past it, so no client's position can have skipped it
    expect(latest(idOf(relationship(3, 'targets', '', '')), C).dateAdded).toBe(rel.kind === 'stored' ? rel.dateAdded : -1);
    expect(reindexed()).toBe(1);
    expect(store.index.count(C)).toBe(3);
    // the old position is gone: a scan sees the indicator once, at its new place
    const all = store.index.scan({ collection: C, after: 0, limit: 100, accept: () => true, maxScanned: 1000 }).entries;
    expect(all.map((e) => e.id)).toEqual([idOf(energy), relationship(3, 'targets', '', '').id, idOf(ind)]);
    expect(store.index.lastAdded(C)).toBe(after.dateAdded);
    // re-delivering the indicator is a duplicate reporting its current date_added
    expect(add([ind]).outcomes[0]).toMatchObject({ kind: 'duplicate', dateAdded: after.dateAdded });
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('a chain completed later (indicates, then targets) re-indexes the indicator and the relationships on it', () => {
    const { latest, add, store, ingestor } = setup();
    const energy = identity(1, ['energy']);
    const m = malware(2);
    const ind = indicator(3);
    const indicates = relationship(4, 'indicates', idOf(ind), idOf(m));
    const seen = sighting(5, idOf(ind));
    add([energy, m, ind, indicates, seen]);
    const mark = store.index.lastAdded(C) as number;
    add([relationship(6, 'targets', idOf(m), idOf(energy))]);
    for (const o of [m, ind, indicates, seen]) {
      expect(latest(idOf(o)).attributes.sectors, String(o.type)).toEqual(['energy']);
      expect(latest(idOf(o)).dateAdded).toBeGreaterThan(mark);
    }
    expect(latest(idOf(energy)).dateAdded).toBeLessThan(mark + 1);
    // deleting the targets relationship takes the sectors away again (re-indexed once more)
    const rel = latest(relationship(6, 'targets', '', '').id as string);
    ingestor.delete(C, [rel]);
    expect(latest(idOf(ind)).attributes.sectors).toEqual([]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('an older version of a relationship keeps following its own ends after a later version re-points it', () => {
    const { add, store } = setup();
    const ind = indicator(1);
    const m = malware(2);
    const elsewhere = malware(3);
    add([ind, relationship(4, 'indicates', idOf(ind), idOf(m))]);
    add([relationship(4, 'indicates', idOf(ind), idOf(elsewhere), {}, 1)]);
    // the malware the first version pointed at arrives later, with a sector of its own
    add([malware(2, { x_sector: 'energy' })], C);
    const [older, newer] = store.versionsOf(C, relationship(4, 'indicates', '', '').id as string);
    expect(older?.attributes.sectors).toEqual([]);
    expect(newer?.attributes.sectors).toEqual([]);
    add([identity(5, ['energy']), relationship(6, 'targets', idOf(m), identity(5, []).id as string)]);
    const [olderNow, newerNow] = store.versionsOf(C, relationship(4, 'indicates', '', '').id as string);
    expect(olderNow?.attributes.sectors).toEqual(['energy']);
    expect(newerNow?.attributes.sectors).toEqual([]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('a relationship that arrived before its indicator is re-indexed when the indicator arrives (it could not be served before)', () => {
    const { latest, add, store } = setup();
    const m = malware(1);
    const ind = indicator(2);
    const rel = relationship(3, 'indicates', idOf(ind), idOf(m));
    add([m, rel]);
    const mark = store.index.lastAdded(C) as number;
    add([ind]);
    expect(latest(idOf(rel)).dateAdded).toBeGreaterThan(latest(idOf(ind)).dateAdded);
    expect(latest(idOf(m)).dateAdded).toBeLessThanOrEqual(mark);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('a relationship is re-indexed when an end gains a sector, even when its own sectors stay the same', () => {
    const { latest, add, store } = setup();
    const energy = identity(1, ['energy']);
    const m = malware(2);
    const ind = indicator(3);
    const rel = relationship(4, 'related-to', idOf(ind), idOf(m));
    add([energy, m, ind, relationship(5, 'targets', idOf(m), idOf(energy)), rel]);
    // the relationship has the malware's sector already; the unscoped indicator hides it from energy members
    expect(latest(idOf(rel)).attributes.sectors).toEqual(['energy']);
    expect(latest(idOf(ind)).attributes.sectors).toEqual([]);
    const mark = store.index.lastAdded(C) as number;
    add([relationship(6, 'targets', idOf(ind), idOf(energy))]);
    expect(latest(idOf(ind)).attributes.sectors).toEqual(['energy']);
    expect(latest(idOf(rel)).attributes.sectors).toEqual(['energy']);
    expect(latest(idOf(rel)).dateAdded).toBeGreaterThan(mark);
    // what could not have become visible to anyone stays where it is
    expect(latest(idOf(m)).dateAdded).toBeLessThanOrEqual(mark);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('an object whose attributes do not change keeps its date_added', () => {
    const { latest, add, reindexed } = setup();
    const ind = indicator(1);
    const m = malware(2);
    add([ind, m]);
    const before = latest(idOf(ind)).dateAdded;
    add([relationship(3, 'indicates', idOf(ind), idOf(m))]);
    expect(latest(idOf(ind)).dateAdded).toBe(before);
    expect(reindexed()).toBe(0);
  });
});
