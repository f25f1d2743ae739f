import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indicators, startScriptedServer, type ScriptedServer } from './scripted-server.ts';
import { caFile, keysOf, LOCAL, startPoller, type PollerUnderTest } from './support.ts';
import { type CycleResult } from '../../src/upstream/subscription.ts';

const FIXED_NOW = Date.parse('2030-01-01T00:00:00Z');

const invalid: unknown[] = [
  {
    type: 'indicator',
    spec_version: '2.1',
    id: 'not-an-identifier',
    created: '2024-01-01T00:00:00.000Z',
    modified: '2024-01-01T00:00:00.000Z',
  },
  {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--0b2e9e6a-6f4f-4f43-9a53-7c3d1f0e9a01',
    created: 'yesterday',
    modified: 'today',
  },
  42,
  { spec_version: '2.1', id: 'malware--0b2e9e6a-6f4f-4f43-9a53-7c3d1f0e9a02', created: '2024-01-01T00:00:00.000Z' },
];

describe('a faulty upstream', () => {
  let server: ScriptedServer;
  let b: PollerUnderTest;
  const valid = indicators(30, 2); // 60 versions
  const results: CycleResult[] = [];

  beforeAll(async () => {
    server = await startScriptedServer();
    // invalid objects mixed into the pages, between valid ones
    const mixed = [...valid];
    invalid.forEach((o, i) => mixed.splice(7 + i * 13, 0, o));
    server.add(mixed);
    server.faults.push(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'none' }, // page 1
      { kind: 'status', status: 429, retryAfter: '3' },
      { kind: 'none' }, // page 2
      { kind: 'truncate' },
      { kind: 'media-type', type: 'text/html; charset=utf-8' },
      { kind: 'hang' },
      { kind: 'none' }, // page 3
      { kind: 'status', status: 429, retryAfter: new Date(FIXED_NOW + 5000).toUTCString() },
    );
    b = startPoller(
      (dir) => [
        {
          name: 'scripted',
          url: server.discoveryUrl,
          tls: { ca_file: caFile(dir, server.caPem) },
          timeouts: { response: '400ms' },
          backoff: { initial: '1s', max: '1m' },
          collections: [{ remote: 'feed', local: 'mirror', page_size: 10 }],
        },
      ],
      { clientOptions: (_name, o) => ({ ...o, now: () => FIXED_NOW }) },
    );
    for (let i = 0; i < 5; i++) {
      const [result] = await b.manager.pollNow();
      results.push(result as CycleResult);
      if (result?.caughtUp) break;
    }
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('ends with every valid object version, in one cycle, without crashing', () => {
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, caughtUp: true, stored: 60, quarantined: 4 });
    expect(new Set(b.versions())).toEqual(new Set(keysOf(valid)));
    expect(b.versions()).toHaveLength(60);
  });

  it('quarantines each invalid object with its reason, and each unreadable page', () => {
    const records = b.store.resources.listQuarantine({ limit: 100 });
    const objects = records.filter((r) => r.kind === 'object');
    expect(objects).toHaveLength(4);
    for (const r of objects) {
      expect(r.reason.length).toBeGreaterThan(5);
      expect(r.detail).toBe('scripted/feed');
      expect(r.collection).toBe(LOCAL);
    }
    expect(objects.map((r) => r.content).sort()).toEqual(invalid.map((o) => JSON.stringify(o)).sort());
    const envelopes = records.filter((r) => r.kind === 'envelope');
    expect(envelopes.map((r) => r.reason.split(':')[0]).sort()).toEqual(['json', 'media-type']);
    expect(envelopes.find((r) => r.reason.startsWith('media-type'))?.reason).toContain('text/html');
    expect(b.store.resources.getQuarantine(objects[0]!.id)).toEqual(objects[0]);
  });

  it('waited exactly as the server instructed (Retry-After) and backed off exponentially otherwise', () => {
    const retries = b.waits.filter((w) => w.reason !== 'poll-interval').map((w) => [w.reason, w.ms]);
    // random() = 0.5: a backoff of cap c waits c/2 + 0.5 * c/2; caps 1s, 2s, 4s for consecutive failures
    expect(retries).toEqual([
      ['backoff', 750], // 500
      ['backoff', 1500], // 503
      ['retry-after', 3000], // Retry-After: 3
      ['backoff', 750], // truncated JSON
      ['backoff', 1500], // wrong media type
      ['backoff', 3000], // hung connection, cut by the 400ms response timeout
      ['retry-after', 5000], // Retry-After: <HTTP date 5 s ahead>
    ]);
    expect(b.waits.find((w) => w.cause?.includes('timed out'))).toBeDefined();
  });

  it('records provenance per source and reports state for `relay upstreams`', () => {
    const [first] = keysOf(valid);
    const [id] = (first as string).split('|');
    const entry = b.store.versionsOf(LOCAL, id as string)[0];
    expect(b.store.provenanceOf(LOCAL, id as string, entry!.versionKey)).toEqual([
      expect.objectContaining({ source: 'upstream', detail: 'scripted/feed' }),
    ]);
    const [status] = b.manager.status();
    expect(status).toMatchObject({
      upstream: 'scripted',
      remote: 'feed',
      local: LOCAL,
      state: 'idle',
      objectsIngested: 64,
      versionsStored: 60,
      quarantined: 4,
    });
    expect(status?.lastSuccessAt).not.toBeNull();
    expect(status?.cursor?.last).toMatch(/Z$/);
  });

  it('new objects arrive on the next poll, from the cursor (no re-download)', async () => {
    const before = server.objectRequests.length;
    const more = indicators(5, 1, 7);
    server.add(more);
    const [result] = await b.manager.pollNow();
    expect(result).toMatchObject({ ok: true, caughtUp: true, stored: 5, objects: 5 });
    expect(server.objectRequests.length - before).toBe(1);
    expect(server.objectRequests.at(-1)).toContain('added_after=');
  });
});

describe('an upstream that refuses our credentials', () => {
  it('stops the subscription with a clear error and retries slowly', async () => {
    const server = await startScriptedServer();
    server.requireAuthorization = 'Basic nope';
    const b = startPoller(
      (dir) => [
        {
          name: 'hub',
          url: server.apiRootUrl,
          auth: { user: 'relay-b', password_env: 'HUB_PASSWORD' },
          tls: { ca_file: caFile(dir, server.caPem) },
          backoff: { auth_retry: '20m' },
          collections: [{ remote: 'Scripted feed', local: 'mirror' }],
        },
      ],
      { env: { HUB_PASSWORD: 'wrong-password' }, start: true },
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result?.ok).toBe(false);
      expect(result?.error).toMatch(/upstream "hub" refused our credentials \(HTTP 401 Unauthorized\)/);
      expect(result?.error).not.toContain('wrong-password');
      expect(b.manager.status()[0]).toMatchObject({ state: 'auth-failed' });
      expect(b.waits.at(-1)).toMatchObject({ reason: 'auth-retry', ms: 20 * 60_000 });
      expect(server.authorizations.at(-1)).toBe(`Basic ${Buffer.from('relay-b:wrong-password').toString('base64')}`);
    } finally {
      await b.close();
      await server.close();
    }
  });

  it('names a missing secret variable without guessing', async () => {
    const b = startPoller(
      () => [
        {
          name: 'hub',
          url: 'https://127.0.0.1:1/taxii2/',
          auth: { token_env: 'HUB_TOKEN_UNSET' },
          collections: [{ remote: 'x', local: 'mirror' }],
        },
      ],
      { env: {} },
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result?.error).toMatch(/environment variable HUB_TOKEN_UNSET \(bearer token\) is not set/);
      expect(b.manager.status()[0]).toMatchObject({ state: 'config-error' });
    } finally {
      await b.close();
    }
  });
});
