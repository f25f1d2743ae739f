/**
 * No existence leaks, over real HTTPS: a member never learns, by any endpoint, status code,
 * header or error message, that a collection, object, status resource or paging position it
 * holds no grant for exists. Every probe of something that exists but is not granted is
 * compared byte for byte (status, body, headers) with the same probe of something that does
 * not exist at all.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/auth/index.ts';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

let t: TestNode;
const inSecretOnly = indicator().id; // exists only in the `secret` collection
const inShared = indicator().id;
const UNKNOWN_COLLECTION = '99999999-9999-4999-8999-999999999999';
let aliceStatusId: string;
let aliceSecretNext: string;
let aliceSharedNext: string;

beforeAll(async () => {
  t = await startTestNode((data) => {
    // dave may read and write `shared` only: he can reach DELETE and POST on a granted collection
    data.members.push({
      id: 'dave',
      name: 'Dave SA',
      credentials: { basic_secret_hash: hashSecret('dave-secret') },
      grants: [{ api_root: 'isac', collection: 'shared', read: true, write: true }],
    });
  });
  const secretObjects = [indicator(inSecretOnly, 0), indicator(inSecretOnly, 1), indicator(), indicator()];
  t.node.ingestor.ingest(COLLECTIONS.secret, secretObjects, { source: 'import', detail: 'test' });
  t.node.ingestor.ingest(COLLECTIONS.shared, [indicator(inShared), indicator(), indicator()], { source: 'import', detail: 'test' });

  const post = await t.request(`/isac/collections/${COLLECTIONS.inbox}/objects/`, {
    method: 'POST',
    member: 'alice',
    headers: { accept: TAXII, 'content-type': TAXII },
    body: JSON.stringify({ objects: [indicator()] }),
  });
  aliceStatusId = ((await post.json()) as { id: string }).id;
  const secretPage = await t.get(`/isac/collections/${COLLECTIONS.secret}/objects/?limit=1`, 'alice');
  aliceSecretNext = secretPage.body.next;
  const sharedPage = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/?limit=1`, 'alice');
  aliceSharedNext = sharedPage.body.next;
});
afterAll(async () => {
  await t?.close();
});

interface Probe {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Status, body text and headers (without Date), as the client sees them. */
async function observe(member: string | null, path: string, probe: Probe = {}) {
  const headers: Record<string, string> = { accept: TAXII, ...probe.headers };
  if (member) headers.authorization = basicAuth(member, `${member}-secret`);
  const res = await t.request(path, { method: probe.method ?? 'GET', headers, body: probe.body });
  const text = await res.text();
  const seen: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date') seen[name] = value;
  });
  return { status: res.status, text, headers: seen };
}

async function expectAlike(member: string, hidden: string, unknown: string, probe: Probe = {}) {
  const a = await observe(member, hidden, probe);
  const b = await observe(member, unknown, probe);
  expect(a, `${probe.method ?? 'GET'} ${hidden} vs ${unknown}`).toEqual(b);
  return a;
}

const envelope = JSON.stringify({ objects: [indicator()] });
const collectionProbes: Array<[string, string, Probe]> = [
  ['collection', '', {}],
  ['objects', 'objects/', {}],
  ['objects with filters', `objects/?match[type]=indicator&limit=1&added_after=2020-01-01T00:00:00Z`, {}],
  ['objects with a bad limit', 'objects/?limit=abc', {}],
  ['objects with a bad added_after', 'objects/?added_after=yesterday', {}],
  ['objects with a garbage next', 'objects/?next=garbage', {}],
  ['objects with too many ids', `objects/?match[id]=${Array.from({ length: 101 }, (_, i) => `x${i}`).join(',')}`, {}],
  ['manifest', 'manifest/', {}],
  ['manifest with a bad version', 'manifest/?match[version]=nope', {}],
  ['an object that exists there', `objects/${inSecretOnly}/`, {}],
  ['an object that exists nowhere', `objects/indicator--${randomUUID()}/`, {}],
  ['versions', `objects/${inSecretOnly}/versions/`, {}],
  ['DELETE', `objects/${inSecretOnly}/`, { method: 'DELETE' }],
  ['DELETE with a bad match', `objects/${inSecretOnly}/?match[version]=bad`, { method: 'DELETE' }],
  ['POST', 'objects/', { method: 'POST', headers: { 'content-type': TAXII }, body: envelope }],
  ['POST with a wrong media type', 'objects/', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: envelope }],
  ['POST with invalid JSON', 'objects/', { method: 'POST', headers: { 'content-type': TAXII }, body: '{"objects": [' }],
  ['POST too large', 'objects/', { method: 'POST', headers: { 'content-type': TAXII }, body: 'x'.repeat(1024 * 1024 + 10) }],
  ['PUT (method not allowed)', 'objects/', { method: 'PUT', body: '{}' }],
  ['Accept not acceptable', 'objects/', { headers: { accept: 'text/html' } }],
];

describe('collections without a grant look exactly like collections that do not exist', () => {
  for (const [label, suffix, probe] of collectionProbes) {
    it(`${label}: by id and by alias`, async () => {
      for (const member of ['bob', 'dave', 'carol']) {
        const byId = await expectAlike(
          member,
          `/isac/collections/${COLLECTIONS.secret}/${suffix}`,
          `/isac/collections/${UNKNOWN_COLLECTION}/${suffix}`,
          probe,
        );
        const byAlias = await expectAlike(member, `/isac/collections/secret/${suffix}`, `/isac/collections/no-such-alias/${suffix}`, probe);
        expect(byId.status).toBeGreaterThanOrEqual(400);
        expect(byAlias).toEqual(byId);
        expect(byId.text).not.toMatch(/secret|Board only|33333333/i);
      }
    });
  }

  it('nothing was written or deleted by those probes', async () => {
    const r = await t.get(`/isac/collections/${COLLECTIONS.secret}/objects/${inSecretOnly}/versions/`, 'alice');
    expect(r.body.versions).toHaveLength(2);
    const all = await t.get(`/isac/collections/${COLLECTIONS.secret}/manifest/`, 'alice');
    expect(all.body.objects).toHaveLength(3);
  });
});

describe('listings never name what is not granted', () => {
  it('discovery lists only roots with grants; collections lists only granted collections', async () => {
    for (const member of ['bob', 'dave', 'carol']) {
      const discovery = await observe(member, '/taxii2/');
      expect(discovery.status).toBe(200);
      expect(discovery.text).not.toContain('/other/');
      const collections = await observe(member, '/isac/collections/');
      for (const hidden of [COLLECTIONS.secret, 'secret', 'Board only', COLLECTIONS.empty, 'Empty collection']) {
        expect(collections.text, `${member} ${hidden}`).not.toContain(hidden);
      }
    }
  });

  it('an API root without grants looks like an unknown root, on every path below it', async () => {
    for (const suffix of ['', 'collections/', `collections/${COLLECTIONS.shared}/objects/`, `status/${aliceStatusId}/`]) {
      await expectAlike('alice', `/other/${suffix}`, `/nowhere/${suffix}`);
      await expectAlike('carol', `/isac/${suffix}`, `/nowhere/${suffix}`);
    }
  });
});

describe('objects held only in an ungranted collection', () => {
  const shared = `/isac/collections/${COLLECTIONS.shared}`;
  const nowhere = () => `indicator--${randomUUID()}`;

  it('are not found through a granted collection, exactly like ids that exist nowhere', async () => {
    const other = nowhere();
    await expectAlike('bob', `${shared}/objects/${inSecretOnly}/`, `${shared}/objects/${other}/`);
    await expectAlike('bob', `${shared}/objects/${inSecretOnly}/versions/`, `${shared}/objects/${other}/versions/`);
    await expectAlike('dave', `${shared}/objects/${inSecretOnly}/`, `${shared}/objects/${other}/`, { method: 'DELETE' });
    const filtered = await expectAlike('bob', `${shared}/objects/?match[id]=${inSecretOnly}`, `${shared}/objects/?match[id]=${other}`);
    expect(filtered.status).toBe(200);
    await expectAlike('bob', `${shared}/manifest/?match[id]=${inSecretOnly}`, `${shared}/manifest/?match[id]=${other}`);
  });

  it('an object present in a granted collection is found (the probes above can tell)', async () => {
    const r = await observe('bob', `${shared}/objects/${inShared}/`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).objects[0].id).toBe(inShared);
  });
});

describe('status resources of another member', () => {
  it('look like status ids that do not exist', async () => {
    const own = await observe('alice', `/isac/status/${aliceStatusId}/`);
    expect(own.status).toBe(200);
    const r = await expectAlike('bob', `/isac/status/${aliceStatusId}/`, `/isac/status/${randomUUID()}/`);
    expect(r.status).toBe(404);
    await expectAlike('dave', `/isac/status/${aliceStatusId}/`, `/isac/status/${randomUUID()}/`);
  });
});

describe('next tokens minted for another member', () => {
  const shared = `/isac/collections/${COLLECTIONS.shared}`;
  // same length and alphabet as a real token, but minted by nobody
  const forged = () =>
    Buffer.concat([Buffer.from([1]), Buffer.alloc(8), Buffer.from(randomUUID().replace(/-/g, ''), 'hex'), Buffer.alloc(16)]).toString(
      'base64url',
    );

  it("a token from another member's ungranted collection tells nothing, in a granted one or in that collection", async () => {
    expect(typeof aliceSecretNext).toBe('string');
    const r = await expectAlike('bob', `${shared}/objects/?limit=1&next=${aliceSecretNext}`, `${shared}/objects/?limit=1&next=${forged()}`);
    expect(r.status).toBe(400);
    await expectAlike(
      'bob',
      `/isac/collections/${COLLECTIONS.secret}/objects/?limit=1&next=${aliceSecretNext}`,
      `/isac/collections/${UNKNOWN_COLLECTION}/objects/?limit=1&next=${aliceSecretNext}`,
    );
  });

  it("another member's token for a collection both may read is refused like a forged one", async () => {
    expect(typeof aliceSharedNext).toBe('string');
    const r = await expectAlike('bob', `${shared}/objects/?limit=1&next=${aliceSharedNext}`, `${shared}/objects/?limit=1&next=${forged()}`);
    expect(r.status).toBe(400);
    // ...while alice's own token works for alice
    const own = await observe('alice', `${shared}/objects/?limit=1&next=${aliceSharedNext}`);
    expect(own.status).toBe(200);
  });
});
