/**
 * `relay report` against a scripted scenario: objects from an upstream (twice: duplicates) and
 * an import, two members polling, a member sharing back and a reviewer deciding. Every figure
 * is known in advance and must come out exactly, as JSON and as CSV.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { startNode, type RelayNode } from '../../src/node.ts';
import { TLP2 } from '../../src/stix/markings.ts';
import { nowMicros } from '../../src/stix/time.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { basicAuth, COLLECTIONS, TAXII } from '../support/node.ts';
import { identity, indicator } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const SHARE = 'abababab-abab-4bab-8bab-abababababab';
const { dir, cleanup } = tempDir('relay-report-');
let cfg: string;
let node: RelayNode;
let dispatcher: Agent;
const since = new Date(Date.now() - 60_000).toISOString();

async function call(member: string, path: string, init: { method?: string; body?: string } = {}): Promise<any> {
  const res = await fetch(`${node.baseUrl}${path}`, {
    ...init,
    dispatcher,
    headers: { authorization: basicAuth(member), accept: TAXII, ...(init.body ? { 'content-type': TAXII } : {}) },
  });
  expect(res.status).toBeLessThan(300);
  return res.json();
}

beforeAll(async () => {
  cfg = writeTestConfig(join(dir, 'node'), (data) => {
    data.api_roots[0].collections.push({ id: SHARE, alias: 'share', title: 'Share', kind: 'inbox', redistribute_to: 'shared' });
    data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
  });
  node = await startNode(loadConfig(cfg), pino({ level: 'silent' }));
  dispatcher = new Agent({ connect: { ca: readFileSync(node.devCaPath as string, 'utf8') } });

  // from the hub: an energy identity marked GREEN and three unmarked indicators, delivered twice
  const hub = [identity(1, ['energy'], { object_marking_refs: [TLP2.green] }), indicator(11), indicator(12), indicator(13)];
  node.ingestor.ingest(COLLECTIONS.shared, hub, { source: 'upstream', detail: 'hub/indicators' });
  node.ingestor.ingest(COLLECTIONS.shared, hub, { source: 'upstream', detail: 'hub/indicators' });
  // an operator's import of two more
  node.ingestor.ingest(COLLECTIONS.shared, [indicator(21), indicator(22)], { source: 'import', detail: 'file.json' });

  // alice and bob each poll one page of the six objects
  for (const member of ['alice', 'bob']) {
    const page = await call(member, `/isac/collections/${COLLECTIONS.shared}/objects/`);
    expect(page.objects).toHaveLength(6);
  }

  // alice shares one clean indicator and one with a personal e-mail address in its description
  const shared = [indicator(31), indicator(32, 0, { description: 'Found by john.doe.home@gmail.com on his laptop.' })];
  const status = await call('alice', `/isac/collections/${SHARE}/objects/`, { method: 'POST', body: JSON.stringify({ objects: shared }) });
  for (let i = 0; i < 200 && node.shareback.backlog().submissions > 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect((await call('alice', `/isac/status/${status.id}/`)).pending_count).toBe(0);
  const review = node.store.shareback.listReviews({ states: ['open'] })[0];
  node.store.shareback.decide(review!.id, { verdict: 'reject', by: 'reviewer-1', at: nowMicros() });
  node.shareback.nudge();
  for (let i = 0; i < 200 && node.store.shareback.review(review!.id)?.state !== 'rejected'; i++)
    await new Promise((r) => setTimeout(r, 25));
  await node.store.audit.flushed();
}, 60_000);

afterAll(async () => {
  await dispatcher?.close();
  await node?.close();
  cleanup();
});

describe('relay report', () => {
  it('prints exactly the scenario’s figures as JSON', async () => {
    const run = await relay(['report', '--config', cfg, '--since', since, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.received).toEqual({
      total: 4 + 2 + 2 + 3,
      // the inbox stored alice's two; the share-back put the clean one, the partial one
      // (re-issued: redaction changes it) and the relay's identity (its creator) into the mirror
      bySource: { upstream: 4, import: 2, shareback: 3, taxii: 2 },
      byUpstream: [{ upstream: 'hub', stored: 4, duplicate: 4 }],
    });
    expect(report.delivered).toEqual({
      total: 12,
      byMember: [
        { member: 'alice', objects: 6, pages: 1 },
        { member: 'bob', objects: 6, pages: 1 },
      ],
      bySector: { '(none)': 10, energy: 2 },
      byTlp: { unmarked: 10, green: 2 },
    });
    expect(report.shareback).toEqual({
      producers: [{ member: 'alice', submissions: 1, objects: 2, redistributed: 3, forwarded: 0, reviews: 1 }],
      reviews: { rejected: 1 },
    });
    expect(report.participants).toEqual({ active: 2, polling: ['alice', 'bob'], sharing: ['alice'] });
  });

  it('prints the same figures as CSV rows', async () => {
    const run = await relay(['report', '--config', cfg, '--since', since, '--format', 'csv']);
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\r\n');
    expect(rows[0]).toBe('section,key,metric,value');
    expect(rows).toContain('received-upstream,hub,stored,4');
    expect(rows).toContain('received-upstream,hub,duplicate,4');
    expect(rows).toContain('delivered-member,bob,objects,6');
    expect(rows).toContain('delivered-sector,(none),objects,10');
    expect(rows).toContain('delivered-tlp,green,objects,2');
    expect(rows).toContain('shareback-producer,alice,objects,2');
    expect(rows).toContain('shareback-reviews,rejected,items,1');
    expect(rows).toContain('participants,active,members,2');
  });

  it('counts nothing outside the period', async () => {
    const run = await relay(['report', '--config', cfg, '--since', '2020-01-01', '--until', '2020-02-01', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.received.total).toBe(0);
    expect(report.delivered.total).toBe(0);
    expect(report.participants.active).toBe(0);
  });

  it('refuses a period that ends before it starts, naming the options', async () => {
    const run = await relay(['report', '--config', cfg, '--since', '2026-02-01', '--until', '2026-01-01']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--until must be after --since/);
  });
});
