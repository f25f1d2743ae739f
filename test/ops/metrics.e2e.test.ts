/**
 * /metrics on a running node: admins only, and the values move as the node ingests, serves,
 * shares back and refuses logins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/index.ts';
import { basicAuth, COLLECTIONS, startTestNode, TAXII, type TestNode } from '../support/node.ts';
import { indicator } from '../support/stix-fixtures.ts';

const SHARE = 'cdcdcdcd-cdcd-4dcd-8dcd-cdcdcdcdcdcd';
let t: TestNode;

beforeAll(async () => {
  t = await startTestNode((data) => {
    data.admins = [{ id: 'ops', name: 'Operations', credentials: { basic_secret_hash: hashSecret('ops-secret') } }];
    data.api_roots[0].collections.push({
      id: SHARE,
      alias: 'share',
      title: 'Share',
      kind: 'inbox',
      redistribute_to: 'shared',
      review_mode: 'hold',
    });
    data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
  });
});

afterAll(async () => {
  await t?.close();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await t.request('/metrics', { headers: { authorization: basicAuth('ops', 'ops-secret') } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    values.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return values;
}

const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

describe('metrics', () => {
  it('are for admins: 401 without credentials, 403 for a member', async () => {
    expect((await t.request('/metrics')).status).toBe(401);
    const member = await t.request('/metrics', { member: 'alice' });
    expect(member.status).toBe(403);
    expect(((await member.json()) as { http_status: string }).http_status).toBe('403');
  });

  it('move as the node ingests, serves, shares back and refuses logins', async () => {
    const before = await scrape();
    const ingested = `relay_objects_ingested_total{source="upstream",collection="${COLLECTIONS.shared}"}`;
    const served = `relay_objects_served_total{member="bob",collection="${COLLECTIONS.shared}"}`;

    t.node.ingestor.ingest(COLLECTIONS.shared, [indicator(1), indicator(2), indicator(3)], { source: 'upstream', detail: 'hub/x' });
    const page = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/`, 'bob');
    expect(page.body.objects).toHaveLength(3);
    const refused = await t.request('/taxii2/', { headers: { authorization: basicAuth('bob', 'wrong'), accept: TAXII } });
    expect(refused.status).toBe(401);
    const posted = await t.request(`/isac/collections/${SHARE}/objects/`, {
      method: 'POST',
      member: 'alice',
      headers: { 'content-type': TAXII, accept: TAXII },
      body: JSON.stringify({ objects: [indicator(9, 0, { description: 'Reported by jane.roe.private@gmail.com.' })] }),
    });
    expect(posted.status).toBe(202);
    for (let i = 0; i < 200 && t.node.shareback.backlog().submissions > 0; i++) await new Promise((r) => setTimeout(r, 25));

    const after = await scrape();
    expect(value(after, ingested) - value(before, ingested)).toBe(3);
    expect(value(after, served) - value(before, served)).toBe(3);
    expect(
      value(after, 'relay_auth_failures_total{reason="unauthorized"}') - value(before, 'relay_auth_failures_total{reason="unauthorized"}'),
    ).toBe(1);
    const objectsRoute = 'relay_http_requests_total{route="/:root/collections/:collection/objects",method="GET",status="200"}';
    expect(value(after, objectsRoute) - value(before, objectsRoute)).toBe(1);
    expect(value(after, 'relay_http_requests_total{route="/taxii2",method="GET",status="401"}')).toBeGreaterThanOrEqual(1);
    // review_mode hold: the flagged object waits for a reviewer
    expect(value(after, 'relay_review_queue_open')).toBe(1);
    expect(value(after, 'relay_review_queue_oldest_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(after, 'relay_shareback_submissions_waiting')).toBe(0);
    expect(after.has('relay_reindexer_backlog_items')).toBe(true);
  });
});
