/**
 * Versions follow the latest, over real HTTPS: when a producer re-marks an object more tightly
 * (GREEN, then AMBER+STRICT), the older GREEN version is withdrawn with it. For a member who
 * may not see the latest version, every endpoint and every match[version] answers exactly as
 * for an id that does not exist: byte-identical 404s on the one-object endpoints, absent from
 * listings and manifests.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLP1, TLP2 } from '../../../src/stix/markings.ts';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

let t: TestNode;
const withdrawn = `indicator--${randomUUID()}`; // GREEN, then AMBER+STRICT
const loosened = `indicator--${randomUUID()}`; // AMBER, then GREEN
const steady = `indicator--${randomUUID()}`; // GREEN, then GREEN again
const unknown = `indicator--${randomUUID()}`; // never stored
const base = `/isac/collections/${COLLECTIONS.shared}`;

beforeAll(async () => {
  t = await startTestNode((data) => {
    // bob's ceiling is GREEN: he saw the first version of `withdrawn`
    data.members[1].policy = { tlp_ceiling: 'green' };
  });
  const marked = (id: string, v: number, marking: string) => indicator(id, v, { object_marking_refs: [marking] });
  t.node.ingestor.ingest(
    COLLECTIONS.shared,
    [marked(withdrawn, 0, TLP2.green), marked(loosened, 0, TLP1.amber), marked(steady, 0, TLP2.green), marked(steady, 1, TLP2.green)],
    { source: 'import', detail: 'test' },
  );
  t.node.ingestor.ingest(COLLECTIONS.shared, [marked(withdrawn, 1, TLP2.amberStrict), marked(loosened, 1, TLP1.green)], {
    source: 'import',
    detail: 'test',
  });
});
afterAll(async () => {
  await t?.close();
});

/** Status, body text and headers (without Date) as bob sees them. */
async function observe(path: string) {
  const res = await t.request(path, { headers: { accept: TAXII, authorization: basicAuth('bob') } });
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date') headers[name] = value;
  });
  return { status: res.status, text, headers };
}

const ids = (body: { objects?: Array<{ id: string }> }) => (body.objects ?? []).map((o) => o.id);

describe('a re-marked object withdraws its older versions', () => {
  it('a member without AMBER+STRICT gets the one-object endpoints of the re-marked object byte for byte as for an unknown id', async () => {
    const suffixes = [
      '/',
      '/?match[version]=all',
      '/?match[version]=first',
      '/?match[version]=last',
      `/?match[version]=${encodeURIComponent('2024-01-01T00:00:00.000Z')}`,
      '/versions/',
      '/versions/?limit=1',
    ];
    for (const suffix of suffixes) {
      const hidden = await observe(`${base}/objects/${withdrawn}${suffix}`);
      const none = await observe(`${base}/objects/${unknown}${suffix}`);
      expect(hidden.status, suffix).toBe(404);
      expect(hidden, suffix).toEqual(none);
    }
  });

  it('the re-marked object is absent from listings and manifests, whatever match[version] says', async () => {
    for (const version of ['all', 'first', 'last', 'first,last']) {
      const objects = await t.get(`${base}/objects/?match[version]=${version}`, 'bob');
      expect(objects.status).toBe(200);
      expect(ids(objects.body), version).not.toContain(withdrawn);
      const manifest = await t.get(`${base}/manifest/?match[version]=${version}`, 'bob');
      expect(ids(manifest.body), version).not.toContain(withdrawn);
      const byId = await t.get(`${base}/objects/?match[id]=${withdrawn}&match[version]=${version}`, 'bob');
      expect(ids(byId.body), version).toEqual([]);
    }
  });

  it('objects whose latest version the member may see keep every version it may see', async () => {
    const all = await t.get(`${base}/objects/?match[version]=all`, 'bob');
    const versionsOf = (id: string) =>
      (all.body.objects as Array<{ id: string; modified: string }>).filter((o) => o.id === id).map((o) => o.modified);
    expect(versionsOf(steady)).toHaveLength(2);
    // the AMBER first version of `loosened` stays above bob's ceiling; its GREEN latest is served
    expect(versionsOf(loosened)).toEqual([indicator(loosened, 1).modified]);
    const versions = await t.get(`${base}/objects/${steady}/versions/`, 'bob');
    expect(versions.body.versions).toHaveLength(2);
  });

  it('a member who may see the latest version still gets every version of the re-marked object', async () => {
    // alice's ceiling is AMBER: AMBER+STRICT is never redistributed to her either
    const alice = await t.get(`${base}/objects/${withdrawn}/versions/`, 'alice');
    expect(alice.status).toBe(404);
    // re-marking back to GREEN makes both versions reappear
    t.node.ingestor.ingest(COLLECTIONS.shared, [indicator(withdrawn, 2, { object_marking_refs: [TLP2.green] })], {
      source: 'import',
      detail: 'test',
    });
    const bob = await t.get(`${base}/objects/${withdrawn}/versions/`, 'bob');
    expect(bob.status).toBe(200);
    // the AMBER+STRICT version itself stays withheld; the GREEN ones are served
    expect(bob.body.versions).toEqual([indicator(withdrawn, 0).modified, indicator(withdrawn, 2).modified]);
  });
});
