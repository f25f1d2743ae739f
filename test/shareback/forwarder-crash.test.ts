/**
 * The forwarder killed with SIGKILL mid-batch, at least 10 times: a `relay start` child whose
 * inbox forwards to the hub (a real relay node) works through a queued outbox and is killed at a
 * random moment after its first POST. A node started again on the same store finishes: the hub
 * holds every queued object exactly once (one version per id, none missing), and the outbox has
 * nothing pending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Store, type OutboxTarget } from '../../src/store/index.ts';
import { spawnRelay } from '../support/cli.ts';
import type { TestNode } from '../support/node.ts';
import { prng } from '../support/random.ts';
import { runSeed } from '../support/seed.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';
import { forwardingConfigData, HUB_SECRET_ENV, startHub, versionsAtHub } from './forwarder-support.ts';

const KILLS = 10;
const OBJECTS = 40;
const TARGET: OutboxTarget = { upstream: 'hub', collection: 'submissions' };
const ENV = { [HUB_SECRET_ENV]: 'alice-secret', RELAY_LISTEN: '127.0.0.1:0' };

let hub: TestNode;
const { dir, cleanup } = tempDir('relay-forwarder-crash-');
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => {
  await hub?.close();
  cleanup();
});

async function inStore<T>(path: string, fn: (store: Store) => T): Promise<T> {
  const store = Store.open(path);
  try {
    return fn(store);
  } finally {
    await store.close();
  }
}

describe(`the forwarder killed with SIGKILL mid-batch (${KILLS} runs)`, () => {
  it('neither loses nor duplicates a forward: a restarted node finishes and the hub holds each object once', async () => {
    const random = prng(runSeed('forwarder crash'));
    let killedMidBatch = 0;
    let resumedStatuses = 0;
    for (let run = 0; run < KILLS * 3 && killedMidBatch < KILLS; run++) {
      const runDir = join(dir, `run-${run}`);
      mkdirSync(runDir, { recursive: true });
      const data = forwardingConfigData(runDir, {
        url: hub.node.discoveryUrl,
        caFile: hub.node.devCaPath as string,
        batchSize: 5,
        logLevel: 'info',
      });
      const cfg = join(runDir, 'relay.yaml');
      writeFileSync(cfg, stringify(data));
      const objects = Array.from({ length: OBJECTS }, (_, i) => indicator(100_000 + run * 1000 + i));
      const storePath = join(runDir, 'data', 'store');
      mkdirSync(join(runDir, 'data'), { recursive: true, mode: 0o700 });
      await inStore(storePath, (store) =>
        store.transaction(() => {
          for (const o of objects) {
            store.shareback.enqueue(TARGET, { id: o.id as string, version: o.modified as string, json: JSON.stringify(o) }, 'alice');
          }
        }),
      );

      const { child, done } = spawnRelay(['start', '--config', cfg], { env: ENV });
      const delay = Math.floor(random() * 400);
      let timer: NodeJS.Timeout | undefined;
      child.stdout.on('data', (text: string) => {
        if (timer === undefined && text.includes('forwarding a batch')) timer = setTimeout(() => child.kill('SIGKILL'), delay);
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const ended = await done;
      clearTimeout(timer);
      clearTimeout(guard);
      const left = await inStore(storePath, (store) => store.shareback.listOutbox({ state: 'pending' }));
      if (timer === undefined || left.length === 0) continue; // killed before its first batch, or after the last: try again
      killedMidBatch++;
      if (left.some((e) => e.upstreamStatus !== undefined)) resumedStatuses++;
      const context = `run ${run}, killed ${delay} ms after the first batch with ${left.length} entries pending (${ended.signal})`;

      // a node started on the same store finishes the outbox by itself
      const again = spawnRelay(['start', '--config', cfg], { env: ENV });
      let pending = left.length;
      for (let i = 0; i < 300 && pending > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        pending = await inStore(storePath, (store) => store.shareback.outboxCounts().pending);
      }
      again.child.kill('SIGTERM');
      const stopped = await again.done;
      expect(pending, `${context}\n${stopped.stdout.slice(-3000)}`).toBe(0);
      expect(stopped.code, `${context}: ${stopped.stderr}`).toBe(0);

      const counts = await inStore(storePath, (store) => store.shareback.outboxCounts());
      expect(counts, context).toEqual({ pending: 0, sent: OBJECTS, failed: 0 });
      const perId = objects.map((o) => versionsAtHub(hub, o.id as string));
      expect(perId, context).toEqual(objects.map(() => 1));
    }
    expect(killedMidBatch).toBe(KILLS);
    // informative: how many kills left a noted status for the restart to follow
    console.log(`forwarder crash: ${killedMidBatch} kills mid-batch, ${resumedStatuses} left a noted status to resume`);
  }, 900_000);
});
