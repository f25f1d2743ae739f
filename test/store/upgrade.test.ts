/**
 * A store written by an earlier release opens as a current one: its one `meta` database,
 * bodies keyed by `[id, version]`, entries with one-letter fields, link roles ts/tt/is/it/o/v
 * and (older still) one record per version instead of version lists are converted once, every
 * version keeps its date_added, provenance and derived attributes, and the re-derivation queued
 * by the conversion moves nothing (the earlier release kept them consistent).
 *
 * The earlier layout is written here from a store built by the current code (the test's own
 * `writeEarlierLayout`, field for field as that release wrote it), so the comparison is exact.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { Reindexer } from '../../src/derive/reindexer.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { scanKeys } from '../../src/policy/filing.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import { Store, type IndexEntry } from '../../src/store/index.ts';
import {
  identity,
  indicator,
  malware,
  marked,
  opinion,
  relationship,
  sighting,
  TLP2,
  UNKNOWN_MARKING,
} from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

type Key = (string | number)[];
const CODES: Record<string, string> = {
  'targets-source': 'ts',
  'targets-target': 'tt',
  'indicates-source': 'is',
  'indicates-target': 'it',
  'opinion-of': 'o',
  'end-of': 'v',
};

/** Rewrites the store at `path` as the release before layout 4 left it (`perVersion`: as the one before version lists). */
async function writeEarlierLayout(path: string, perVersion: boolean): Promise<void> {
  const env = open({ path, maxDbs: 64, compression: false });
  const db = <V>(name: string, options: Record<string, unknown> = {}) => env.openDB<V, Key>(name, options);
  const current = {
    entries: env.openDB<any, Key>('index-entries', { sharedStructuresKey: Symbol.for('entry-structures') }),
    bodies: env.openDB<string, number>('bodies', { encoding: 'string' }),
    provenance: db<number>('body-provenance'),
    links: db<number>('object-links'),
    summaries: db<unknown>('link-summaries'),
    filed: db<number>('sector-index'),
    counts: env.openDB<number, string>('counts', {}),
    clock: env.openDB<number, string>('clock', {}),
    settings: env.openDB<unknown, string>('settings', {}),
    lists: db<Array<[string, number]>>('version-lists'),
    pending: db<unknown>('pending'),
    order: db<unknown>('pending-order'),
  };
  const old = {
    objects: env.openDB<string, Key>('objects', { encoding: 'string' }),
    entries: env.openDB<any, Key>('entries', { sharedStructuresKey: Symbol.for('structures') }),
    provenance: db<number>('provenance'),
    links: db<number>('links'),
    summaries: db<unknown>('summaries'),
    sectors: db<number>('sectors'),
    versions: db<number>('versions'),
    meta: env.openDB<unknown, string>('meta', {}),
  };
  await env.transaction(() => {
    for (const { key, value: r } of current.entries.getRange({})) {
      const f = r.facts;
      old.objects.putSync([r.id, r.versionKey], current.bodies.get(r.body) as string);
      for (const { key: p, value } of current.provenance.getRange({ start: [r.body], end: [r.body, '\uffff'] })) {
        old.provenance.putSync([r.id, r.versionKey, p[1] as string, p[2] as string], value);
      }
      old.entries.putSync(key, {
        id: r.id,
        type: r.type,
        version: r.version,
        versionKey: r.versionKey,
        specVersion: r.specVersion,
        edge: r.versionEdges,
        f: {
          tlp: f.tlp,
          rank: f.rank,
          granular: f.granular,
          ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
          revoked: f.revoked,
          own: f.ownSectors,
          ...(f.relationshipType !== undefined ? { rt: f.relationshipType, src: f.sourceRef, tgt: f.targetRef } : {}),
          ...(f.refs !== undefined ? { refs: f.refs } : {}),
          ...(f.opinionValue !== undefined ? { opinion: f.opinionValue } : {}),
        },
        ...(r.linked ? { s: r.linked.sectors, ...(r.linked.opinion !== undefined ? { o: r.linked.opinion } : {}) } : {}),
      });
    }
    for (const key of current.filed.getKeys({})) old.sectors.putSync(key, 1);
    for (const key of current.links.getKeys({}))
      old.links.putSync([key[0] as string, key[1] as string, CODES[key[2] as string] as string, key[3] as string], 1);
    for (const { key, value } of current.summaries.getRange({})) old.summaries.putSync(key, value);
    if (perVersion) {
      for (const { key, value } of current.lists.getRange({})) {
        for (const [versionKey, dateAdded] of value) old.versions.putSync([...key, versionKey], dateAdded);
        current.lists.removeSync(key);
      }
    }
    for (const { key, value } of current.counts.getRange({})) old.meta.putSync(`count:${key}`, value);
    old.meta.putSync('clock', current.clock.get('last'));
    old.meta.putSync('node-secret', current.settings.get('node-secret'));
    old.meta.putSync('link-summaries-2', 1);
    for (const db of [current.entries, current.bodies, current.provenance, current.links, current.summaries, current.filed]) db.clearSync();
    for (const db of [current.counts, current.clock, current.settings, current.pending, current.order]) db.clearSync();
  });
  await env.close();
}

describe('opening a store written by an earlier release', () => {
  for (const perVersion of [false, true]) {
    it(`converts ${perVersion ? 'one record per version' : 'the layout before layout 4'}: every version, date_added, provenance and derived attribute kept; re-derivation moves nothing`, async () => {
      const t = tempDir('relay-upgrade-');
      cleanups.push(t.cleanup);
      const path = join(t.dir, 'store');
      const energy = identity(1, ['energy']);
      const water = identity(2, ['water'], marked(TLP2.green));
      const m = malware(3);
      const ind = indicator(4, 0, marked(TLP2.green));
      const other = indicator(5);
      const waiting = indicator(13, 0, marked(UNKNOWN_MARKING));
      const tlpGreen = {
        type: 'marking-definition',
        spec_version: '2.1',
        id: TLP2.green,
        created: '2022-10-01T00:00:00.000Z',
        definition_type: 'tlp',
        definition: { tlp: 'green' },
      };
      const first = [
        waiting,
        tlpGreen,
        energy,
        water,
        m,
        ind,
        other,
        relationship(6, 'indicates', ind.id as string, m.id as string),
        relationship(7, 'targets', m.id as string, energy.id as string),
        relationship(8, 'related-to', other.id as string, water.id as string),
        sighting(9, ind.id as string, [water.id as string]),
        opinion(10, 'agree', [ind.id as string]),
      ];
      // a later version re-points the related-to relationship: its older version keeps its ends
      const later = [
        relationship(8, 'related-to', other.id as string, energy.id as string, {}, 1),
        opinion(11, 'disagree', [ind.id as string, m.id as string]),
      ];

      const before = Store.open(path);
      const ingestor = new Ingestor(before, DEFAULT_NODE_POLICY);
      ingestor.ingest(C, first, { source: 'import', detail: 'upgrade' });
      ingestor.ingest(C, later, { source: 'upstream', detail: 'hub/feed' });
      // (where a body is kept is the store's business: the conversion keys each by its entry's date_added)
      const snapshot = (s: Store): Array<Omit<IndexEntry, 'body'>> =>
        s.index
          .scan({ collection: C, after: 0, limit: 1000, accept: () => true, maxScanned: 10_000 })
          .entries.map(({ body: _body, ...e }) => e);
      const scanned = (s: Store) => s.index.scan({ collection: C, after: 0, limit: 1000, accept: () => true, maxScanned: 10_000 }).entries;
      const sectorView = (s: Store, sector: string): string[] =>
        s.index
          .scanFiled({ collection: C, after: 0, limit: 1000, accept: () => true, maxScanned: 10_000, keys: scanKeys([sector], false) })
          .entries.map((e) => e.id);
      const bodies = (s: Store) => scanned(s).map((e) => s.bodyOf(e));
      const provenance = (s: Store) => scanned(s).map((e) => s.provenanceOf(C, e.id, e.versionKey));
      const expected = { entries: snapshot(before), bodies: bodies(before), provenance: provenance(before) };
      const expectedViews = { energy: sectorView(before, 'energy'), water: sectorView(before, 'water') };
      expect(expectedViews.energy.length).toBeGreaterThan(1);
      expect(expected.entries.some((e) => e.attributes.sectors.length > 0 && e.attributes.opinion !== undefined)).toBe(true);
      expect(before.check().problems).toEqual([]);
      const secret = before.resources.nodeSecret();
      await before.close();

      await writeEarlierLayout(path, perVersion);
      const upgraded = Store.open(path);
      cleanups.push(() => upgraded.close());
      // converted at once; the whole store is queued to be derived again by the current rules
      expect(snapshot(upgraded)).toEqual(expected.entries);
      expect(bodies(upgraded)).toEqual(expected.bodies);
      expect(provenance(upgraded)).toEqual(expected.provenance);
      expect({ energy: sectorView(upgraded, 'energy'), water: sectorView(upgraded, 'water') }).toEqual(expectedViews);
      expect(upgraded.resources.nodeSecret().equals(secret)).toBe(true);
      expect(upgraded.markings.isWaiting(UNKNOWN_MARKING, C, waiting.id as string)).toBe(true);
      expect(upgraded.queue.size()).toBe(new Set(first.concat(later).map((o) => o.id)).size);
      expect(upgraded.check().problems).toEqual([]);
      const reindexer = new Reindexer(upgraded, DEFAULT_NODE_POLICY);
      reindexer.drain();
      expect(reindexer.reindexed).toBe(0);
      expect(snapshot(upgraded)).toEqual(expected.entries);
      expect(upgraded.check().problems).toEqual([]);
      // new links are derived incrementally from the carried-over summaries
      new Ingestor(upgraded).ingest(C, [relationship(12, 'targets', other.id as string, water.id as string)], {
        source: 'import',
        detail: 'upgrade',
      });
      expect(upgraded.latestOf(C, other.id as string)?.attributes.sectors).toEqual(['water']);
      expect(upgraded.check().problems).toEqual([]);
    });
  }
});
