/**
 * End to end over HTTPS: Add Objects (status resources, duplicates, invalid STIX, limits),
 * status retrieval, and content negotiation (406 / 415 / 413 / 400 / 422).
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, type TestNode, type TestMember } from '../../support/node.ts';
import { TAXII_TIMESTAMP, indicator, ipv4 } from './fixtures.ts';

let t: TestNode;
const INBOX = `/isac/collections/${COLLECTIONS.inbox}`;

beforeAll(async () => {
  t = await startTestNode();
});
afterAll(async () => {
  await t?.close();
});

async function post(
  path: string,
  body: string | unknown,
  options: { member?: TestMember; contentType?: string | null; accept?: string } = {},
) {
  const headers: Record<string, string> = { accept: options.accept ?? TAXII };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? TAXII;
  const res = await t.request(path, {
    method: 'POST',
    member: options.member ?? 'alice',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('add objects', () => {
  it('stores valid objects and answers 202 with a complete status', async () => {
    const objects = [indicator(), ipv4('192.0.2.1')];
    const r = await post(`${INBOX}/objects/`, { objects });
    expect(r.status).toBe(202);
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    expect(r.body).toMatchObject({
      status: 'complete',
      total_count: 2,
      success_count: 2,
      failure_count: 0,
      pending_count: 0,
      successes: [
        { id: objects[0]!.id, version: (objects[0] as any).modified },
        { id: objects[1]!.id, version: '1970-01-01T00:00:00.000Z' },
      ],
    });
    expect(r.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.body.request_timestamp).toMatch(TAXII_TIMESTAMP);
    expect(r.body.failures).toBeUndefined();
    expect(r.body.pendings).toBeUndefined();
    const stored = await t.get(`${INBOX}/objects/${objects[0]!.id}/`);
    expect(stored.body.objects).toEqual([objects[0]]);
  });

  it('reports invalid STIX per object and still stores the valid siblings', async () => {
    const good = indicator();
    const badTime = indicator(undefined, 0, { modified: 'yesterday' });
    const noId = {
      type: 'malware',
      spec_version: '2.1',
      created: '2024-01-01T00:00:00.000Z',
      modified: '2024-01-01T00:00:00.000Z',
      name: 'x',
      is_family: false,
    };
    const r = await post(`${INBOX}/objects/`, { objects: [badTime, good, noId, 42] });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ total_count: 4, success_count: 1, failure_count: 2 + 1, pending_count: 0 });
    expect(r.body.successes).toEqual([{ id: good.id, version: good.modified }]);
    expect(r.body.failures).toEqual([
      { id: badTime.id, version: 'yesterday', message: expect.stringContaining('modified') },
      { id: '(object 2 without a valid id)', version: noId.modified, message: expect.stringContaining("'id'") },
      { id: '(object 3 without a valid id)', version: '', message: expect.any(String) },
    ]);
    for (const f of r.body.failures) expect(f.message.length).toBeGreaterThan(0);
    expect((await t.get(`${INBOX}/objects/${good.id}/`)).status).toBe(200);
    expect((await t.get(`${INBOX}/objects/${badTime.id}/`)).status).toBe(404);
  });

  it('reports an exact duplicate as a success, not a failure', async () => {
    const obj = indicator();
    await post(`${INBOX}/objects/`, { objects: [obj] });
    const again = await post(`${INBOX}/objects/`, { objects: [obj] });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ total_count: 1, success_count: 1, failure_count: 0 });
    expect(again.body.successes).toEqual([{ id: obj.id, version: obj.modified, message: 'duplicate: already in the collection' }]);
    const versions = await t.get(`${INBOX}/objects/${obj.id}/versions/`);
    expect(versions.body.versions).toEqual([obj.modified]);
  });

  it('accepts the envelope by collection alias, with any spelling of the TAXII media type', async () => {
    for (const contentType of [
      'application/taxii+json',
      'application/taxii+json; Version=2.1; charset=utf-8',
      'Application/TAXII+JSON;version="2.1"',
    ]) {
      const r = await post('/isac/collections/inbox/objects', { objects: [indicator()] }, { contentType });
      expect(r.status, contentType).toBe(202);
    }
  });

  it('refuses other media types with 415', async () => {
    for (const contentType of [
      'application/json',
      'application/stix+json;version=2.1',
      'application/taxii+json;version=2.0',
      'application/vnd.oasis.taxii+json',
      null,
    ]) {
      const r = await post(`${INBOX}/objects/`, { objects: [indicator()] }, { contentType });
      expect(r.status, String(contentType)).toBe(415);
      expect(r.body).toMatchObject({ http_status: '415' });
    }
  });

  it('refuses malformed JSON with 400', async () => {
    const r = await post(`${INBOX}/objects/`, '{"objects": [');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ http_status: '400', error_code: 'malformed-json' });
  });

  it.each([
    ['a list', '[]'],
    ['a string', '"objects"'],
    ['an object without objects', '{}'],
    ['objects that is not a list', '{"objects": {"type": "indicator"}}'],
    ['an empty objects list', '{"objects": []}'],
  ])('refuses %s with 422', async (_name, body) => {
    const r = await post(`${INBOX}/objects/`, body);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ http_status: '422', error_code: 'invalid-envelope' });
  });

  it('refuses a body larger than max_content_length with 413 (Content-Length)', async () => {
    const big = JSON.stringify({ objects: [indicator(), { pad: 'x'.repeat(1024 * 1024) }] });
    const r = await post(`${INBOX}/objects/`, big);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ http_status: '413' });
  });

  it('refuses a chunked body that grows past max_content_length with 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await t.request(`${INBOX}/objects/`, {
      method: 'POST',
      member: 'alice',
      headers: { accept: TAXII, 'content-type': TAXII },
      body,
      duplex: 'half',
    } as never);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-length')).not.toBeNull();
    expect(JSON.parse(await res.text())).toMatchObject({ http_status: '413' });
  });

  it('accepts a body at max_content_length sent in chunks', async () => {
    const obj = indicator();
    const text = JSON.stringify({ objects: [obj] });
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    const res = await t.request(`${INBOX}/objects/`, {
      method: 'POST',
      member: 'alice',
      headers: { accept: TAXII, 'content-type': TAXII },
      body,
      duplex: 'half',
    } as never);
    expect(res.status).toBe(202);
    expect(JSON.parse(await res.text()).success_count).toBe(1);
  });
});

describe('status', () => {
  it('serves the status to the member that created it, in that root only', async () => {
    const r = await post(`${INBOX}/objects/`, { objects: [indicator(), { type: 'indicator' }] }, { member: 'bob' });
    expect(r.status).toBe(202);
    const mine = await t.get(`/isac/status/${r.body.id}/`, 'bob');
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(r.body);
    const notMine = await t.get(`/isac/status/${r.body.id}/`, 'alice');
    expect(notMine.status).toBe(404);
    const unknown = await t.get('/isac/status/00000000-0000-4000-8000-000000000000/', 'bob');
    expect(unknown.status).toBe(404);
    expect(notMine.body).toEqual(unknown.body);
  });
});

describe('content negotiation', () => {
  it.each([
    'application/taxii+json;version=2.1',
    'application/taxii+json',
    'application/taxii+json; Version=2.1',
    'APPLICATION/TAXII+JSON ; version = "2.1"',
    'text/html, application/taxii+json;version=2.1;q=0.5',
    'application/json;q=1, application/taxii+json;q=0.1',
    '*/*',
    'application/*',
  ])('accepts Accept: %s', async (accept) => {
    const r = await t.get('/isac/collections/', 'alice', { accept });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
  });

  it.each([
    'application/json',
    'text/html, application/xml',
    'application/vnd.oasis.taxii+json',
    'application/vnd.oasis.taxii+json; version=2.0',
    'application/taxii+json;version=2.0',
    'application/taxii+json;version=3.0',
    'application/taxii+json;q=0',
    'application/stix+json;version=2.1',
  ])('refuses Accept: %s with 406', async (accept) => {
    const r = await t.get('/isac/collections/', 'alice', { accept });
    expect(r.status).toBe(406);
    expect(r.body).toMatchObject({ http_status: '406' });
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
  });

  it('accepts the STIX media type on the manifest endpoint, not on objects', async () => {
    const accept = 'application/taxii+json;version=2.1,application/stix+json;version=2.1';
    expect((await t.get(`${INBOX}/manifest/`, 'alice', { accept })).status).toBe(200);
    expect((await t.get(`${INBOX}/manifest/`, 'alice', { accept: 'application/stix+json;version=2.1' })).status).toBe(200);
    expect((await t.get(`${INBOX}/objects/`, 'alice', { accept: 'application/stix+json;version=2.1' })).status).toBe(406);
  });

  it('accepts a request without any Accept header', async () => {
    const ca = readFileSync(t.node.devCaPath!, 'utf8');
    const url = new URL(`${t.baseUrl}/isac/collections/`);
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = httpsRequest(url, { ca, headers: { authorization: basicAuth('alice') } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/taxii+json;version=2.1');
  });
});

describe('resilience', () => {
  it('keeps serving after a run of bad requests', async () => {
    await post(`${INBOX}/objects/`, '{{{');
    await post(`${INBOX}/objects/`, 'null');
    await post(`${INBOX}/objects/`, { objects: [indicator()] }, { contentType: 'text/plain' });
    await t.get(`${INBOX}/objects/?limit=nope`);
    await t.get(`${INBOX}/objects/?next=%00%01`);
    await t.get(`${INBOX}/objects/?match[version]=all,all`);
    await t.get('/isac/collections/', 'alice', { accept: 'application/xml' });
    await t.request('/isac/collections/', { headers: { accept: TAXII, authorization: 'Basic %%%' } });
    const r = await t.get(`${INBOX}/objects/?limit=1`);
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(1);
  });
});
