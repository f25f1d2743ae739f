/**
 * Every public data set in /work/shared/data goes through the real ingest path into a real
 * store. What is rejected must be exactly the invalid content we know of, each with its reason;
 * everything else (custom types, open vocabularies, upstream quirks that harm no one) is stored.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ingestor, objectsOfDocument, type IngestReport } from '../../src/ingest/index.ts';
import { Store } from '../../src/store/index.ts';
import { tempDir } from '../support/stix-fixtures.ts';
import { DATA, jsonFiles } from '../support/data.ts';

const COLLECTION = '11111111-1111-4111-8111-111111111111';

type Obj = Record<string, unknown>;

/** The STIX objects of one data set, in file order, each with the file it came from. */
function objectsOf(dataset: string): Array<{ file: string; object: unknown }> {
  const root = join(DATA, dataset);
  if (dataset === 'oasis-medallion-taxii') {
    // A TAXII server's state, not a bundle: its collections' `objects` lists are the STIX content.
    const server = JSON.parse(readFileSync(join(root, 'default_data.json'), 'utf8')) as Record<string, any>;
    return Object.values(server).flatMap((apiRoot: any) =>
      ((apiRoot?.collections ?? []) as any[]).flatMap((c) =>
        ((c.objects ?? []) as unknown[]).map((object) => ({ file: `default_data.json#${c.id}`, object })),
      ),
    );
  }
  return jsonFiles(root)
    .filter((file) => {
      const rel = relative(root, file);
      // JSON Schema documents describe STIX; they are not STIX content.
      return !rel.startsWith('schemas/') && !rel.endsWith('.schema.json');
    })
    .flatMap((file) => objectsOfDocument(JSON.parse(readFileSync(file, 'utf8'))).map((object) => ({ file: relative(root, file), object })));
}

interface Expected {
  /** object count from the data README / SOURCE.md */
  objects: number;
  /** rejected objects: id (and version where an id has several) → reason substring */
  rejected: Array<{ id: string; version?: string; reason: RegExp }>;
}

const STIX20 = /missing required property 'spec_version' \(without it the object is STIX 2\.0\)/;

/**
 * The invalid content each data set is known to hold. All but the elevator's relationships are
 * listed in the data README; those 58 relationships (computed below by a plain check, not by the
 * validator) lack `target_ref`, which STIX requires and the relay's policy needs.
 */
const EXPECTED: Record<string, Expected> = {
  'oasis-common-objects': {
    objects: 46,
    rejected: [
      {
        id: 'relationship--1621d4d4-b67d-11e3-9670-f01faf20d111',
        reason: /invalid timestamp in 'created': '2022-101-27T13:49:54\.326Z'/,
      },
    ],
  },
  // The near-miss TLP id (…d5ec) in interop-objectmarking-test.json is a well-formed marking
  // reference: it is stored, and policy treats the unknown marking as most restrictive.
  'oasis-json-schemas': { objects: 260, rejected: [] },
  'oasis-cti-documentation': { objects: 62, rejected: [] },
  'oasis-stix-elevator-idioms': {
    objects: 5139,
    rejected: [{ id: 'incident--1b75ee8f-44d6-819a-d729-09ab52c91fdb', reason: STIX20 }],
  },
  'oasis-python-stix2-filestore': {
    objects: 31,
    rejected: [{ id: 'malware--b42378e0-f147-496f-992a-26a49705395b', reason: STIX20 }],
  },
  'oasis-medallion-taxii': {
    objects: 8,
    rejected: [{ id: 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec', version: '2018-02-23T18:30:00.000Z', reason: STIX20 }],
  },
  'mitre-attack': { objects: 5625, rejected: [] },
  'opencti-sectors': { objects: 121, rejected: [] },
  'opencti-test-bundle': {
    objects: 54,
    rejected: [
      { id: 'relationship--efc9bbb8-e606-4fb1-83ae-d74690fd0416', reason: STIX20 },
      {
        id: 'relationship--10f2228d-cc68-45e3-bce2-53b1841b01c2',
        reason: /'modified' \(2020-02-28T02:42:53\.582Z\) is earlier than 'created' \(2020-03-28T02:42:53\.582Z\)/,
      },
    ],
  },
  'attack-flow-corpus': { objects: 1120, rejected: [] },
};

// Independent check: relationships in the elevator outputs that have no target_ref.
const missingTarget = objectsOf('oasis-stix-elevator-idioms')
  .map(({ object }) => object as Obj)
  .filter((o) => o.type === 'relationship' && o.target_ref === undefined);
EXPECTED['oasis-stix-elevator-idioms']?.rejected.push(
  ...missingTarget.map((o) => ({ id: o.id as string, reason: /^missing required property 'target_ref'$/ })),
);

/** Versions by exact (id, version string): duplicates counted independently of the store. */
function expectedDuplicates(objects: readonly Obj[], rejectedIndexes: ReadonlySet<number>): number {
  const seen = new Set<string>();
  let duplicates = 0;
  objects.forEach((o, i) => {
    if (rejectedIndexes.has(i)) return;
    const key = `${String(o.id)}|${String(o.modified ?? o.created ?? '-')}`;
    if (seen.has(key)) duplicates++;
    seen.add(key);
  });
  return duplicates;
}

const { dir, cleanup } = tempDir('relay-datasets-');
afterAll(() => cleanup());

it('every folder of the data directory has an expectation here', () => {
  const folders = readdirSync(DATA)
    .filter((n) => statSync(join(DATA, n)).isDirectory())
    .sort();
  expect(folders).toEqual(Object.keys(EXPECTED).sort());
  expect(missingTarget).toHaveLength(58);
});

describe.each(Object.keys(EXPECTED))('data set %s', (dataset) => {
  const expected = EXPECTED[dataset] as Expected;
  const items = objectsOf(dataset);
  const objects = items.map((i) => i.object as Obj);
  let store: Store;
  let report: IngestReport;

  beforeAll(() => {
    store = Store.open(join(dir, dataset));
    report = new Ingestor(store).ingest(COLLECTION, objects, { source: 'import', detail: dataset }, { batchSize: 500 });
  });
  afterAll(async () => {
    await store.close();
  });

  it('holds the number of objects its README states', () => {
    expect(objects).toHaveLength(expected.objects);
  });

  it('stored + duplicate + rejected equals the objects in its files, and the store agrees', () => {
    expect(report.outcomes).toHaveLength(objects.length);
    expect(report.stored + report.duplicate + report.rejected).toBe(objects.length);
    expect(report.outcomes.filter((o) => o.kind === 'stored')).toHaveLength(report.stored);
    expect(report.outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(report.duplicate);
    expect(store.index.count(COLLECTION)).toBe(report.stored);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('rejects exactly the known invalid objects, each with its reason', () => {
    const rejected = report.outcomes
      .map((o, index) => ({ o, index }))
      .filter(({ o }) => o.kind === 'rejected')
      .map(({ o, index }) => ({ index, id: o.id, version: o.version, reason: o.kind === 'rejected' ? o.reason : '' }));
    expect(rejected.length).toBe(expected.rejected.length);
    for (const r of rejected) {
      expect(r.reason.length).toBeGreaterThan(0);
      expect(r.id).toBe((objects[r.index] as Obj).id);
    }
    expect(rejected.map((r) => r.id).sort()).toEqual(expected.rejected.map((r) => r.id).sort());
    for (const want of expected.rejected) {
      const got = rejected.filter((r) => r.id === want.id && (want.version === undefined || r.version === want.version));
      expect(got, `${want.id} ${want.version ?? ''}`).toHaveLength(1);
      expect(got[0]?.reason).toMatch(want.reason);
    }
  });

  it('stores every valid version once; repeats within the data set are duplicates', () => {
    const rejectedIndexes = new Set(report.outcomes.flatMap((o, i) => (o.kind === 'rejected' ? [i] : [])));
    expect(report.duplicate).toBe(expectedDuplicates(objects, rejectedIndexes));
    // each stored object reads back as the object received (custom types and properties included)
    report.outcomes.forEach((o, i) => {
      if (o.kind !== 'stored') return;
      const versions = store.versionsOf(COLLECTION, o.id);
      // a later relationship or opinion may have re-indexed the version (policy attributes):
      // it then sits at a later date_added
      const entry = versions.find((v) => v.version === o.version);
      expect(entry?.dateAdded).toBeGreaterThanOrEqual(o.dateAdded);
      expect(JSON.parse(store.bodyOf(entry!) as string)).toEqual(objects[i]);
    });
  });

  it('re-importing it gives all duplicates and no new date_added', () => {
    const before = { last: store.index.lastAdded(COLLECTION), count: store.index.count(COLLECTION) };
    const again = new Ingestor(store).ingest(COLLECTION, objects, { source: 'import', detail: `${dataset} again` }, { batchSize: 700 });
    expect(again.stored).toBe(0);
    expect(again.duplicate).toBe(report.stored + report.duplicate);
    expect(again.rejected).toBe(report.rejected);
    again.outcomes.forEach((o, i) => {
      const first = report.outcomes[i];
      if (o.kind !== 'duplicate' || first?.kind === 'rejected') return;
      // the date_added the version holds now (the first import's, or a later re-index's)
      const held = store.versionsOf(COLLECTION, o.id).find((v) => v.version === o.version);
      expect(o.dateAdded).toBe(held?.dateAdded);
      expect(o.dateAdded).toBeGreaterThanOrEqual(first?.dateAdded as number);
    });
    expect(store.index.lastAdded(COLLECTION)).toBe(before.last);
    expect(store.index.count(COLLECTION)).toBe(before.count);
  });
});

describe('every data set into a collection that accepts STIX 2.0 as well', () => {
  const ACCEPTS = new Map([[COLLECTION, new Set(['2.0', '2.1'] as const)]]);
  const reasons: Record<string, RegExp> = {
    'relationship--efc9bbb8-e606-4fb1-83ae-d74690fd0416': /^stored as 2\.0$/,
    'malware--b42378e0-f147-496f-992a-26a49705395b': /^stored as 2\.0$/,
    'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec': /^stored as 2\.0$/,
    // a STIX 2.1 type without spec_version: a 2.1 object that lost it, not STIX 2.0 content
    'incident--1b75ee8f-44d6-819a-d729-09ab52c91fdb': /^'incident' is a STIX 2\.1 type: a STIX 2\.1 object needs "spec_version": "2\.1"/,
  };

  it.each(Object.keys(EXPECTED))('%s: what was refused as STIX 2.0 is stored as 2.0, everything else as before', async (dataset) => {
    const objects = objectsOf(dataset).map((i) => i.object as Obj);
    const store = Store.open(join(dir, `${dataset}-with-2.0`));
    try {
      const report = new Ingestor(store, undefined, ACCEPTS).ingest(COLLECTION, objects, { source: 'import', detail: dataset });
      for (const want of EXPECTED[dataset]?.rejected ?? []) {
        const i = objects.findIndex((o) => o.id === want.id && (want.version === undefined || (o.modified ?? o.created) === want.version));
        const outcome = report.outcomes[i];
        const got =
          outcome?.kind === 'rejected'
            ? outcome.reason
            : `stored as ${store.versionsOf(COLLECTION, want.id).find((v) => v.version === outcome?.version)?.specVersion}`;
        // STIX 2.0 refusals became 2.0 versions (or a sharper reason); other rejections stand
        expect(got, want.id).toMatch(want.reason.source === STIX20.source ? (reasons[want.id] as RegExp) : want.reason);
      }
      const refusedAs20 = (EXPECTED[dataset]?.rejected ?? []).filter(
        (r) => r.reason.source === STIX20.source && !r.id.startsWith('incident--'),
      );
      expect(report.rejected).toBe((EXPECTED[dataset]?.rejected.length ?? 0) - refusedAs20.length);
      expect(store.check()).toMatchObject({ ok: true, problems: [] });
    } finally {
      await store.close();
    }
  });
});

describe('specific content', () => {
  it('attack-flow custom SDO types are stored unchanged', async () => {
    const objects = objectsOf('attack-flow-corpus').map((i) => i.object as Obj);
    const types = new Set(objects.map((o) => o.type));
    for (const t of ['attack-flow', 'attack-action', 'attack-asset', 'attack-condition', 'attack-operator']) expect(types).toContain(t);
    const store = Store.open(join(dir, 'attack-flow-types'));
    try {
      const report = new Ingestor(store).ingest(COLLECTION, objects, { source: 'import', detail: 'af' });
      expect(report.rejected).toBe(0);
      const action = objects.find((o) => o.type === 'attack-action') as Obj;
      const [entry] = store.versionsOf(COLLECTION, action.id as string);
      expect(entry?.type).toBe('attack-action');
      expect(JSON.parse(store.bodyOf(entry!) as string)).toEqual(action);
    } finally {
      await store.close();
    }
  });

  it('the filestore malware keeps its four versions, two of them 1 ms apart', async () => {
    const objects = objectsOf('oasis-python-stix2-filestore').map((i) => i.object as Obj);
    const store = Store.open(join(dir, 'filestore-versions'));
    try {
      new Ingestor(store).ingest(COLLECTION, objects, { source: 'import', detail: 'fs' });
      expect(store.versionsOf(COLLECTION, 'malware--6b616fc1-1505-48e3-8b2c-0d19337bff38').map((v) => v.version)).toEqual([
        '2017-05-31T21:32:58.226Z',
        '2018-11-01T23:24:48.456Z',
        '2018-11-01T23:24:48.457Z',
        '2018-11-16T22:54:20.390Z',
      ]);
    } finally {
      await store.close();
    }
  });

  it('ATT&CK ICS 17.1 then 18.1 gives real version history in one collection', async () => {
    const objects = objectsOf('mitre-attack');
    const ics17 = objects.filter((i) => i.file === 'ics-attack-17.1.json').map((i) => i.object as Obj);
    const ics18 = objects.filter((i) => i.file === 'ics-attack-18.1.json').map((i) => i.object as Obj);
    const store = Store.open(join(dir, 'ics-history'));
    try {
      const ingestor = new Ingestor(store);
      const first = ingestor.ingest(COLLECTION, ics17, { source: 'import', detail: '17.1' });
      const second = ingestor.ingest(COLLECTION, ics18, { source: 'import', detail: '18.1' });
      expect(first).toMatchObject({ stored: 1651, duplicate: 0, rejected: 0 });
      const ids17 = new Map(ics17.map((o) => [o.id, o.modified]));
      const changed = ics18.filter((o) => ids17.has(o.id) && ids17.get(o.id) !== o.modified);
      const same = ics18.filter((o) => ids17.has(o.id) && ids17.get(o.id) === o.modified);
      expect(changed).toHaveLength(77);
      expect(second).toMatchObject({ stored: 1826 - same.length, duplicate: same.length, rejected: 0 });
      const one = changed[0] as Obj;
      expect(store.versionsOf(COLLECTION, one.id as string).map((v) => v.version)).toEqual([ids17.get(one.id), one.modified]);
    } finally {
      await store.close();
    }
  });
});
