/**
 * A store written by an earlier release opens as a current one: the indexes added since (the
 * sector index; link summaries and the ends of every relationship and sighting version, which
 * replaced the latest-only role e; per-object version lists, which replaced one record per
 * version; the note of objects waiting for a marking definition) are built once when it is opened.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
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

/** Rewrites the store at `path` the way the release before link summaries and version lists left it. */
async function rewindToEarlierLayout(path: string): Promise<void> {
  const env = open({ path, maxDbs: 16, compression: false });
  const links = env.openDB<number, Key>('links', {});
  const meta = env.openDB<unknown, string>('meta', {});
  const sectors = env.openDB<number, Key>('sectors', {});
  const summaries = env.openDB<unknown, Key>('summaries', {});
  const versions = env.openDB<number, Key>('versions', {});
  const versionLists = env.openDB<Array<[string, number]>, Key>('version-lists', {});
  const unresolvedMarkings = env.openDB<number, Key>('unresolved-markings', {});
  const entries = env.openDB<{ type: string; edge: number; f?: { rt?: string; refs?: string[] }; n?: unknown }, Key>('entries', {
    sharedStructuresKey: Symbol.for('structures'),
  });
  await env.transaction(() => {
    // then: one record per version, [collection, id, versionKey] -> dateAdded
    for (const { key, value } of [...versionLists.getRange({})]) {
      for (const [versionKey, dateAdded] of value) versions.putSync([...key, versionKey], dateAdded);
      versionLists.removeSync(key);
    }
    for (const key of [...links.getKeys({})]) if (key[2] === 'v') links.removeSync(key);
    // then: the latest version of a relationship other than targets / indicates, and of a
    // sighting, referred to its ends as e
    for (const { key, value: dateAdded } of versions.getRange({})) {
      const [collection, id] = key as [string, string];
      const e = entries.get([collection, dateAdded]);
      if (!e || (e.edge & 2) === 0) continue;
      const isOther = e.type === 'relationship' && e.f?.rt !== 'targets' && e.f?.rt !== 'indicates';
      if (isOther || e.type === 'sighting') for (const ref of e.f?.refs ?? []) links.putSync([collection, ref, 'e', id], 1);
    }
    // then: relationships were filed under all their sectors, not the narrowest set a member must meet
    for (const { key, value } of [...entries.getRange({})]) {
      if (value.n === undefined) continue;
      const { n: _n, ...rest } = value;
      entries.putSync(key, rest);
    }
    for (const key of [...sectors.getKeys({})]) sectors.removeSync(key);
    for (const key of [...summaries.getKeys({})]) summaries.removeSync(key);
    // then: objects with markings the node could not resolve were not noted
    for (const key of [...unresolvedMarkings.getKeys({})]) unresolvedMarkings.removeSync(key);
    // an earlier release had none of the flags that say an index was built (only the clock,
    // the counters and the node secret)
    for (const key of [...meta.getKeys({})])
      if (key !== 'clock' && key !== 'node-secret' && !key.startsWith('count:')) meta.removeSync(key);
  });
  await env.close();
}

describe('opening a store written by an earlier release', () => {
  it('builds the sector index, link summaries and ends of every version once; attributes and pages are unchanged', async () => {
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
    ingestor.ingest(C, later, { source: 'import', detail: 'upgrade' });
    const snapshot = (s: Store): IndexEntry[] =>
      s.scan({ collection: C, after: 0, limit: 1000, accept: () => true, maxScanned: 10_000 }).entries.slice();
    const sectorView = (s: Store, sector: string): string[] =>
      s
        .scanSectors({ collection: C, after: 0, limit: 1000, accept: () => true, maxScanned: 10_000, sectors: [sector], unscoped: false })
        .entries.map((e) => e.id);
    const expected = snapshot(before);
    const expectedViews = { energy: sectorView(before, 'energy'), water: sectorView(before, 'water') };
    expect(expectedViews.energy.length).toBeGreaterThan(0);
    // a definition reaches every reader: every sector view lists it
    expect(expectedViews.energy).toContain(TLP2.green);
    expect(expected.some((e) => e.attributes.sectors.length > 0 && e.attributes.opinion !== undefined)).toBe(true);
    expect(before.check().problems).toEqual([]);
    await before.close();

    await rewindToEarlierLayout(path);
    const rewound = Store.open(path);
    try {
      expect(rewound.check().problems).toEqual([]);
      expect(rewound.markings.isWaiting(UNKNOWN_MARKING, C, waiting.id as string)).toBe(true);
      expect(snapshot(rewound)).toEqual(expected);
      expect({ energy: sectorView(rewound, 'energy'), water: sectorView(rewound, 'water') }).toEqual(expectedViews);
      // new links are derived incrementally from the rebuilt summaries
      new Ingestor(rewound).ingest(C, [relationship(12, 'targets', other.id as string, water.id as string)], {
        source: 'import',
        detail: 'upgrade',
      });
      expect(rewound.latestOf(C, other.id as string)?.attributes.sectors).toEqual(['water']);
      expect(rewound.check().problems).toEqual([]);
    } finally {
      await rewound.close();
    }
  });
});
