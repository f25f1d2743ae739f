/**
 * The admin API on a running node over HTTPS (real LMDB): admins list, read and decide
 * share-back review items and read the outbox; errors are TAXII error objects (404 unknown,
 * 409 decided, 400 bad body); members get 403 on every admin route and admins 403 on every
 * TAXII route; a wrong admin password is a 401 like a member's; no member endpoint shows a
 * review item or an outbox entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, loadOrCreateTokenKeys, tokenSettings } from '../../../src/auth/index.ts';
import type { ReviewItem } from '../../../src/store/index.ts';
import { basicAuth, COLLECTIONS, TAXII, startTestNode, type TestNode } from '../../support/node.ts';

const ADMIN = 'reviewer';
const EMAIL = 'maria.garcia@acme-bank.example';
let t: TestNode;
let seq = 0;

beforeAll(async () => {
  t = await startTestNode((data) => {
    data.admins = [
      {
        id: ADMIN,
        name: 'Analyst on duty',
        credentials: { basic_secret_hash: hashSecret(`${ADMIN}-secret`), jwt_subject: 'reviewer-sub' },
      },
    ];
  });
  // These tests look at what the API records; the processor applying verdicts is
  // test/shareback/review-desk.e2e.test.ts's (here it would settle the seeded items at once).
  await t.node.shareback.stop();
});
afterAll(async () => {
  await t?.close();
});

/** An indicator alice shares with an e-mail address in its description, and its open review item. */
function openItem(decision: 'release-without' | 'hold' = 'release-without'): { item: ReviewItem; object: Record<string, unknown> } {
  const n = String(++seq).padStart(12, '0');
  const description = `Reported by ${EMAIL} after the phishing wave.`;
  const object = {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--6a1d7c5e-1f55-4e8e-9a51-${n}`,
    created: '2026-05-02T10:00:00.000Z',
    modified: '2026-05-02T10:00:00.000Z',
    name: 'Phishing sender',
    pattern: "[domain-name:value = 'pay-secure.example']",
    pattern_type: 'stix',
    valid_from: '2026-05-02T10:00:00.000Z',
    description,
  };
  const { store, ingestor } = t.node;
  ingestor.ingest(COLLECTIONS.inbox, [object], { source: 'taxii', detail: 'alice' });
  const entry = store.latestOf(COLLECTIONS.inbox, object.id);
  if (!entry) throw new Error('the object was not stored');
  const start = description.indexOf(EMAIL);
  const item = store.transaction(() =>
    store.shareback.openReview({
      member: 'alice',
      apiRoot: 'isac',
      inbox: COLLECTIONS.inbox,
      statusId: `status-${n}`,
      object: { id: entry.id, version: entry.version, dateAdded: entry.dateAdded },
      decision,
      withheld: decision === 'hold' ? [] : ['description'],
      ...(decision === 'hold' ? { because: 'review_mode is hold' } : {}),
      findings: [{ path: 'description', kind: 'email', start, end: start + EMAIL.length }],
    }),
  );
  return { item, object };
}

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, auth: string | null, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await t.request(path, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers as unknown as Headers, body: text ? JSON.parse(text) : undefined };
}

const asAdmin = (method: string, path: string, body?: unknown, contentType?: string) =>
  call(method, path, basicAuth(ADMIN), body, contentType);

/** A TAXII error object with this status. */
function expectError(answer: Answer, status: number, errorCode?: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toMatchObject({ title: expect.any(String), http_status: String(status) });
  if (errorCode !== undefined) expect(answer.body.error_code).toBe(errorCode);
}

describe('admins review share-back over HTTP', () => {
  it('an admin lists open items and reads one with the submitted object and the flagged text', async () => {
    const { item, object } = openItem();
    const list = await asAdmin('GET', '/admin/reviews?state=open');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json');
    const listed = list.body.reviews.find((r: any) => r.id === item.id);
    expect(listed).toMatchObject({
      state: 'open',
      member: 'alice',
      object: { id: object.id, type: 'indicator', version: object.modified },
      decision: 'release-without',
      withheld: ['description'],
      findings: [{ path: 'description', kind: 'email' }],
    });
    // a list carries where the personal data is, not the data itself
    expect(JSON.stringify(list.body)).not.toContain(EMAIL);

    const shown = await asAdmin('GET', `/admin/reviews/${item.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.submitted).toEqual(object);
    expect(shown.body.findings[0].text).toBe(EMAIL);

    const everyone = await asAdmin('GET', '/admin/reviews?member=');
    expect(everyone.body.reviews.map((r: any) => r.id)).toContain(item.id);
    const byMember = await asAdmin('GET', '/admin/reviews?member=bob');
    expect(byMember.body.reviews.map((r: any) => r.id)).not.toContain(item.id);
  });

  it('an admin approves an item: it is decided, by the admin, and a second decision is a 409', async () => {
    const { item } = openItem();
    const approved = await asAdmin('POST', `/admin/reviews/${item.id}/approve`, { note: 'vendor contact, public' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      id: item.id,
      state: 'decided',
      verdict: { verdict: 'approve', by: ADMIN, note: 'vendor contact, public' },
    });
    const stored = t.node.store.shareback.review(item.id);
    expect(stored?.state).toBe('decided');
    expect(stored?.verdict).toMatchObject({ verdict: 'approve', by: ADMIN });
    expect(t.node.store.shareback.decidedReviews().map((r) => r.id)).toContain(item.id);

    expectError(await asAdmin('POST', `/admin/reviews/${item.id}/approve`, {}), 409, 'already-decided');
    expectError(await asAdmin('POST', `/admin/reviews/${item.id}/reject`, { note: 'too late' }), 409, 'already-decided');
    expect(t.node.store.shareback.review(item.id)?.verdict?.verdict).toBe('approve');
  });

  it('an admin rejects an item with a note; an empty body approves without one', async () => {
    const { item } = openItem('hold');
    const rejected = await asAdmin('POST', `/admin/reviews/${item.id}/reject`, { note: 'a customer name' });
    expect(rejected.status).toBe(200);
    expect(t.node.store.shareback.review(item.id)?.verdict).toMatchObject({ verdict: 'reject', by: ADMIN, note: 'a customer name' });
    const decided = await asAdmin('GET', '/admin/reviews?state=decided');
    expect(decided.body.reviews.map((r: any) => r.id)).toContain(item.id);

    const other = openItem();
    const res = await t.request(`/admin/reviews/${other.item.id}/approve`, {
      method: 'POST',
      headers: { authorization: basicAuth(ADMIN) },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(t.node.store.shareback.review(other.item.id)?.verdict).toMatchObject({ verdict: 'approve', by: ADMIN });
    expect(t.node.store.shareback.review(other.item.id)?.verdict?.note).toBeUndefined();
  });

  it('an approval may carry the edited object (of the same id); the detail shows it', async () => {
    const { item, object } = openItem();
    const edited = { ...object, description: 'Reported by a customer after the phishing wave.' };
    expectError(
      await asAdmin('POST', `/admin/reviews/${item.id}/approve`, {
        edited: { ...edited, id: 'indicator--00000000-0000-4000-8000-000000000000' },
      }),
      400,
      'invalid-edit',
    );
    expect(t.node.store.shareback.review(item.id)?.state).toBe('open');
    expect((await asAdmin('POST', `/admin/reviews/${item.id}/approve`, { edited })).status).toBe(200);
    expect(t.node.store.shareback.review(item.id)?.verdict?.edited).toEqual(edited);
    const shown = await asAdmin('GET', `/admin/reviews/${item.id}`);
    expect(shown.body.verdict.edited).toEqual(edited);
    const list = await asAdmin('GET', '/admin/reviews?state=decided');
    expect(list.body.reviews.find((r: any) => r.id === item.id).verdict.edited).toBe(true);
  });

  it('unknown items are 404, malformed requests 400 (or 415), as TAXII error objects; nothing is decided', async () => {
    const unknown = '5f0c2b1e-0000-4000-8000-000000000000';
    expectError(await asAdmin('GET', `/admin/reviews/${unknown}`), 404, 'not-found');
    expectError(await asAdmin('POST', `/admin/reviews/${unknown}/approve`, {}), 404, 'not-found');
    expectError(await asAdmin('POST', `/admin/reviews/${unknown}/reject`, {}), 404, 'not-found');
    expectError(await asAdmin('GET', '/admin/nothing-here'), 404);
    expectError(await asAdmin('DELETE', '/admin/reviews'), 405);

    const { item } = openItem();
    const path = `/admin/reviews/${item.id}`;
    expectError(await asAdmin('POST', `${path}/approve`, '{"note": '), 400, 'malformed-json');
    expectError(await asAdmin('POST', `${path}/approve`, [1, 2]), 400);
    expectError(await asAdmin('POST', `${path}/approve`, { note: 42 }), 400);
    expectError(await asAdmin('POST', `${path}/approve`, { note: 'x'.repeat(5000) }), 400);
    expectError(await asAdmin('POST', `${path}/approve`, { verdict: 'approve' }), 400);
    expectError(await asAdmin('POST', `${path}/approve`, { edited: 'a text' }), 400);
    expectError(await asAdmin('POST', `${path}/reject`, { edited: {} }), 400);
    expectError(await asAdmin('POST', `${path}/reject`, 'note=x', 'application/x-www-form-urlencoded'), 415);
    expectError(await asAdmin('GET', '/admin/reviews?state=pending'), 400);
    expectError(await asAdmin('GET', '/admin/outbox?state=open'), 400);
    expectError(await asAdmin('GET', '/admin/outbox?limit=0'), 400);
    expect(t.node.store.shareback.review(item.id)?.state).toBe('open');
  });

  it('a body larger than max_content_length is a 413', async () => {
    const { item } = openItem();
    const big = { note: 'x'.repeat(t.config.taxii.max_content_length) };
    expectError(await asAdmin('POST', `/admin/reviews/${item.id}/approve`, big), 413, 'too-large');
    expect(t.node.store.shareback.review(item.id)?.state).toBe('open');
  });

  it('an admin reads the outbox: entries newest first, narrowed by state and member, with counts', async () => {
    const { store } = t.node;
    store.transaction(() => {
      store.shareback.enqueue({ upstream: 'hub', collection: 'shared' }, { id: 'indicator--a', version: '1', json: '{}' }, 'alice');
      store.shareback.enqueue({ upstream: 'hub', collection: 'shared' }, { id: 'indicator--b', version: '1', json: '{}' }, 'bob');
    });
    const all = await asAdmin('GET', '/admin/outbox');
    expect(all.status).toBe(200);
    expect(all.body.counts).toEqual({ pending: 2, sent: 0, failed: 0 });
    expect(all.body.entries.map((e: any) => e.id)).toEqual(['indicator--b', 'indicator--a']);
    expect(all.body.entries[0]).toMatchObject({ upstream: 'hub', collection: 'shared', member: 'bob', state: 'pending', attempts: 0 });
    const alices = await asAdmin('GET', '/admin/outbox?state=pending&member=alice');
    expect(alices.body.entries.map((e: any) => e.id)).toEqual(['indicator--a']);
    const sent = await asAdmin('GET', '/admin/outbox?state=sent');
    expect(sent.body.entries).toEqual([]);
  });

  it('an admin may use a bearer token', async () => {
    const keys = await loadOrCreateTokenKeys(t.config.data_dir);
    const { token } = await keys.issue(tokenSettings(t.config), 'reviewer-sub', '10m');
    const list = await call('GET', '/admin/reviews', `Bearer ${token}`);
    expect(list.status).toBe(200);
    expectError(await call('GET', '/taxii2', `Bearer ${token}`), 403, 'members-only');
  });
});

describe('members and admins are kept apart', () => {
  it('a member gets 403 on every admin route, and decides nothing', async () => {
    const { item } = openItem();
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/admin/reviews'],
      ['GET', '/admin/reviews?member=alice'],
      ['GET', `/admin/reviews/${item.id}`],
      ['POST', `/admin/reviews/${item.id}/approve`, {}],
      ['POST', `/admin/reviews/${item.id}/reject`, { note: 'mine' }],
      ['GET', '/admin/outbox'],
      ['GET', '/admin/outbox?member=alice'],
      ['GET', '/admin'],
      ['GET', '/admin/unknown'],
    ];
    for (const member of ['alice', 'bob', 'carol']) {
      for (const [method, path, body] of routes) {
        const answer = await call(method, path, basicAuth(member), body);
        expectError(answer, 403, 'admins-only');
        expect(JSON.stringify(answer.body)).not.toContain(item.id);
      }
    }
    expect(t.node.store.shareback.review(item.id)?.state).toBe('open');
  });

  it('an admin gets 403 on discovery, API roots, collections, objects, manifest, versions and status', async () => {
    const c = `/isac/collections/${COLLECTIONS.shared}`;
    const routes: Array<[string, string]> = [
      ['GET', '/taxii2/'],
      ['GET', '/isac/'],
      ['GET', '/isac/collections/'],
      ['GET', `${c}/`],
      ['GET', `${c}/objects/`],
      ['GET', `${c}/manifest/`],
      ['GET', `${c}/objects/indicator--6a1d7c5e-1f55-4e8e-9a51-000000000001/`],
      ['GET', `${c}/objects/indicator--6a1d7c5e-1f55-4e8e-9a51-000000000001/versions/`],
      ['GET', '/isac/status/00000000-0000-4000-8000-000000000000/'],
      ['GET', '/nowhere/'],
    ];
    for (const [method, path] of routes) {
      const res = await t.request(path, { method, headers: { accept: TAXII, authorization: basicAuth(ADMIN) } });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type')).toBe(TAXII);
      expect(JSON.parse(await res.text())).toMatchObject({ http_status: '403', error_code: 'members-only' });
    }
    const post = await t.request(`${c}/objects/`, {
      method: 'POST',
      headers: { accept: TAXII, 'content-type': TAXII, authorization: basicAuth(ADMIN) },
      body: JSON.stringify({ objects: [] }),
    });
    expect(post.status).toBe(403);
    await post.arrayBuffer();
  });

  it('a wrong admin password is a 401 exactly like a wrong member password', async () => {
    const wrongAdmin = await call('GET', '/admin/reviews', basicAuth(ADMIN, 'not-the-secret'));
    const wrongMember = await call('GET', '/admin/reviews', basicAuth('alice', 'not-the-secret'));
    const none = await call('GET', '/admin/reviews', null);
    for (const answer of [wrongAdmin, wrongMember, none]) expectError(answer, 401, 'unauthorized');
    expect(wrongAdmin.body).toEqual(wrongMember.body);
    expect(wrongAdmin.headers.get('www-authenticate')).toBe(wrongMember.headers.get('www-authenticate'));
  });

  it('no member endpoint shows a review item or an outbox entry', async () => {
    const { item } = openItem();
    const { store } = t.node;
    store.transaction(() =>
      store.shareback.enqueue(
        { upstream: 'hub', collection: 'shared' },
        { id: 'indicator--outbox-probe', version: '1', json: '{}' },
        'alice',
      ),
    );
    const paths = ['/taxii2/', '/isac/', '/isac/collections/', '/other/'];
    for (const c of Object.values(COLLECTIONS)) {
      paths.push(`/isac/collections/${c}/`, `/isac/collections/${c}/objects/`, `/isac/collections/${c}/manifest/`);
    }
    for (const member of ['alice', 'bob', 'carol'] as const) {
      for (const path of paths) {
        const answer = await t.get(path, member);
        const text = JSON.stringify(answer.body);
        expect(text, `${member} ${path}`).not.toContain(item.id);
        expect(text, `${member} ${path}`).not.toContain('indicator--outbox-probe');
        expect(text, `${member} ${path}`).not.toContain('"withheld"');
      }
    }
  });
});
