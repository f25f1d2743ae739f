/**
 * The app in process (app.request, no network) with real LMDB: behaviours that need tuning or
 * a failing collaborator — the scan budget on sparse queries and unexpected errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, loadOrCreateTokenKeys } from '../../../src/auth/index.ts';
import { type RelayConfig } from '../../../src/config/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { Ingestor } from '../../../src/ingest/index.ts';
import { Store } from '../../../src/store/index.ts';
import { createTaxiiApp, type TaxiiTuning } from '../../../src/taxii/server/app.ts';
import { COLLECTIONS, TAXII, basicAuth, testConfigData } from '../../support/node.ts';
import { indicator, malware } from './fixtures.ts';

let dir: string;
let store: Store;
let config: RelayConfig;
let authenticator: Authenticator;
const malwareIds: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-taxii-app-'));
  config = parseConfig(testConfigData(join(dir, 'data'), join(dir, 'certs')), 'test config');
  store = Store.open(join(dir, 'store'));
  authenticator = Authenticator.fromConfig(config, await loadOrCreateTokenKeys(dir));
  const ingestor = new Ingestor(store);
  const add = (objects: unknown[]) => ingestor.ingest(COLLECTIONS.shared, objects, { source: 'import', detail: 'test' });
  for (const round of [60, 3, 60, 2]) {
    const objects = Array.from({ length: round }, () => (round < 10 ? malware() : indicator()));
    if (round < 10) malwareIds.push(...objects.map((o) => o.id));
    add(objects);
  }
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function app(tuning?: TaxiiTuning, log = pino({ level: 'silent' }), s: Store = store) {
  return createTaxiiApp({ config, store: s, ingestor: new Ingestor(s), authenticator, log, ...(tuning ? { tuning } : {}) });
}

async function get(a: ReturnType<typeof app>, path: string) {
  const res = await a.request(path, { headers: { accept: TAXII, authorization: basicAuth('alice') } });
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}

describe('scan budget', () => {
  it('a sparse query returns short or empty pages with more and next, and loses nothing', async () => {
    const a = app({ scanBudget: () => 25 });
    const base = `/isac/collections/shared/objects/?match[type]=malware&limit=10`;
    const seen: string[] = [];
    let emptyPagesWithMore = 0;
    let path = base;
    for (let pages = 0; pages < 100; pages++) {
      const r = await get(a, path);
      expect(r.status).toBe(200);
      const objects = r.body.objects ?? [];
      seen.push(...objects.map((o: any) => o.id));
      if (objects.length === 0) {
        expect(r.headers.get('x-taxii-date-added-first')).toBeNull();
        if (r.body.more) emptyPagesWithMore++;
      }
      if (!r.body.more) break;
      path = `${base}&next=${encodeURIComponent(r.body.next)}`;
    }
    expect(emptyPagesWithMore).toBeGreaterThan(0);
    expect(seen).toEqual(malwareIds);
  });

  it('the default budget answers the same query in one page', async () => {
    const r = await get(app(), `/isac/collections/shared/objects/?match[type]=malware&limit=10`);
    expect(r.body.more).toBe(false);
    expect(r.body.objects.map((o: any) => o.id)).toEqual(malwareIds);
  });
});

describe('unexpected errors', () => {
  it('become a generic 500 for the client and a logged stack for the operator', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const failingIndex = Object.create(store.index) as Store['index'];
    failingIndex.scan = () => {
      throw new Error('disk on fire at /var/lib/secret-path');
    };
    const failing = Object.create(store, { index: { value: failingIndex } }) as Store;
    const a = app(undefined, pino({ level: 'info' }, sink), failing);
    const r = await get(a, '/isac/collections/shared/objects/');
    expect(r.status).toBe(500);
    expect(r.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    expect(r.body).toMatchObject({ title: 'Internal server error', http_status: '500' });
    expect(JSON.stringify(r.body)).not.toContain('fire');
    expect(JSON.stringify(r.body)).not.toContain('secret-path');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.errorId === r.body.error_id);
    expect(logged).toBeDefined();
    expect(logged.err.stack).toContain('disk on fire');
    // the app keeps serving
    expect((await get(a, '/isac/collections/')).status).toBe(200);
  });

  it('authentication failures are logged with a reason but never the credential', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const a = app(undefined, pino({ level: 'info' }, sink));
    const res = await a.request('/taxii2/', { headers: { accept: TAXII, authorization: basicAuth('alice', 'hunter2-wrong') } });
    expect(res.status).toBe(401);
    const text = lines.join('');
    expect(text).toContain('authentication failed');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(Buffer.from('alice:hunter2-wrong').toString('base64'));
  });
});
