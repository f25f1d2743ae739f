/**
 * STIX 2.0 end to end over HTTPS: a collection whose media_types name STIX 2.0 and 2.1 takes
 * 2.0 objects by POST and by `relay import` (a real child process), stores them as received and
 * serves them under match[spec_version], with the 2.0 media type in the manifest and member
 * policy applied; a 2.1-only collection keeps refusing them with a clear reason. Real data:
 * medallion's collection (a malware held in STIX 2.1 and 2.0) and python-stix2's 2.0 bundle.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLP1 } from '../../../src/stix/markings.ts';
import { relay } from '../../support/cli.ts';
import { DATA } from '../../support/data.ts';
import { COLLECTIONS, TAXII, startTestNode, testConfigData, type TestMember, type TestNode } from '../../support/node.ts';

const MIXED = '55555555-5555-4555-8555-555555555555';
const VIEW21 = '66666666-6666-4666-8666-666666666666';
const MEDIA = { '2.0': 'application/stix+json;version=2.0', '2.1': 'application/stix+json;version=2.1' };
const M = `/isac/collections/${MIXED}`;
const SHARED = `/isac/collections/${COLLECTIONS.shared}`;
const VIEW = `/isac/collections/${VIEW21}`;

/** The test config, plus a 2.0+2.1 collection, a 2.1-only view of it, and bob at a GREEN ceiling reading both. */
function adjust(data: Record<string, any>): void {
  data.api_roots[0].collections.push(
    { id: MIXED, alias: 'mixed', title: 'STIX 2.0 and 2.1', media_types: [MEDIA['2.0'], MEDIA['2.1']] },
    { id: VIEW21, alias: 'mixed-21', title: 'The same, STIX 2.1 only', kind: 'view', source: 'mixed' },
  );
  const [alice, bob] = data.members;
  alice.grants.push({ api_root: 'isac', collection: 'mixed', read: true, write: true }, { api_root: 'isac', collection: 'mixed-21' });
  bob.grants.push({ api_root: 'isac', collection: 'mixed' });
  bob.policy = { tlp_ceiling: 'green' };
}

// medallion's "High Value Indicator Collection": media types 2.0 and 2.1, a malware in both
const medallion = JSON.parse(readFileSync(join(DATA, 'oasis-medallion-taxii/default_data.json'), 'utf8'));
const hvi = medallion.trustgroup1.collections.find((c: any) => c.id === '91a7b528-80eb-42ed-a74d-c6fbd5a26116');
const POISON_IVY = 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec';
const PI_21 = '2017-01-27T13:49:53.997Z'; // the older version, STIX 2.1
const PI_20 = '2018-02-23T18:30:00.000Z'; // the newer version, STIX 2.0
// python-stix2's STIX 2.0 bundle (spec_version "2.0" on the bundle, none on its malware)
const BUNDLE_20 = join(
  DATA,
  'oasis-python-stix2-filestore/stix2_data/malware/malware--b42378e0-f147-496f-992a-26a49705395b/20170531213215263882.json',
);
const bundle20 = JSON.parse(readFileSync(BUNDLE_20, 'utf8'));
const FILESTORE_MALWARE = bundle20.objects[0];

/** A STIX 2.0 SDO of ours (no spec_version), optionally marked. */
function sdo20(type: string, extra: Record<string, unknown> = {}) {
  return { type, id: `${type}--${randomUUID()}`, created: '2019-03-04T05:06:07Z', modified: '2019-03-04T05:06:07.5Z', ...extra };
}
const amber20 = sdo20('indicator', {
  labels: ['malicious-activity'],
  pattern: "[url:value = 'http://x.example/']",
  valid_from: '2019-03-04T05:06:07Z',
  object_marking_refs: [TLP1.amber],
});
const green20 = sdo20('indicator', {
  labels: ['malicious-activity'],
  pattern: "[url:value = 'http://y.example/']",
  valid_from: '2019-03-04T05:06:07Z',
  object_marking_refs: [TLP1.green],
});
const tlpAmberDefinition20 = {
  type: 'marking-definition',
  id: TLP1.amber,
  created: '2017-01-20T00:00:00.000Z',
  definition_type: 'tlp',
  definition: { tlp: 'amber' },
};
const deletable = sdo20('tool', { name: 'x', labels: ['remote-access'] });
const deletable21 = { ...deletable, spec_version: '2.1', created: '2019-03-04T05:06:07.000Z', modified: '2020-01-01T00:00:00.000Z' };

let t: TestNode;

async function post(path: string, objects: unknown[], member: TestMember = 'alice') {
  const res = await t.request(`${path}/objects/`, {
    method: 'POST',
    member,
    headers: { accept: TAXII, 'content-type': TAXII },
    body: JSON.stringify({ objects }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as any;
}

/** "id@version" of each object of a GET, in order. */
async function served(path: string, member: TestMember = 'alice'): Promise<string[]> {
  const r = await t.get(path, member);
  expect(r.status).toBe(200);
  return ((r.body.objects ?? []) as any[]).map((o) => `${o.id}@${o.modified ?? o.created}`);
}

beforeAll(async () => {
  t = await startTestNode(adjust);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('adding STIX 2.0 content', () => {
  it('POST into a 2.0+2.1 collection stores it: medallion’s whole collection, both malware versions included', async () => {
    const status = await post(M, hvi.objects);
    expect(status).toMatchObject({ status: 'complete', total_count: 8, success_count: 8, failure_count: 0 });
    const more = await post(M, [amber20, green20, tlpAmberDefinition20, deletable, deletable21]);
    expect(more).toMatchObject({ success_count: 5, failure_count: 0 });
  });

  it('POST into a 2.1-only collection refuses each 2.0 object with the reason; its 2.1 siblings are stored', async () => {
    const v21 = hvi.objects.find((o: any) => o.id === POISON_IVY && o.spec_version === '2.1');
    const v20 = hvi.objects.find((o: any) => o.id === POISON_IVY && o.spec_version === undefined);
    const status = await post(SHARED, [v20, v21, amber20]);
    expect(status).toMatchObject({ success_count: 1, failure_count: 2 });
    const reason = "missing required property 'spec_version' (without it the object is STIX 2.0): this collection accepts STIX 2.1 only";
    expect(status.failures).toEqual([
      { id: POISON_IVY, version: PI_20, message: reason },
      { id: amber20.id, version: amber20.modified, message: reason },
    ]);
    expect(await served(`${SHARED}/objects/${POISON_IVY}/?match[version]=all&match[spec_version]=2.0,2.1`)).toEqual([
      `${POISON_IVY}@${PI_21}`,
    ]);
    expect((await t.get(`${SHARED}/objects/${amber20.id}/`)).status).toBe(404);
  });

  it('`relay import` of a STIX 2.0 bundle: stored as 2.0 where accepted, refused with the reason where not', async () => {
    // a second process on the node's own store, as an operator would run it next to `relay start`
    const data = testConfigData(t.config.data_dir, join(t.dir, 'certs'));
    adjust(data);
    const config = join(t.dir, 'import.yaml');
    writeFileSync(config, stringify(data));
    const into = await relay(['import', '--config', config, '--collection', 'mixed', BUNDLE_20]);
    expect(into.code).toBe(0);
    expect(into.stdout).toContain(`${BUNDLE_20}: 1 objects: 1 stored, 0 duplicate, 0 rejected`);
    const refused = await relay(['import', '--config', config, '--collection', 'shared', BUNDLE_20]);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toContain(
      `  rejected #0 ${FILESTORE_MALWARE.id}: STIX 2.0 object (its bundle's spec_version is '2.0'): this collection accepts STIX 2.1 only`,
    );
    expect((await t.get(`${SHARED}/objects/${FILESTORE_MALWARE.id}/`)).status).toBe(404);
  }, 120_000);
});

describe('serving STIX 2.0 content', () => {
  it('match[spec_version]=2.0 serves the 2.0 objects exactly as received, and nothing else', async () => {
    const r = await t.get(`${M}/objects/?match[spec_version]=2.0`);
    const byId = new Map((r.body.objects as any[]).map((o) => [o.id, o]));
    expect([...byId.keys()].sort()).toEqual([POISON_IVY, amber20.id, green20.id, TLP1.amber, FILESTORE_MALWARE.id, deletable.id].sort());
    expect(byId.get(POISON_IVY)).toEqual(hvi.objects.find((o: any) => o.id === POISON_IVY && o.modified === PI_20));
    expect(byId.get(FILESTORE_MALWARE.id)).toEqual(FILESTORE_MALWARE);
    expect(byId.get(amber20.id)).toEqual(amber20);
    for (const o of byId.values()) expect(o.spec_version).toBeUndefined();
  });

  it('the manifest names each version’s media type: the same as medallion’s own manifest, 2.0 for the imported bundle', async () => {
    const r = await t.get(`${M}/manifest/?match[version]=all&match[spec_version]=2.0,2.1`);
    const media = new Map((r.body.objects as any[]).map((m) => [`${m.id}@${m.version}`, m.media_type]));
    expect(hvi.manifest).toHaveLength(8);
    for (const m of hvi.manifest) expect(media.get(`${m.id}@${m.version}`), `${m.id}@${m.version}`).toBe(m.media_type);
    expect(media.get(`${POISON_IVY}@${PI_20}`)).toBe(MEDIA['2.0']);
    expect(media.get(`${FILESTORE_MALWARE.id}@${FILESTORE_MALWARE.modified}`)).toBe(MEDIA['2.0']);
    expect(media.get(`${amber20.id}@${amber20.modified}`)).toBe(MEDIA['2.0']);
  });

  describe('match[spec_version] with match[version], on an object held in 2.1 (older) and 2.0 (newer)', () => {
    const ids = `match[id]=${POISON_IVY},${FILESTORE_MALWARE.id}`;
    // the scan path (flags on the index entries, version lists read where they do not suffice) and the id path
    const both = async (query: string) => {
      const scanned = (await served(`${M}/objects/?match[type]=malware&${query}`)).filter(
        (v) => v.startsWith(POISON_IVY) || v.startsWith(FILESTORE_MALWARE.id),
      );
      const looked = await served(`${M}/objects/?${ids}&${query}`);
      expect(scanned).toEqual(looked);
      return looked;
    };

    it('default: the latest spec version each object is held in, then its newest version there', async () => {
      expect(await both('')).toEqual(
        expect.arrayContaining([`${POISON_IVY}@${PI_21}`, `${FILESTORE_MALWARE.id}@${FILESTORE_MALWARE.modified}`]),
      );
      expect(await both('')).toHaveLength(2);
      expect(await served(`${M}/objects/${POISON_IVY}/`)).toEqual([`${POISON_IVY}@${PI_21}`]);
      const manifest = await t.get(`${M}/manifest/?match[id]=${POISON_IVY}`);
      expect(manifest.body.objects.map((m: any) => [m.version, m.media_type])).toEqual([[PI_21, MEDIA['2.1']]]);
    });

    it('2.0: the newest 2.0 version', async () => {
      expect((await both('match[spec_version]=2.0')).sort()).toEqual(
        [`${POISON_IVY}@${PI_20}`, `${FILESTORE_MALWARE.id}@${FILESTORE_MALWARE.modified}`].sort(),
      );
    });

    it('2.1: the newest 2.1 version, though a newer 2.0 one exists', async () => {
      expect(await both('match[spec_version]=2.1')).toEqual([`${POISON_IVY}@${PI_21}`]);
    });

    it('2.0,2.1: the newest of both', async () => {
      expect((await both('match[spec_version]=2.0,2.1')).sort()).toEqual(
        [`${POISON_IVY}@${PI_20}`, `${FILESTORE_MALWARE.id}@${FILESTORE_MALWARE.modified}`].sort(),
      );
      expect(await both('match[spec_version]=2.1,2.0&match[version]=first')).toEqual(
        expect.arrayContaining([`${POISON_IVY}@${PI_21}`, `${FILESTORE_MALWARE.id}@${FILESTORE_MALWARE.modified}`]),
      );
    });

    it('all: every version of the requested spec versions (default: the latest one held)', async () => {
      expect(await served(`${M}/objects/?match[id]=${POISON_IVY}&match[version]=all`)).toEqual([`${POISON_IVY}@${PI_21}`]);
      expect((await served(`${M}/objects/?match[id]=${POISON_IVY}&match[version]=all&match[spec_version]=2.0,2.1`)).sort()).toEqual(
        [`${POISON_IVY}@${PI_21}`, `${POISON_IVY}@${PI_20}`].sort(),
      );
    });

    it('first / a timestamp / last are taken among the requested spec versions', async () => {
      expect(await served(`${M}/objects/${POISON_IVY}/?match[version]=first&match[spec_version]=2.0`)).toEqual([`${POISON_IVY}@${PI_20}`]);
      expect(await served(`${M}/objects/${POISON_IVY}/?match[version]=${PI_20}`)).toEqual([]); // the default is 2.1 only
      expect(await served(`${M}/objects/${POISON_IVY}/?match[version]=${PI_20}&match[spec_version]=2.0`)).toEqual([
        `${POISON_IVY}@${PI_20}`,
      ]);
    });

    it('versions endpoint: the latest spec version by default, every listed one otherwise', async () => {
      expect((await t.get(`${M}/objects/${POISON_IVY}/versions/`)).body.versions).toEqual([PI_21]);
      expect((await t.get(`${M}/objects/${POISON_IVY}/versions/?match[spec_version]=2.0,2.1`)).body.versions).toEqual([PI_21, PI_20]);
      expect((await t.get(`${M}/objects/${POISON_IVY}/versions/?match[spec_version]=2.0`)).body.versions).toEqual([PI_20]);
    });

    it('a view that advertises STIX 2.1 only serves the 2.1 versions of its 2.0+2.1 source', async () => {
      expect(await served(`${VIEW}/objects/?match[type]=malware`)).toEqual(expect.arrayContaining([`${POISON_IVY}@${PI_21}`]));
      expect((await served(`${VIEW}/objects/?match[type]=malware`)).filter((v) => v.startsWith(FILESTORE_MALWARE.id))).toEqual([]);
      expect(await served(`${VIEW}/objects/?match[spec_version]=2.0`)).toEqual([]);
      expect((await t.get(`${VIEW}/objects/${POISON_IVY}/versions/?match[spec_version]=2.0,2.1`)).body.versions).toEqual([PI_21]);
    });
  });

  it('DELETE with match[spec_version]=2.0 removes only the 2.0 versions; without it, every version', async () => {
    expect((await t.get(`${M}/objects/${deletable.id}/versions/?match[spec_version]=2.0,2.1`)).body.versions).toEqual([
      deletable.modified,
      deletable21.modified,
    ]);
    const del = await t.request(`${M}/objects/${deletable.id}/?match[spec_version]=2.0`, {
      method: 'DELETE',
      member: 'alice',
      headers: { accept: TAXII },
    });
    expect(del.status).toBe(200);
    expect((await t.get(`${M}/objects/${deletable.id}/versions/?match[spec_version]=2.0,2.1`)).body.versions).toEqual([
      deletable21.modified,
    ]);
    // the 2.1 version is left; a DELETE without filters removes whatever remains
    await post(M, [deletable]);
    const all = await t.request(`${M}/objects/${deletable.id}/`, { method: 'DELETE', member: 'alice', headers: { accept: TAXII } });
    expect(all.status).toBe(200);
    expect((await t.get(`${M}/objects/${deletable.id}/`)).status).toBe(404);
  });
});

describe('member policy on STIX 2.0 objects (TLP 1.0 markings)', () => {
  it('a 2.0 object above a member’s TLP ceiling is not served to it; one within it is', async () => {
    // alice: AMBER ceiling; bob: GREEN
    expect(await served(`${M}/objects/?match[spec_version]=2.0&match[type]=indicator`, 'alice')).toEqual(
      expect.arrayContaining([`${amber20.id}@${amber20.modified}`, `${green20.id}@${green20.modified}`]),
    );
    expect(await served(`${M}/objects/?match[spec_version]=2.0&match[type]=indicator`, 'bob')).toEqual([
      `${green20.id}@${green20.modified}`,
    ]);
    expect((await t.get(`${M}/objects/${amber20.id}/`, 'bob')).status).toBe(404);
    expect((await t.get(`${M}/objects/${green20.id}/`, 'bob')).status).toBe(200);
    const manifest = await t.get(`${M}/manifest/?match[spec_version]=2.0&match[type]=indicator`, 'bob');
    expect(manifest.body.objects.map((m: any) => [m.id, m.media_type])).toEqual([[green20.id, MEDIA['2.0']]]);
  });

  it('the TLP 1.0 marking-definition in its STIX 2.0 form is served to everyone (a public definition)', async () => {
    expect(await served(`${M}/objects/${TLP1.amber}/`, 'bob')).toEqual([`${TLP1.amber}@2017-01-20T00:00:00.000Z`]);
  });
});
