/**
 * From a member's flagged share to an admin's verdict applied, with the real parts: the inbox
 * holds the member's object, the share-back processor opens the review item, an admin decides
 * over the admin API (the app in process, real LMDB) and the processor, nudged, applies it:
 * approved objects reach the redistribution mirror in full, rejected ones never do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, hashSecret, loadOrCreateTokenKeys } from '../../src/auth/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { ShareBackProcessor } from '../../src/shareback/processor.ts';
import { shareBackSettings } from '../../src/shareback/settings.ts';
import { nowMicros } from '../../src/stix/time.ts';
import { Store, type ReviewItem } from '../../src/store/index.ts';
import { createTaxiiApp } from '../../src/taxii/server/app.ts';
import { basicAuth, COLLECTIONS, testConfigData } from '../support/node.ts';

const EMAIL = 'maria.garcia@acme-bank.example';
let dir: string;
let store: Store;
let processor: ShareBackProcessor;
let app: ReturnType<typeof createTaxiiApp>;
let seq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-review-desk-'));
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  const collections = (data.api_roots as any[])[0].collections as any[];
  Object.assign(
    collections.find((c) => c.alias === 'inbox'),
    { kind: 'inbox', redistribute_to: 'shared' },
  );
  data.admins = [{ id: 'reviewer', name: 'Analyst', credentials: { basic_secret_hash: hashSecret('reviewer-secret') } }];
  const config = parseConfig(data, 'test config');
  store = Store.open(join(dir, 'store'));
  const ingestor = new Ingestor(store);
  processor = new ShareBackProcessor(store, ingestor, shareBackSettings(config), { pollMs: 60_000 });
  const authenticator = Authenticator.fromConfig(config, await loadOrCreateTokenKeys(dir));
  app = createTaxiiApp({ config, store, ingestor, authenticator, log: pino({ level: 'silent' }), shareback: processor });
});
afterAll(async () => {
  await processor?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** alice shares an indicator with an e-mail address in its description; the processor opens its review. */
function shareFlagged(): { item: ReviewItem; id: string } {
  const id = `indicator--8c3f9e70-3b77-4a0a-9c73-${String(++seq).padStart(12, '0')}`;
  const object = {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: '2026-05-02T10:00:00.000Z',
    modified: '2026-05-02T10:00:00.000Z',
    name: 'Phishing sender',
    pattern: "[domain-name:value = 'pay-secure.example']",
    pattern_type: 'stix',
    valid_from: '2026-05-02T10:00:00.000Z',
    description: `Reported by ${EMAIL} after the phishing wave.`,
  };
  new Ingestor(store).ingest(COLLECTIONS.inbox, [object], { source: 'taxii', detail: 'alice' });
  const entry = store.latestOf(COLLECTIONS.inbox, id);
  if (!entry) throw new Error('the object was not stored');
  store.transaction(() =>
    store.shareback.addSubmission({
      statusId: `status-${seq}`,
      member: 'alice',
      apiRoot: 'isac',
      inbox: COLLECTIONS.inbox,
      receivedAt: nowMicros(),
      versions: [{ id, version: entry.version, dateAdded: entry.dateAdded }],
    }),
  );
  for (let i = 0; i < 10 && store.shareback.submissionCount() > 0; i++) processor.step();
  const item = store.shareback.listReviews({ member: 'alice' }).find((r) => r.object.id === id);
  if (!item) throw new Error('no review item was opened');
  return { item, id };
}

const decide = (id: string, verdict: 'approve' | 'reject', body: unknown) =>
  app.request(`/admin/reviews/${id}/${verdict}`, {
    method: 'POST',
    headers: { authorization: basicAuth('reviewer'), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The item once the processor has applied its verdict (bounded wait: the nudge runs it on the next turn). */
async function applied(id: string): Promise<ReviewItem | undefined> {
  for (let i = 0; i < 200; i++) {
    const item = store.shareback.review(id);
    if (item && item.state !== 'decided' && item.state !== 'open') return item;
    await new Promise((r) => setTimeout(r, 25));
  }
  return store.shareback.review(id);
}

/** Every object version the redistribution mirror holds, as one text. */
function sharedText(): string {
  const { entries } = store.index.scan({ collection: COLLECTIONS.shared, after: 0, limit: 10_000, accept: () => true, maxScanned: 10_000 });
  return entries.map((e) => store.bodyOf(e) ?? '').join('\n');
}

describe('an admin decides, the processor applies', () => {
  beforeAll(() => processor.start());

  it('approved: the item is closed as approved by the admin and the full object is redistributed', async () => {
    const { item } = shareFlagged();
    expect(item).toMatchObject({ state: 'open', decision: 'release-without', withheld: ['description'] });
    expect(sharedText()).not.toContain(EMAIL);
    expect((await decide(item.id, 'approve', { note: 'vendor contact, public' })).status).toBe(200);
    const done = await applied(item.id);
    expect(done).toMatchObject({ state: 'approved', outcome: 'approved by reviewer: vendor contact, public' });
    expect(sharedText()).toContain(EMAIL);
  });

  it('rejected: closed as rejected, and what was withheld never reaches the mirror', async () => {
    const mentions = () => sharedText().split(EMAIL).length - 1;
    const before = mentions();
    const { item } = shareFlagged();
    expect((await decide(item.id, 'reject', { note: 'a private person' })).status).toBe(200);
    const done = await applied(item.id);
    expect(done).toMatchObject({ state: 'rejected', outcome: 'rejected by reviewer: a private person' });
    expect(mentions()).toBe(before);
  });
});
