/**
 * Crashes while the re-indexer drains: `relay import` commits everything and then works through
 * the derivation its commits queued (inline budget 0, so all of it comes after the commits); it
 * is SIGKILLed at random moments of that drain, at least 10 times. After each kill the store is
 * structurally consistent with work still queued; a node started on it drains the rest by
 * itself; then every derived attribute equals its definition (what `relay check` compares once
 * drained), and the entries carry exactly the attributes of a store that was never interrupted.
 * No work is lost.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDerived } from '../../src/derive/index.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import { Store } from '../../src/store/index.ts';
import { relay, spawnRelay, writeTestConfig } from '../support/cli.ts';
import { ATTACK_STATEMENT, COLLECTIONS } from '../support/node.ts';
import { identity, indicator, malware, relationship } from '../support/policy-fixtures.ts';
import { prng } from '../support/random.ts';
import { runSeed } from '../support/seed.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const KILLS = 10;
const SECTORS = ['energy', 'water', 'health', 'finance', 'legal', 'transport'];

/** Malware families with many indicators; their targets relationships arrive last, so derivation fans out. */
function corpus(): Array<Record<string, unknown>> {
  const identities = SECTORS.map((s, i) => identity(1 + i, [s]));
  const families = Array.from({ length: 12 }, (_, f) => malware(100 + f));
  const indicators = Array.from({ length: 1200 }, (_, i) => indicator(1000 + i));
  const indicates = indicators.map((ind, i) =>
    relationship(5000 + i, 'indicates', ind.id as string, families[i % families.length]?.id as string),
  );
  const targets = families.flatMap((m, f) =>
    [0, 1].map((k) => relationship(9000 + f * 2 + k, 'targets', m.id as string, identities[(f + k * 3) % identities.length]?.id as string)),
  );
  return [...identities, ...families, ...indicators, ...indicates, ...targets];
}

/** The test node's policy settings (test/support/node.ts testConfigData). */
const POLICY = { ...DEFAULT_NODE_POLICY, defaultTlp: 'green' as const, markingMap: new Map([[ATTACK_STATEMENT, 'clear' as const]]) };

/** Opens the store (beside a running node: LMDB allows it), runs `fn`, closes it. */
async function inStore<T>(path: string, fn: (store: Store) => T): Promise<T> {
  const store = Store.open(path);
  try {
    return fn(store);
  } finally {
    await store.close();
  }
}

/** What members are judged by, entry by entry (positions left out: a drain resumed after a crash may move entries in another order). */
function attributesIn(path: string): Promise<Map<string, string>> {
  const store = Store.open(path);
  const out = new Map<string, string>();
  for (const e of store.index.scan({ collection: COLLECTIONS.shared, after: 0, limit: 1e6, accept: () => true, maxScanned: 1e6 }).entries) {
    out.set(`${e.id}|${e.version}`, JSON.stringify([e.attributes.sectors, e.attributes.opinion ?? null, e.isLast]));
  }
  return store.close().then(() => out);
}

const { dir, cleanup } = tempDir('relay-reindex-crash-');
let bundle: string;
beforeAll(() => {
  bundle = join(dir, 'bundle.json');
  writeFileSync(bundle, JSON.stringify({ type: 'bundle', id: 'bundle--6b1d7c5e-1f55-4e8e-9a51-2f1c4b0f0001', objects: corpus() }));
});
afterAll(() => cleanup());

/** A config whose import leaves all derivation to its drain, in small steps. */
function config(name: string): string {
  return writeTestConfig(join(dir, name), (data) => {
    data.reindexer = { inline_items: 0, max_backlog: 1_000_000, items_per_step: 20 };
  });
}

describe(`the re-indexer killed with SIGKILL while it drains (${KILLS} runs)`, () => {
  it('loses no work: the store stays consistent, a restarted node drains the rest, and the result equals an uninterrupted run', async () => {
    const random = prng(runSeed('reindexer crash'));
    const reference = config('reference');
    const clean = await relay(['import', '--config', reference, '--collection', 'shared', bundle], { timeoutMs: 120_000 });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toMatch(/^deriving: \d+ objects queued$/m);
    const expected = await attributesIn(join(dir, 'reference', 'data', 'store'));
    expect([...expected.values()].some((a) => a.includes('energy'))).toBe(true);

    let killedMidDrain = 0;
    for (let run = 0; run < KILLS * 3 && killedMidDrain < KILLS; run++) {
      const cfg = config(`run-${run}`);
      const { child, done } = spawnRelay(['import', '--config', cfg, '--collection', 'shared', bundle]);
      const delay = Math.floor(random() * 600);
      let timer: NodeJS.Timeout | undefined;
      child.stderr.on('data', (text: string) => {
        if (timer === undefined && text.includes('deriving:')) timer = setTimeout(() => child.kill('SIGKILL'), delay);
      });
      const ended = await done;
      clearTimeout(timer);
      const path = join(dir, `run-${run}`, 'data', 'store');
      const queued = await inStore(path, (store) => store.queue.size());
      if (ended.signal !== 'SIGKILL' || queued === 0) continue; // the drain ended before the kill: try again
      killedMidDrain++;
      const context = `run ${run}, killed ${delay} ms into the drain with ${queued} objects queued`;

      // consistent as it is: nothing half-written, the work still queued
      expect(await inStore(path, (store) => store.check().problems), context).toEqual([]);

      // a node started on the store drains the rest by itself
      const node = spawnRelay(['start', '--config', cfg], { env: { RELAY_LISTEN: '127.0.0.1:0' } });
      let backlog = queued;
      for (let i = 0; i < 300 && backlog > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        backlog = await inStore(path, (store) => store.queue.size());
      }
      node.child.kill('SIGTERM');
      const stopped = await node.done;
      expect(backlog, context).toBe(0);
      expect(stopped.code, `${context}: ${stopped.stderr}`).toBe(0);

      expect(await inStore(path, (store) => [...store.check().problems, ...checkDerived(store, POLICY).problems]), context).toEqual([]);
      expect(await attributesIn(path), context).toEqual(expected);
    }
    expect(killedMidDrain).toBe(KILLS);
  }, 900_000);
});
