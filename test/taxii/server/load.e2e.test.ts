/**
 * Under load, every page request gets an HTTP answer: 200, or 429/503 with Retry-After (a TAXII
 * error object) when the admission gate is full, and clients that wait out Retry-After page the
 * whole collection with every object exactly once. A smaller version of the benchmark's load
 * (bench/load.ts): 40 clients, one connection each, two per member, against a tight gate.
 * Pages are larger than one streamed piece, so they are streamed. No timings are asserted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret } from '../../../src/auth/index.ts';
import { COLLECTIONS, TAXII, startTestNode, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

const MEMBERS = 20;
const CLIENTS_PER_MEMBER = 2;
const OBJECTS = 600;
const LIMIT = 200; // pages of ~150 KB: several streamed pieces each
const MAX_REQUESTS_PER_CLIENT = 300;
const SECRET = 'load-secret';
const member = (i: number) => `load-${String(i).padStart(2, '0')}`;
const PAGES = `/isac/collections/${COLLECTIONS.shared}/objects/`;

let t: TestNode;
let ca: string;
const objects = Array.from({ length: OBJECTS }, (_, i) =>
  indicator(undefined, 0, { description: `load test object ${i} `.padEnd(600, '.') }),
);
const ids = objects.map((o) => o.id);

beforeAll(async () => {
  const hash = hashSecret(SECRET);
  t = await startTestNode((data) => {
    // a tight gate: 2 pages at once, 6 waiting, one page per member at a time
    data.limits = { pages_in_flight: 2, page_queue_length: 6, pages_per_member: 1, retry_after_seconds: 1, page_queue_timeout_seconds: 5 };
    data.members.push(
      ...Array.from({ length: MEMBERS }, (_, i) => ({
        id: member(i),
        name: `Load member ${i}`,
        credentials: { basic_secret_hash: hash },
        policy: { tlp_ceiling: 'amber' },
        grants: [{ api_root: 'isac', collection: 'shared', read: true }],
      })),
    );
  });
  ca = readFileSync(t.node.devCaPath ?? join(t.dir, 'certs', 'dev-ca.crt'), 'utf8');
  const report = t.node.ingestor.ingest(COLLECTIONS.shared, objects, { source: 'import', detail: 'load test' });
  expect(report.stored).toBe(OBJECTS);
});
afterAll(async () => {
  await t?.close();
});

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

interface ClientRun {
  readonly answers: Answer[];
  /** requests that got no HTTP answer (error messages) */
  readonly unanswered: string[];
  readonly received: string[];
  complete: boolean;
}

/** Pages the whole collection on one connection, waiting out every 429/503 for its Retry-After. */
async function pageAll(memberId: string): Promise<ClientRun> {
  const client = new Client(t.baseUrl, { connect: { ca }, pipelining: 1 });
  const run: ClientRun = { answers: [], unanswered: [], received: [], complete: false };
  const headers = { accept: TAXII, authorization: `Basic ${Buffer.from(`${memberId}:${SECRET}`).toString('base64')}` };
  let next: string | undefined;
  try {
    for (let i = 0; i < MAX_REQUESTS_PER_CLIENT && !run.complete; i++) {
      const query = new URLSearchParams({ limit: String(LIMIT), ...(next !== undefined ? { next } : {}) });
      let answer: Answer;
      try {
        const res = await client.request({ method: 'GET', path: `${PAGES}?${query}`, headers });
        const text = await res.body.text();
        const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
        answer = {
          status: res.statusCode,
          retryAfter: one(res.headers['retry-after']),
          contentType: one(res.headers['content-type']),
          body: JSON.parse(text),
        };
      } catch (error) {
        run.unanswered.push((error as Error).message);
        break;
      }
      run.answers.push(answer);
      if (answer.status === 200) {
        const envelope = answer.body as { more: boolean; next?: string; objects?: Array<{ id: string }> };
        for (const o of envelope.objects ?? []) run.received.push(o.id);
        if (!envelope.more) run.complete = true;
        next = envelope.next;
      } else if ((answer.status === 429 || answer.status === 503) && answer.retryAfter !== undefined && /^\d+$/.test(answer.retryAfter)) {
        await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfter) * 1000));
      } else {
        break; // asserted below
      }
    }
  } finally {
    await client.close();
  }
  return run;
}

it('answers every page request with 200 or 429/503 and Retry-After, and clients that wait it out get every object once', async () => {
  const members = Array.from({ length: MEMBERS * CLIENTS_PER_MEMBER }, (_, i) => member(i % MEMBERS));
  const runs = await Promise.all(members.map((m) => pageAll(m)));

  const answers = runs.flatMap((r) => r.answers);
  expect(runs.flatMap((r) => r.unanswered)).toEqual([]);
  expect(answers.filter((a) => ![200, 429, 503].includes(a.status)).map((a) => a.status)).toEqual([]);
  const refusals = answers.filter((a) => a.status !== 200);
  for (const a of refusals) {
    expect(a.retryAfter).toBe('1');
    expect(a.contentType).toBe(TAXII);
    expect(a.body).toMatchObject({ http_status: String(a.status), title: expect.any(String) });
  }
  // the gate was tight enough to refuse: otherwise this test would show nothing
  expect(refusals.length).toBeGreaterThan(0);
  console.log(
    `load test: ${answers.length} answers, ${answers.filter((a) => a.status === 200).length} pages, ` +
      `${refusals.filter((a) => a.status === 429).length}× 429, ${refusals.filter((a) => a.status === 503).length}× 503`,
  );

  for (const r of runs) {
    expect(r.complete).toBe(true);
    expect(r.received).toHaveLength(OBJECTS);
    expect(new Set(r.received)).toEqual(new Set(ids));
  }
});

it('streams a page larger than one piece, byte for byte the envelope of the stored objects', async () => {
  const res = await t.request(`${PAGES}?limit=${LIMIT}`, { member: 'alice', headers: { accept: TAXII } });
  expect(res.status).toBe(200);
  expect(res.headers.get('transfer-encoding')).toBe('chunked'); // streamed, not one text
  expect(res.headers.get('x-taxii-date-added-first')).not.toBeNull();
  expect(res.headers.get('x-taxii-date-added-last')).not.toBeNull();
  const text = await res.text();
  const next = (JSON.parse(text) as { next: string }).next;
  // the stored JSON of each object (ingest serializes once), in date_added order
  const expected = `{"more":true,"next":${JSON.stringify(next)},"objects":[${objects
    .slice(0, LIMIT)
    .map((o) => JSON.stringify(o))
    .join(',')}]}`;
  expect(text).toBe(expected);
});

it('answers HEAD on a large page without holding a page slot', async () => {
  // a slot held by a HEAD answer (whose body nobody reads) would leave none for the GET below
  for (let i = 0; i < 3; i++) {
    const head = await t.request(`${PAGES}?limit=${LIMIT}`, { member: 'alice', method: 'HEAD', headers: { accept: TAXII } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  }
  const res = await t.request(`${PAGES}?limit=${LIMIT}`, { member: 'alice', headers: { accept: TAXII } });
  expect(res.status).toBe(200);
  expect((JSON.parse(await res.text()) as { objects: unknown[] }).objects).toHaveLength(LIMIT);
});
