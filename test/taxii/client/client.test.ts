import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TaxiiClient,
  TaxiiHttpError,
  TaxiiPlainHttpError,
  TaxiiProtocolError,
  TaxiiTlsError,
  findCollection,
  resolveApiRoot,
} from '../../../src/taxii/client/index.ts';
import { TaxiiTimeoutError } from '../../../src/taxii/client/errors.ts';
import { parseRetryAfter, splitEnvelopes } from '../../../src/taxii/client/client.ts';
import { FEED_ID, indicators, startScriptedServer, type ScriptedServer } from '../../upstream/scripted-server.ts';

describe('TAXII client against a scripted server', () => {
  let server: ScriptedServer;
  let client: TaxiiClient;
  const posts: number[] = [];

  beforeAll(async () => {
    server = await startScriptedServer({
      handler: (req, res) => {
        if (req.method !== 'POST') return false;
        let size = 0;
        req.on('data', (d: Buffer) => (size += d.length));
        req.on('end', () => {
          posts.push(size);
          res.writeHead(202, { 'content-type': 'application/taxii+json;version=2.1' });
          res.end(
            JSON.stringify({
              id: `status-${posts.length}`,
              status: 'complete',
              total_count: 1,
              success_count: 1,
              failure_count: 0,
              pending_count: 0,
            }),
          );
        });
        return true;
      },
    });
    server.add(indicators(25, 2));
    client = new TaxiiClient({
      tls: { ca: server.caPem },
      headersTimeoutMs: 400,
      bodyTimeoutMs: 400,
      auth: { kind: 'basic', user: 'relay', password: 's3cret' },
    });
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('resolves the API root from discovery and finds collections by id, alias and title', async () => {
    const root = await resolveApiRoot(client, server.discoveryUrl);
    expect(root.url).toBe(server.apiRootUrl);
    expect(root.apiRoot.max_content_length).toBe(1_000_000);
    expect((await resolveApiRoot(client, server.apiRootUrl)).url).toBe(server.apiRootUrl);
    expect((await resolveApiRoot(client, server.discoveryUrl, 'api')).url).toBe(server.apiRootUrl);
    const collections = await client.collections(root.url);
    for (const name of [FEED_ID, 'feed', 'Scripted feed']) expect(findCollection(collections, name)?.id).toBe(FEED_ID);
    expect(server.authorizations.at(-1)).toBe(`Basic ${Buffer.from('relay:s3cret').toString('base64')}`);
  });

  it('pages with next, sends the TAXII Accept and match[version]=all, and reads the date headers', async () => {
    const first = await client.getObjects(server.apiRootUrl, FEED_ID, { limit: 20, matchVersion: 'all' });
    expect(first.objects).toHaveLength(20);
    expect(first.more).toBe(true);
    expect(first.next).toBe('20');
    expect(first.dateAddedLast).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const second = await client.getObjects(server.apiRootUrl, FEED_ID, { limit: 20, matchVersion: 'all', next: first.next ?? null });
    expect(second.objects).toHaveLength(20);
    expect(server.objectRequests.at(-1)).toContain('match%5Bversion%5D=all');
    const latestOnly = await client.getObjects(server.apiRootUrl, FEED_ID, { limit: 100 });
    expect(latestOnly.objects).toHaveLength(25);
  });

  it('names each failure: HTTP errors with title and Retry-After, malformed JSON, wrong media type, hangs', async () => {
    server.faults.push(
      { kind: 'status', status: 503, title: 'Down for maintenance' },
      { kind: 'status', status: 429, retryAfter: '7' },
      { kind: 'truncate' },
      { kind: 'media-type', type: 'text/html' },
      { kind: 'hang' },
    );
    const get = () => client.getObjects(server.apiRootUrl, FEED_ID, { limit: 5 });
    const e503 = await get().catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(TaxiiHttpError);
    expect((e503 as TaxiiHttpError).status).toBe(503);
    expect((e503 as TaxiiHttpError).title).toBe('Down for maintenance');
    const e429 = (await get().catch((e: unknown) => e)) as TaxiiHttpError;
    expect(e429.status).toBe(429);
    expect(e429.retryAfterMs).toBe(7000);
    const truncated = (await get().catch((e: unknown) => e)) as TaxiiProtocolError;
    expect(truncated).toBeInstanceOf(TaxiiProtocolError);
    expect(truncated.kind).toBe('json');
    expect(truncated.excerpt).toMatch(/^\{"more":true/);
    const media = (await get().catch((e: unknown) => e)) as TaxiiProtocolError;
    expect(media.kind).toBe('media-type');
    expect(media.message).toContain('text/html');
    const hang = (await get().catch((e: unknown) => e)) as TaxiiTimeoutError;
    expect(hang).toBeInstanceOf(TaxiiTimeoutError);
    expect(hang.phase).toBe('headers');
    // and the client still works afterwards
    expect((await get()).objects).toHaveLength(5);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('refuses a server whose CA it does not trust, naming the cause', async () => {
    const untrusting = new TaxiiClient({});
    try {
      const error = (await untrusting.discovery(server.discoveryUrl).catch((e: unknown) => e)) as TaxiiTlsError;
      expect(error).toBeInstanceOf(TaxiiTlsError);
      expect(error.message).toMatch(/unknown CA/);
    } finally {
      await untrusting.close();
    }
  });

  it('splits POSTs so that no body exceeds max_content_length', async () => {
    const objects = indicators(40);
    const max = 2000;
    const bodies = splitEnvelopes(objects, max);
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(max);
    expect(bodies.flatMap((b) => (JSON.parse(b) as { objects: unknown[] }).objects)).toEqual(objects);
    const statuses = await client.addObjects(server.apiRootUrl, FEED_ID, objects, max);
    expect(statuses).toHaveLength(bodies.length);
    expect(posts.every((size) => size <= max)).toBe(true);
    expect(() => splitEnvelopes(objects, 100)).toThrow(/at most 100/);
  });
});

describe('TAXII client with a bearer token', () => {
  it('sends Authorization: Bearer and reports 401 with its title', async () => {
    const server = await startScriptedServer();
    const client = new TaxiiClient({ tls: { ca: server.caPem }, auth: { kind: 'bearer', token: 'tok-123' } });
    try {
      server.requireAuthorization = 'Bearer tok-123';
      expect((await client.discovery(server.discoveryUrl)).title).toBe('Scripted server');
      server.requireAuthorization = 'Bearer other';
      const error = (await client.discovery(server.discoveryUrl).catch((e: unknown) => e)) as TaxiiHttpError;
      expect(error.status).toBe(401);
      expect(error.title).toBe('Unauthorized');
      expect(error.message).not.toContain('tok-123');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('TAXII client and plain HTTP', () => {
  it('talks http:// only when plain HTTP is allowed explicitly, and never sends a request otherwise', async () => {
    const server = await startScriptedServer({ plainHttp: true });
    const strict = new TaxiiClient({ auth: { kind: 'basic', user: 'relay', password: 's3cret' } });
    const allowing = new TaxiiClient({ allowPlainHttp: true });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const refused = await strict.discovery(server.discoveryUrl).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TaxiiPlainHttpError);
      expect((refused as Error).message).toMatch(/refusing plain HTTP to http:\/\/127\.0\.0\.1:\d+\/taxii2\/: traffic and credentials/);
      expect(server.authorizations).toHaveLength(0); // nothing left the client, credentials included
      const root = await resolveApiRoot(allowing, server.discoveryUrl);
      expect(root.url).toBe(server.apiRootUrl);
      expect(server.authorizations.length).toBeGreaterThan(0);
    } finally {
      await strict.close();
      await allowing.close();
      await server.close();
    }
  });
});
