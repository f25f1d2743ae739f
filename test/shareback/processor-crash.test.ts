/**
 * The share-back processor killed with SIGKILL while it works through submissions, at least 10
 * times: a node started again on the store finishes the work, and the result (what was
 * redistributed, queued for the hub, opened for review, and every status) equals a run that
 * was never interrupted. Nothing is lost, nothing is shared twice.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { startNode } from '../../src/node.ts';
import { Store } from '../../src/store/index.ts';
import { spawnRelay, writeTestConfig } from '../support/cli.ts';
import { basicAuth, COLLECTIONS, TAXII } from '../support/node.ts';
import { prng } from '../support/random.ts';
import { runSeed } from '../support/seed.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const KILLS = 10;
const ENVELOPES = 80;
const SHARE = '88888888-8888-4888-8888-888888888888';
const ALICE_ORG = 'identity--a11ce000-0000-4000-8000-00000000c001';
const T0 = '2026-11-07T09:00:00.000Z';

const uuid = (kind: number, n: number) => `a11ce000-0000-4000-8${kind}00-${String(n).padStart(12, '0')}`;

/** Envelope k: the member's identity, a clean indicator, one with a contact in its description, every third a held note. */
function envelope(k: number): unknown[] {
  const common = { spec_version: '2.1', created: T0, modified: T0, created_by_ref: ALICE_ORG };
  const objects: unknown[] = [
    { type: 'identity', spec_version: '2.1', id: ALICE_ORG, created: T0, modified: T0, name: 'Alice Corp', identity_class: 'organization' },
    {
      ...common,
      type: 'indicator',
      id: `indicator--${uuid(1, k)}`,
      pattern: `[ipv4-addr:value = '198.51.100.${k % 250}']`,
      pattern_type: 'stix',
      valid_from: T0,
    },
    {
      ...common,
      type: 'indicator',
      id: `indicator--${uuid(2, k)}`,
      pattern: `[domain-name:value = 'c2-${k}.example']`,
      pattern_type: 'stix',
      valid_from: T0,
      description: `Seen by our analyst, write to analyst${k}.person@gmail.com for the logs.`,
    },
  ];
  if (k % 3 === 0)
    objects.push({
      ...common,
      type: 'note',
      id: `note--${uuid(3, k)}`,
      content: `Employee SSN 078-05-${String(1000 + k)} leaked.`,
      object_refs: [`indicator--${uuid(1, k)}`],
    });
  return objects;
}

const { dir, cleanup } = tempDir('relay-shareback-crash-');
afterAll(() => cleanup());

function config(name: string): string {
  return writeTestConfig(join(dir, name), (data) => {
    data.logging = { level: 'info' };
    data.api_roots[0].collections.push({
      id: SHARE,
      alias: 'share',
      title: 'Share',
      kind: 'inbox',
      redistribute_to: 'shared',
      forward_to: { upstream: 'hub', collection: 'submissions' },
    });
    data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
    // nothing listens there: forwarded entries stay queued, which is what this test compares
    data.upstreams = [{ name: 'hub', url: 'https://127.0.0.1:9/taxii2/', collections: [] }];
  });
}

/** Everything the processor leads to, in a comparable form. */
function snapshot(path: string, statusIds: readonly string[]) {
  const store = Store.open(path);
  try {
    const mirror = store.index
      .scan({ collection: COLLECTIONS.shared, after: 0, limit: 1e6, accept: () => true, maxScanned: 1e6 })
      .entries.map((e) => `${e.id}|${e.version}`)
      .sort();
    const outbox = store.shareback
      .listOutbox({ limit: 1e6 })
      .map((e) => `${e.upstream}|${e.collection}|${e.id}|${e.version}`)
      .sort();
    const reviews = store.shareback
      .listReviews()
      .map((r) => `${r.object.id}|${r.object.version}|${r.decision}|${r.state}|${r.withheld.join(',')}`)
      .sort();
    const statuses = statusIds.map((id) => store.resources.getStatus(id) as Record<string, unknown>);
    return { submissions: store.shareback.submissionCount(), mirror, outbox, reviews, statuses };
  } finally {
    void store.close();
  }
}

function submissionsLeft(path: string): number {
  const store = Store.open(path);
  try {
    return store.shareback.submissionCount();
  } finally {
    void store.close();
  }
}

/** Runs `relay start` on a config until the processor has nothing left (bounded), then stops it. */
async function finish(cfg: string, path: string): Promise<void> {
  const node = spawnRelay(['start', '--config', cfg]);
  let left = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 600 && left > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = submissionsLeft(path);
  }
  node.child.kill('SIGTERM');
  const stopped = await node.done;
  expect(left, stopped.stderr).toBe(0);
  expect(stopped.code, stopped.stderr).toBe(0);
}

let staged: string;
const statusIds: string[] = [];

beforeAll(async () => {
  // Stage the POSTs on a node whose processor is stopped, so every submission waits in the store.
  const cfg = config('staged');
  staged = join(dir, 'staged', 'data');
  const node = await startNode(loadConfig(cfg), pino({ level: 'silent' }));
  await node.shareback.stop();
  const dispatcher = new Agent({ connect: { ca: readFileSync(node.devCaPath as string, 'utf8') } });
  try {
    for (let k = 0; k < ENVELOPES; k++) {
      const res = await fetch(`${node.baseUrl}/isac/collections/${SHARE}/objects/`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: basicAuth('alice'), 'content-type': TAXII, accept: TAXII },
        body: JSON.stringify({ objects: envelope(k) }),
      });
      expect(res.status).toBe(202);
      statusIds.push(((await res.json()) as { id: string }).id);
    }
    expect(node.store.shareback.submissionCount()).toBe(ENVELOPES);
  } finally {
    await dispatcher.close();
    await node.close();
  }
}, 120_000);

describe(`the share-back processor killed with SIGKILL (${KILLS} runs)`, () => {
  it('resumes without loss or duplicates: the result equals an uninterrupted run', async () => {
    const reference = config('reference');
    cpSync(staged, join(dir, 'reference', 'data'), { recursive: true });
    await finish(reference, join(dir, 'reference', 'data', 'store'));
    const expected = snapshot(join(dir, 'reference', 'data', 'store'), statusIds);
    // the reference did the work: something of each kind
    expect(expected.submissions).toBe(0);
    expect(expected.mirror.length).toBeGreaterThan(ENVELOPES * 2);
    expect(expected.outbox.length).toBeGreaterThan(ENVELOPES * 2);
    expect(expected.reviews.filter((r) => r.includes('|hold|open|'))).toHaveLength(Math.ceil(ENVELOPES / 3));
    expect(expected.statuses.every((s) => s.status !== undefined)).toBe(true);

    const random = prng(runSeed('shareback processor crash'));
    let killedMidWork = 0;
    for (let run = 0; run < KILLS * 3 && killedMidWork < KILLS; run++) {
      const cfg = config(`run-${run}`);
      const data = join(dir, `run-${run}`, 'data');
      cpSync(staged, data, { recursive: true });
      const killAfter = 1 + Math.floor(random() * (ENVELOPES - 10));
      const { child, done } = spawnRelay(['start', '--config', cfg]);
      let processed = 0;
      child.stdout.on('data', (text: string) => {
        processed += text.split('share-back submission processed').length - 1;
        if (processed >= killAfter) child.kill('SIGKILL');
      });
      const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const ended = await done;
      clearTimeout(watchdog);
      const path = join(data, 'store');
      const left = submissionsLeft(path);
      if (ended.signal !== 'SIGKILL' || left === 0) continue; // it finished before the kill: try again
      killedMidWork++;
      const context = `run ${run}: killed after ${processed} submissions with ${left} left`;

      await finish(cfg, path);
      const got = snapshot(path, statusIds);
      expect(got.submissions, context).toBe(0);
      expect(got.mirror, context).toEqual(expected.mirror);
      expect(got.outbox, context).toEqual(expected.outbox);
      expect(got.reviews, context).toEqual(expected.reviews);
      expect(got.statuses, context).toEqual(expected.statuses);
    }
    expect(killedMidWork).toBe(KILLS);
  }, 900_000);
});
