/**
 * The admin API tells the share-back processor about a verdict at once (the app in process,
 * real LMDB): one nudge per recorded decision, none for a refused one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, hashSecret, loadOrCreateTokenKeys } from '../../../src/auth/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { Ingestor } from '../../../src/ingest/index.ts';
import { Store } from '../../../src/store/index.ts';
import { createTaxiiApp } from '../../../src/taxii/server/app.ts';
import { basicAuth, COLLECTIONS, testConfigData } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

let dir: string;
let store: Store;
let app: ReturnType<typeof createTaxiiApp>;
let nudges = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-admin-nudge-'));
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  data.admins = [{ id: 'reviewer', name: 'Analyst', credentials: { basic_secret_hash: hashSecret('reviewer-secret') } }];
  const config = parseConfig(data, 'test config');
  store = Store.open(join(dir, 'store'));
  const authenticator = Authenticator.fromConfig(config, await loadOrCreateTokenKeys(dir));
  const shareback = { nudge: () => void nudges++ };
  app = createTaxiiApp({ config, store, ingestor: new Ingestor(store), authenticator, log: pino({ level: 'silent' }), shareback });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function openItem(): string {
  const object = indicator();
  new Ingestor(store).ingest(COLLECTIONS.inbox, [object], { source: 'taxii', detail: 'alice' });
  const entry = store.latestOf(COLLECTIONS.inbox, object.id);
  if (!entry) throw new Error('the object was not stored');
  return store.transaction(
    () =>
      store.shareback.openReview({
        member: 'alice',
        apiRoot: 'isac',
        inbox: COLLECTIONS.inbox,
        statusId: 'status-1',
        object: { id: entry.id, version: entry.version, dateAdded: entry.dateAdded },
        decision: 'hold',
        withheld: [],
        because: 'review_mode is hold',
        findings: [],
      }).id,
  );
}

const post = (path: string) =>
  app.request(path, { method: 'POST', headers: { authorization: basicAuth('reviewer'), 'content-type': 'application/json' }, body: '{}' });

describe('the admin API nudges the share-back processor', () => {
  it('once per recorded verdict, not for a refused one', async () => {
    const id = openItem();
    expect((await post(`/admin/reviews/${id}/approve`)).status).toBe(200);
    expect(nudges).toBe(1);
    expect((await post(`/admin/reviews/${id}/reject`)).status).toBe(409);
    expect((await post('/admin/reviews/5f0c2b1e-0000-4000-8000-000000000000/reject')).status).toBe(404);
    expect(nudges).toBe(1);
    expect((await post(`/admin/reviews/${openItem()}/reject`)).status).toBe(200);
    expect(nudges).toBe(2);
  });
});
