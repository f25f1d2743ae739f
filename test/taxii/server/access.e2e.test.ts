/**
 * End to end over HTTPS: discovery, API roots, collections, authentication and the
 * grant-driven 401 / 403 / 404 rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKeys } from '../../../src/auth/index.ts';
import { CHALLENGE } from '../../../src/auth/methods.ts';
import { issueToken } from '../../../src/auth/tokens.ts';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

let t: TestNode;
const sharedId = indicator().id;

beforeAll(async () => {
  t = await startTestNode();
  t.node.ingestor.ingest(COLLECTIONS.shared, [indicator(sharedId)], { source: 'import', detail: 'test' });
  t.node.ingestor.ingest(COLLECTIONS.inbox, [indicator(sharedId)], { source: 'import', detail: 'test' });
  t.node.ingestor.ingest(COLLECTIONS.secret, [indicator(sharedId)], { source: 'import', detail: 'test' });
});
afterAll(async () => {
  await t?.close();
});

async function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await t.request(path, { method: init.method ?? 'GET', headers: { accept: TAXII, ...init.headers }, body: init.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

describe('discovery', () => {
  it('describes the node and lists only the API roots the member holds grants in', async () => {
    const r = await t.get('/taxii2/', 'alice');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    expect(r.body).toEqual({
      title: 'Test relay',
      description: 'relay under test',
      contact: 'soc@example.org',
      default: '/isac/',
      api_roots: ['/isac/'],
    });
  });

  it('omits api_roots and default for a member without grants', async () => {
    const r = await t.get('/taxii2/', 'carol');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ title: 'Test relay', description: 'relay under test', contact: 'soc@example.org' });
  });

  it('accepts the URL without the trailing slash', async () => {
    const r = await t.get('/taxii2', 'alice');
    expect(r.status).toBe(200);
    expect(r.body.title).toBe('Test relay');
  });
});

describe('authentication', () => {
  it('answers a request without credentials with 401, WWW-Authenticate and a TAXII error', async () => {
    const r = await raw('/taxii2/');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    expect(r.body).toMatchObject({ title: 'Unauthorized', http_status: '401' });
  });

  it('gives a wrong password, an unknown member and a garbage token the same 401', async () => {
    const wrong = await raw('/isac/collections/', { headers: { authorization: basicAuth('alice', 'nope') } });
    const unknown = await raw('/isac/collections/', { headers: { authorization: basicAuth('mallory') } });
    const garbage = await raw('/isac/collections/', { headers: { authorization: 'Bearer not.a.jwt' } });
    const scheme = await raw('/isac/collections/', { headers: { authorization: 'Digest abc' } });
    for (const r of [wrong, unknown, garbage, scheme]) {
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(r.text).toBe(wrong.text);
    }
  });

  it('accepts a Bearer JWT issued with the node keys', async () => {
    const keys = await loadOrCreateTokenKeys(t.config.data_dir);
    const token = await issueToken(keys, { issuer: t.config.auth.jwt_issuer, audience: t.config.auth.jwt_audience }, 'alice', '5m');
    const r = await raw('/isac/collections/', { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(r.body.collections).toHaveLength(4);
  });

  it('refuses a Bearer JWT for an audience the node does not serve', async () => {
    const keys = await loadOrCreateTokenKeys(t.config.data_dir);
    const token = await issueToken(keys, { issuer: t.config.auth.jwt_issuer, audience: 'someone-else' }, 'alice', '5m');
    const r = await raw('/isac/collections/', { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(401);
  });
});

describe('API root', () => {
  it('describes a granted root', async () => {
    const r = await t.get('/isac/', 'bob');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      title: 'ISAC sharing',
      description: 'member collections',
      versions: ['application/taxii+json;version=2.1'],
      max_content_length: 1024 * 1024,
    });
  });

  it('answers a root without grants exactly like an unknown root', async () => {
    const ungranted = await raw('/other/', { headers: { authorization: basicAuth('alice') } });
    const unknown = await raw('/nowhere/', { headers: { authorization: basicAuth('alice') } });
    const carol = await raw('/isac/', { headers: { authorization: basicAuth('carol') } });
    expect(ungranted.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(carol.status).toBe(404);
    expect(ungranted.text).toBe(unknown.text);
    expect(carol.text).toBe(unknown.text);
    expect(unknown.body.http_status).toBe('404');
  });
});

describe('collections', () => {
  it('lists every granted collection in configuration order with per-member rights', async () => {
    const r = await t.get('/isac/collections/', 'alice');
    expect(r.status).toBe(200);
    expect(r.body.collections.map((c: any) => c.alias)).toEqual(['shared', 'inbox', 'secret', 'empty']);
    expect(r.body.collections[0]).toEqual({
      id: COLLECTIONS.shared,
      title: 'Shared indicators',
      alias: 'shared',
      can_read: true,
      can_write: true,
      media_types: ['application/stix+json;version=2.1'],
    });
  });

  it('lists only the collections a member holds some grant on, with its own rights', async () => {
    const r = await t.get('/isac/collections', 'bob');
    expect(r.body.collections.map((c: any) => [c.alias, c.can_read, c.can_write])).toEqual([
      ['shared', true, false],
      ['inbox', false, true],
    ]);
  });

  it('finds a collection by id and by alias', async () => {
    const byId = await t.get(`/isac/collections/${COLLECTIONS.inbox}/`, 'bob');
    const byAlias = await t.get('/isac/collections/inbox/', 'bob');
    expect(byId.status).toBe(200);
    expect(byAlias.body).toEqual(byId.body);
    expect(byId.body).toMatchObject({ id: COLLECTIONS.inbox, can_read: false, can_write: true });
  });

  it('member without a grant gets the same 404 as for an unknown collection', async () => {
    const headers = { authorization: basicAuth('bob') };
    for (const suffix of ['', 'objects/', 'manifest/', `objects/${sharedId}/`, `objects/${sharedId}/versions/`]) {
      const secret = await raw(`/isac/collections/secret/${suffix}`, { headers });
      const unknown = await raw(`/isac/collections/no-such-collection/${suffix}`, { headers });
      expect(secret.status, suffix).toBe(404);
      expect(secret.text, suffix).toBe(unknown.text);
    }
    const post = await raw('/isac/collections/secret/objects/', {
      method: 'POST',
      headers: { ...headers, 'content-type': TAXII },
      body: JSON.stringify({ objects: [indicator()] }),
    });
    const postUnknown = await raw('/isac/collections/no-such-collection/objects/', {
      method: 'POST',
      headers: { ...headers, 'content-type': TAXII },
      body: JSON.stringify({ objects: [indicator()] }),
    });
    expect(post.status).toBe(404);
    expect(post.text).toBe(postUnknown.text);
    const del = await raw(`/isac/collections/secret/objects/${sharedId}/`, { method: 'DELETE', headers });
    expect(del.status).toBe(404);
  });
});

describe('403 versus 404', () => {
  const bob = { authorization: basicAuth('bob') };

  it('refuses reads with 403 on a write-only collection', async () => {
    for (const suffix of ['objects/', 'manifest/', `objects/${sharedId}/`, `objects/${sharedId}/versions/`]) {
      const r = await raw(`/isac/collections/inbox/${suffix}`, { headers: bob });
      expect(r.status, suffix).toBe(403);
      expect(r.body.http_status).toBe('403');
    }
  });

  it('refuses POST with 403 on a read-only collection', async () => {
    const r = await raw('/isac/collections/shared/objects/', {
      method: 'POST',
      headers: { ...bob, 'content-type': TAXII },
      body: JSON.stringify({ objects: [indicator()] }),
    });
    expect(r.status).toBe(403);
  });

  it('DELETE needs read and write: read-only 403, write-only 403, neither 404', async () => {
    const readOnly = await raw(`/isac/collections/shared/objects/${sharedId}/`, { method: 'DELETE', headers: bob });
    const writeOnly = await raw(`/isac/collections/inbox/objects/${sharedId}/`, { method: 'DELETE', headers: bob });
    const neither = await raw(`/isac/collections/secret/objects/${sharedId}/`, { method: 'DELETE', headers: bob });
    expect([readOnly.status, writeOnly.status, neither.status]).toEqual([403, 403, 404]);
    // nothing was deleted
    const still = await t.get(`/isac/collections/shared/objects/${sharedId}/`, 'alice');
    expect(still.body.objects).toHaveLength(1);
  });

  it('accepts a POST on a write-only collection', async () => {
    const r = await raw('/isac/collections/inbox/objects/', {
      method: 'POST',
      headers: { ...bob, 'content-type': TAXII },
      body: JSON.stringify({ objects: [indicator()] }),
    });
    expect(r.status).toBe(202);
    expect(r.body.success_count).toBe(1);
  });
});

describe('every response', () => {
  it('carries the TAXII Content-Type and security headers, errors included', async () => {
    for (const r of [
      await raw('/taxii2/', { headers: { authorization: basicAuth('alice') } }),
      await raw('/nowhere/'),
      await raw('/isac/x/y/z/'),
    ]) {
      expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers an unsupported method on a known URL with 405 and Allow', async () => {
    const r = await raw('/isac/collections/', { method: 'PUT', headers: { authorization: basicAuth('alice') } });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
    expect(r.body).toMatchObject({ http_status: '405' });
  });
});
