/**
 * STIX 2.0 through the one ingest path, into real LMDB: stored as received with spec version
 * "2.0" where the collection accepts it (its media_types), refused with a clear reason where
 * it does not; a STIX 2.0 bundle's objects are 2.0; real 2.0 data from the shared data sets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { acceptedSpecVersions, contentOfDocument, Ingestor, objectsOfDocument } from '../../src/ingest/index.ts';
import { TLP1 } from '../../src/stix/markings.ts';
import type { SpecVersion } from '../../src/stix/specversion.ts';
import { Store, type Provenance } from '../../src/store/index.ts';
import { DATA, jsonFiles } from '../support/data.ts';
import { COLLECTIONS, testConfigData } from '../support/node.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';

/** accepts STIX 2.0 and 2.1 */
const MIXED = '11111111-1111-4111-8111-111111111111';
/** accepts STIX 2.1 only */
const ONLY21 = '22222222-2222-4222-8222-222222222222';
const FROM: Provenance = { source: 'import', detail: 'unit' };
const ACCEPTS = new Map<string, ReadonlySet<SpecVersion>>([
  [MIXED, new Set(['2.0', '2.1'])],
  [ONLY21, new Set(['2.1'])],
]);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setup(): { store: Store; ingestor: Ingestor } {
  const t = tempDir('relay-ingest20-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  return { store, ingestor: new Ingestor(store, undefined, ACCEPTS) };
}

const malware20 = (extra: Record<string, unknown> = {}) => ({
  type: 'malware',
  id: 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec',
  created: '2017-01-27T13:49:53.997Z',
  modified: '2018-02-23T18:30:00Z',
  name: 'Poison Ivy',
  labels: ['remote-access-trojan'],
  ...extra,
});

describe('STIX 2.0 objects', () => {
  it('are stored as received, with spec version 2.0 in the index entry, where the collection accepts 2.0', () => {
    const { store, ingestor } = setup();
    const m = malware20();
    const report = ingestor.ingest(MIXED, [m], FROM);
    expect(report).toMatchObject({ stored: 1, rejected: 0 });
    const [entry] = store.versionsOf(MIXED, m.id);
    expect(entry).toMatchObject({ specVersion: '2.0', version: '2018-02-23T18:30:00Z' });
    // the body is the object received, not a 2.1 rewrite
    expect(JSON.parse(store.bodyOf(entry!) as string)).toEqual(m);
    expect(store.bodyOf(entry!)).not.toContain('spec_version');
    // the same version again is a duplicate, like any other
    expect(ingestor.ingest(MIXED, [{ ...m, modified: '2018-02-23T18:30:00.000Z' }], FROM)).toMatchObject({ stored: 0, duplicate: 1 });
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('are refused by a collection that accepts 2.1 only, with the reason, and nothing is stored', () => {
    const { store, ingestor } = setup();
    const report = ingestor.ingest(ONLY21, [malware20(), indicator(1)], FROM);
    expect(report).toMatchObject({ stored: 1, rejected: 1 });
    expect(report.outcomes[0]).toEqual({
      kind: 'rejected',
      id: malware20().id,
      version: malware20().modified,
      reason: "missing required property 'spec_version' (without it the object is STIX 2.0): this collection accepts STIX 2.1 only",
    });
    expect(store.versionsOf(ONLY21, malware20().id)).toEqual([]);
  });

  it('a collection the ingestor was not told about accepts 2.1 only', () => {
    const { ingestor } = setup();
    const report = ingestor.ingest('33333333-3333-4333-8333-333333333333', [malware20()], FROM);
    expect(report.outcomes[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/accepts STIX 2\.1 only$/) });
  });

  it('carry their TLP 1.0 markings into the policy facts like 2.1 objects', () => {
    const { store, ingestor } = setup();
    ingestor.ingest(MIXED, [malware20({ object_marking_refs: [TLP1.amber] })], FROM);
    expect(store.versionsOf(MIXED, malware20().id)[0]?.attributes.tlp).toEqual({ kind: 'tlp', level: 'amber' });
  });

  it('one object may be held in both spec versions, each version with its own', () => {
    const { store, ingestor } = setup();
    const v21 = { ...malware20(), spec_version: '2.1', modified: '2017-01-27T13:49:53.997Z', is_family: true };
    ingestor.ingest(MIXED, [v21, malware20()], FROM);
    expect(store.versionsOf(MIXED, v21.id).map((e) => [e.version, e.specVersion])).toEqual([
      ['2017-01-27T13:49:53.997Z', '2.1'],
      ['2018-02-23T18:30:00Z', '2.0'],
    ]);
  });
});

describe('STIX 2.0 bundles', () => {
  const ip = { type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-4bc5-b98d-13d6226742dd', value: '198.51.100.3' };
  const bundle = (spec: string | undefined, objects: unknown[]) => ({
    type: 'bundle',
    id: 'bundle--611947ce-ae3b-4fdb-b297-aed8eab22e4f',
    ...(spec ? { spec_version: spec } : {}),
    objects,
  });

  it('say so when unwrapped; envelopes, arrays, 2.1 bundles and single objects do not', () => {
    expect(contentOfDocument(bundle('2.0', [ip]))).toEqual({ objects: [ip], stix20Bundle: true });
    expect(contentOfDocument(bundle(undefined, [ip]))).toEqual({ objects: [ip], stix20Bundle: false });
    expect(contentOfDocument(bundle('2.1', [ip])).stix20Bundle).toBe(false);
    expect(contentOfDocument({ objects: [ip], spec_version: '2.0' }).stix20Bundle).toBe(false);
    expect(contentOfDocument([ip]).stix20Bundle).toBe(false);
    expect(contentOfDocument(ip)).toEqual({ objects: [ip], stix20Bundle: false });
    expect(objectsOfDocument(bundle('2.0', [ip]))).toEqual([ip]);
  });

  it('make their objects without spec_version STIX 2.0, observable-like ones included', () => {
    const { store, ingestor } = setup();
    const content = contentOfDocument(bundle('2.0', [malware20(), ip]));
    const report = ingestor.ingest(MIXED, content.objects, FROM, { inStix20Bundle: content.stix20Bundle });
    expect(report.outcomes.map((o) => o.kind)).toEqual(['stored', 'rejected']);
    expect(report.outcomes[1]).toMatchObject({ reason: expect.stringMatching(/STIX 2\.0 has no top-level observables/) });
    expect(store.versionsOf(MIXED, malware20().id)[0]?.specVersion).toBe('2.0');
    // the same observable outside a 2.0 bundle is a STIX 2.1 SCO
    expect(ingestor.ingest(MIXED, [ip], FROM)).toMatchObject({ stored: 1 });
    expect(store.versionsOf(MIXED, ip.id)[0]?.specVersion).toBe('2.1');
  });

  it('into a 2.1-only collection are refused, the reason naming the bundle', () => {
    const { ingestor } = setup();
    const report = ingestor.ingest(ONLY21, [malware20()], FROM, { inStix20Bundle: true });
    expect(report.outcomes[0]).toMatchObject({
      kind: 'rejected',
      reason: "STIX 2.0 object (its bundle's spec_version is '2.0'): this collection accepts STIX 2.1 only",
    });
  });
});

describe('accepted spec versions come from the collections’ media_types', () => {
  const { dir, cleanup } = tempDir('relay-ingest20-config-');
  afterAll(cleanup);
  const config = (mediaTypes: unknown) => {
    const data = testConfigData(join(dir, 'data'), join(dir, 'certs')) as Record<string, any>;
    const [first, second] = data.api_roots[0].collections;
    first.media_types = mediaTypes; // COLLECTIONS.shared
    delete second.media_types; // COLLECTIONS.inbox: the default
    return parseConfig(data, 'relay.yaml');
  };
  const problems = (mediaTypes: unknown): string[] => {
    try {
      config(mediaTypes);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return [...(error as ConfigError).problems];
    }
    throw new Error('the configuration was accepted');
  };

  it('2.0 and 2.1 where both are listed; 2.1 by default', () => {
    const accepted = acceptedSpecVersions(config(['application/stix+json;version=2.1', 'application/stix+json; version="2.0"']));
    expect(accepted.get(COLLECTIONS.shared)).toEqual(new Set(['2.0', '2.1']));
    expect(accepted.get(COLLECTIONS.inbox)).toEqual(new Set(['2.1']));
  });

  it('a media type that names no STIX version the relay knows is a configuration error naming the key and the fix', () => {
    const fix = 'expected a STIX media type: "application/stix+json;version=2.1" or "application/stix+json;version=2.0"';
    expect(problems(['application/stix+json;version=2.1', 'application/stix+json;version=2.2'])).toEqual([
      `api_roots[0].collections[0].media_types[1]: ${fix}`,
    ]);
    expect(problems(['application/json'])).toEqual([`api_roots[0].collections[0].media_types[0]: ${fix}`]);
  });
});

describe('real STIX 2.0 data into a collection that accepts 2.0 and 2.1', () => {
  it('python-stix2 filestore: every file stored, the 2.0 bundle’s malware as 2.0 (rejected where only 2.1 is accepted)', () => {
    const { store, ingestor } = setup();
    const root = join(DATA, 'oasis-python-stix2-filestore');
    let rejected = 0;
    for (const file of jsonFiles(root)) {
      const content = contentOfDocument(JSON.parse(readFileSync(file, 'utf8')));
      for (const collection of [MIXED, ONLY21]) {
        const report = ingestor.ingest(
          collection,
          content.objects,
          { source: 'import', detail: file },
          { inStix20Bundle: content.stix20Bundle },
        );
        if (collection === MIXED) expect(report.rejected, file).toBe(0);
        else rejected += report.rejected;
      }
    }
    expect(rejected).toBe(1);
    const poisonIvy = 'malware--b42378e0-f147-496f-992a-26a49705395b';
    expect(store.versionsOf(MIXED, poisonIvy).map((e) => e.specVersion)).toEqual(['2.0']);
    expect(store.versionsOf(ONLY21, poisonIvy)).toEqual([]);
    const specs = new Set<string>();
    for (const e of store.index.scan({ collection: MIXED, after: 0, limit: 1000, accept: () => true, maxScanned: 1000 }).entries) {
      if (e.id !== poisonIvy) specs.add(e.specVersion);
    }
    expect([...specs]).toEqual(['2.1']);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('medallion: the malware held in STIX 2.1 and 2.0, both versions stored', () => {
    const { store, ingestor } = setup();
    const server = JSON.parse(readFileSync(join(DATA, 'oasis-medallion-taxii/default_data.json'), 'utf8'));
    const collection = server.trustgroup1.collections.find((c: any) => c.id === '91a7b528-80eb-42ed-a74d-c6fbd5a26116');
    expect(collection.media_types).toEqual(['application/stix+json;version=2.0', 'application/stix+json;version=2.1']);
    const report = ingestor.ingest(MIXED, collection.objects, FROM);
    expect(report).toMatchObject({ stored: 8, rejected: 0 });
    expect(store.versionsOf(MIXED, 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec').map((e) => [e.version, e.specVersion])).toEqual([
      ['2017-01-27T13:49:53.997Z', '2.1'],
      ['2018-02-23T18:30:00.000Z', '2.0'],
    ]);
  });
});
