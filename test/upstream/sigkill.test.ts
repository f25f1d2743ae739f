/**
 * Crash safety: node B (a real `relay start` child process) backfills a large collection from
 * node A and is SIGKILLed at random points, again and again; after a final restart it holds
 * exactly A's versions, each once, and its store checks clean. Kill points are chosen by
 * progress (a random number of stored versions), never by wall time.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { COLLECTIONS, startTestNode, type TestNode } from '../support/node.ts';
import { runRelay, spawnRelay, stop, waitForStderr } from '../support/processes.ts';
import { indicators } from './scripted-server.ts';
import { prng } from '../support/random.ts';

const OBJECTS = 25_000; // x4 versions = 100k versions
const VERSIONS = 4;
const TOTAL = OBJECTS * VERSIONS;
const KILLS = 10;
const LOCAL = 'bbbbbbbb-0000-4000-8000-000000000001';
const CURSOR = `cursor:a/shared/${LOCAL}`;

function entries(store: Store, collection: string): Array<{ key: string; dateAdded: number }> {
  const out: Array<{ key: string; dateAdded: number }> = [];
  let after = 0;
  for (let i = 0; i < 10_000; i++) {
    const page = store.index.scan({ collection, after, limit: 5000, accept: () => true, maxScanned: 100_000 });
    for (const e of page.entries) out.push({ key: `${e.id}|${e.versionKey}`, dateAdded: e.dateAdded });
    if (!page.more || page.entries.length === 0) break;
    after = page.resumeAfter;
  }
  return out;
}

describe('SIGKILL during a backfill', () => {
  let a: TestNode;
  let dir: string;
  let configPath: string;
  const children: ChildProcess[] = [];
  const seed = Number(process.env.RELAY_TEST_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    a = await startTestNode((data) => {
      data.taxii = { default_page_size: 100, max_page_size: 1000, max_content_length: 1024 * 1024 };
    });
    a.node.ingestor.ingest(COLLECTIONS.shared, indicators(OBJECTS, VERSIONS), { source: 'import', detail: 'generated' });
    dir = mkdtempSync(join(tmpdir(), 'relay-sigkill-'));
    writeFileSync(join(dir, 'a.secret'), 'alice-secret');
    configPath = join(dir, 'b.yaml');
    // JSON is YAML
    writeFileSync(
      configPath,
      JSON.stringify({
        node: { id: 'b', title: 'B' },
        listen: '127.0.0.1:0',
        data_dir: join(dir, 'data'),
        tls: { dev_certs_dir: join(dir, 'certs') },
        logging: { level: 'warn' },
        api_roots: [{ path: 'isac', title: 'B', collections: [{ id: LOCAL, alias: 'mirror', title: 'Mirror' }] }],
        upstreams: [
          {
            name: 'a',
            url: a.node.discoveryUrl,
            auth: { user: 'alice', password_file: join(dir, 'a.secret') },
            tls: { ca_file: a.node.devCaPath },
            collections: [{ remote: 'shared', local: 'mirror', page_size: 1000, poll_interval: '1h' }],
          },
        ],
      }),
    );
  }, 180_000); // bounded generously: loading takes seconds, more on a loaded machine

  afterAll(async () => {
    for (const c of children) await stop(c);
    await a?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function startB(): ChildProcess {
    const child = spawnRelay(['start', '--config', configPath]);
    child.stdout?.resume();
    children.push(child);
    return child;
  }

  it(`converges to exactly A's versions after ${KILLS} SIGKILLs at random points (seed in the test log)`, async () => {
    console.log(`sigkill test seed: ${seed}`);
    const random = prng(seed);
    // kill targets: increasing random numbers of stored versions, spread over the backfill
    const targets = Array.from({ length: KILLS }, () => Math.floor(random() * (TOTAL - 2000)) + 1000).sort((x, y) => x - y);
    const killedAt: number[] = [];
    for (const target of targets) {
      const child = startB();
      await waitForStderr(child, /discovery: /);
      const observer = Store.open(join(dir, 'data', 'store'));
      try {
        // bounded wait: until B has stored `target` versions (or finished, or 60 s)
        for (let i = 0; i < 3000; i++) {
          const count = observer.index.count(LOCAL);
          if (count >= target || count >= TOTAL || child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        killedAt.push(observer.index.count(LOCAL));
        // the cursor committed with the last page agrees exactly with the data
        const cursor = observer.resources.getUpstream<{ stored: number; objects: number }>(CURSOR);
        expect(cursor?.stored ?? 0).toBe(observer.index.count(LOCAL));
        expect(cursor?.objects ?? 0).toBe(observer.index.count(LOCAL));
      } finally {
        await observer.close();
      }
    }
    console.log(`killed at ${killedAt.join(', ')} of ${TOTAL}`);
    // the kills really landed inside the backfill
    expect(killedAt.filter((n) => n > 0 && n < TOTAL).length).toBeGreaterThanOrEqual(KILLS / 2);

    // final run: let it finish, then stop it cleanly
    const child = startB();
    await waitForStderr(child, /discovery: /);
    const observer = Store.open(join(dir, 'data', 'store'));
    try {
      // bounded (4 min) so a broken build fails instead of hanging; typically a few seconds
      for (let i = 0; i < 12_000 && observer.index.count(LOCAL) < TOTAL; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await observer.close();
    }
    expect(await stop(child)).toBe(0);

    const b = Store.open(join(dir, 'data', 'store'));
    try {
      const got = entries(b, LOCAL);
      const want = entries(a.node.store, COLLECTIONS.shared);
      expect(got.length).toBe(TOTAL);
      expect(new Set(got.map((e) => e.key)).size).toBe(got.length); // each version once
      expect(new Set(got.map((e) => e.dateAdded)).size).toBe(got.length); // no duplicate date_added
      expect(new Set(got.map((e) => e.key))).toEqual(new Set(want.map((e) => e.key)));
      expect(b.check()).toMatchObject({ ok: true, problems: [] });
      // no page was processed twice and none was skipped
      expect(b.resources.getUpstream(CURSOR)).toMatchObject({ objects: TOTAL, stored: TOTAL, quarantined: 0 });
    } finally {
      await b.close();
    }
    const check = await runRelay(['check', '--config', configPath]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('store consistent');
  }, 480_000); // ~60 s on an idle 2-core machine; generous for a loaded CI box
});
