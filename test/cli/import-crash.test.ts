/**
 * Durability of `relay import`: the child process is SIGKILLed at random points, and after each
 * kill the store must hold exactly the versions of a prefix of the batches the import commits
 * (at least the batches it reported as committed), be consistent by `relay check`, and finish
 * the job on a re-run with the already stored versions counted as duplicates.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { relay, spawnRelay, writeTestConfig, type RelayRun } from '../support/cli.ts';
import { COLLECTIONS } from '../support/node.ts';
import { tempDir, uuidFor } from '../support/stix-fixtures.ts';
import { prng } from '../support/random.ts';

const BATCH = 500;
const SEED = Number(process.env.RELAY_CRASH_SEED ?? Date.now() % 1_000_000_007);

type Obj = Record<string, unknown>;

/** ~20,600 small objects: indicators (some with 3 versions), malware, relationships, repeats, invalid ones. */
function corpus(): Obj[] {
  const at = (s: number) => new Date(Date.UTC(2024, 0, 1) + s * 1000).toISOString();
  const indicator = (i: number, v: number): Obj => ({
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidFor(i, 1)}`,
    created: at(i),
    modified: at(i + v * 86_400),
    pattern: `[ipv4-addr:value = '10.${(i >> 8) & 255}.${i & 255}.${v}']`,
    pattern_type: 'stix',
    valid_from: at(i),
  });
  const malware = (j: number): Obj => ({
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${uuidFor(j, 2)}`,
    created: at(j),
    modified: at(j),
    name: `family ${j}`,
    is_family: true,
  });
  const relationship = (k: number): Obj => ({
    type: 'relationship',
    spec_version: '2.1',
    id: `relationship--${uuidFor(k, 3)}`,
    created: at(k),
    modified: at(k),
    relationship_type: 'indicates',
    source_ref: `indicator--${uuidFor(k % 10_000, 1)}`,
    target_ref: `malware--${uuidFor(k % 2000, 2)}`,
  });
  const objects: Obj[] = [];
  for (let i = 0; i < 10_000; i++) objects.push(indicator(i, 0));
  for (let j = 0; j < 2000; j++) objects.push(malware(j));
  for (let k = 0; k < 6000; k++) objects.push(relationship(k));
  for (let i = 0; i < 10_000; i += 10) objects.push(indicator(i, 1), indicator(i, 2));
  const random = prng(42); // the file is the same in every run of this test
  for (let r = 0; r < 400; r++) objects.push({ ...(objects[Math.floor(random() * objects.length)] as Obj) });
  for (let b = 0; b < 200; b++) objects.push({ ...indicator(50_000 + b, 0), spec_version: undefined });
  for (let i = objects.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [objects[i], objects[j]] = [objects[j] as Obj, objects[i] as Obj];
  }
  // After the shuffle a repeat may precede its original: whichever comes first in the file is
  // the one stored, the other a duplicate (that is what ORDER below computes).
  return objects;
}

const OBJECTS = corpus();
const versionOf = (o: Obj) => `${String(o.id)}|${String(o.modified)}`;
const isValid = (o: Obj) => o.spec_version === '2.1';

/** Distinct versions in the order the import stores them, and how many the first k batches hold. */
const ORDER: string[] = [];
const AFTER_BATCHES: number[] = [0];
{
  const seen = new Set<string>();
  for (let start = 0; start < OBJECTS.length; start += BATCH) {
    for (const o of OBJECTS.slice(start, start + BATCH)) {
      if (!isValid(o) || seen.has(versionOf(o))) continue;
      seen.add(versionOf(o));
      ORDER.push(versionOf(o));
    }
    AFTER_BATCHES.push(ORDER.length);
  }
}
const BATCHES = AFTER_BATCHES.length - 1;
const INVALID = OBJECTS.filter((o) => !isValid(o)).length;

const { dir, cleanup } = tempDir('relay-crash-');
let bundlePath: string;
beforeAll(() => {
  bundlePath = join(dir, 'bundle.json');
  writeFileSync(bundlePath, JSON.stringify({ type: 'bundle', id: `bundle--${uuidFor(1, 9)}`, objects: OBJECTS }));
});
afterAll(() => cleanup());

interface Kill {
  /** SIGKILL once this many batches are reported committed on stderr … */
  readonly afterBatches?: number;
  /** … or this many milliseconds after the spawn */
  readonly afterMs?: number;
}

/** Runs the import and kills it as told; returns how many batches it had reported committed. */
async function importAndKill(config: string, kill: Kill): Promise<{ reported: number; run: RelayRun }> {
  const { child, done } = spawnRelay(['import', '--config', config, '--collection', 'shared', '--batch-size', String(BATCH), bundlePath]);
  let reported = 0;
  let pending = '';
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^committed (\d+)\/(\d+) objects/.exec(line);
      if (!m) continue;
      reported = Math.ceil(Number(m[1]) / BATCH);
      if (kill.afterBatches !== undefined && reported >= kill.afterBatches) child.kill('SIGKILL');
    }
  });
  const timer = kill.afterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
  try {
    const run = await done;
    return { reported, run };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asserts the store under `config`'s data dir holds exactly the first k batches' versions for
 * some k >= `atLeast`; returns k (the smallest such). Not necessarily in file order: a
 * relationship stored before its indicator is re-indexed after it when the indicator arrives.
 */
async function verifyPrefix(dataDir: string, config: string, atLeast: number, context: string): Promise<number> {
  const check = relay(['check', '--config', config]); // the consistency oracle, as a separate process
  const store = Store.openInDataDir(dataDir);
  let stored: string[];
  let dates: number[];
  try {
    // every entry, also those a crash left unsettled (scans stop before them until they are derived)
    const entries = [...store.index.all()].filter((e) => e.collection === COLLECTIONS.shared);
    stored = entries.map((e) => `${e.record.id}|${e.record.version}`);
    dates = entries.map((e) => e.dateAdded);
    expect(store.index.count(COLLECTIONS.shared), context).toBe(stored.length);
    expect(store.stats().objectVersions, context).toBe(stored.length);
  } finally {
    await store.close();
  }
  // no duplicate versions, no duplicate or out-of-order date_added
  expect(new Set(stored).size, context).toBe(stored.length);
  for (let i = 1; i < dates.length; i++) expect((dates[i] as number) > (dates[i - 1] as number), context).toBe(true);
  // exactly the content of a prefix of the batches
  const k = AFTER_BATCHES.findIndex((n, batches) => n === stored.length && batches >= atLeast);
  expect(k, `${context}: ${stored.length} versions stored is not the content of k >= ${atLeast} whole batches`).toBeGreaterThanOrEqual(0);
  expect([...stored].sort(), context).toEqual(ORDER.slice(0, stored.length).sort());
  const checked = await check;
  expect(checked.stdout, context).toContain('store consistent');
  expect(checked.code, context).toBe(0);
  return k;
}

async function completeAndVerify(dataDir: string, config: string, storedBefore: number, context: string): Promise<void> {
  // the whole import and its derivation: minutes on a busy machine (bounded, killed after 5)
  const run = await relay(['import', '--config', config, '--collection', 'shared', '--batch-size', String(BATCH), bundlePath], {
    timeoutMs: 300_000,
  });
  expect(run.code, `${context}: ${run.signal === 'SIGKILL' ? 'killed after 300 s' : run.stderr}`).toBe(0);
  const stored = ORDER.length - storedBefore;
  const duplicate = OBJECTS.length - INVALID - stored;
  expect(run.stdout, context).toContain(
    `${bundlePath}: ${OBJECTS.length} objects: ${stored} stored, ${duplicate} duplicate, ${INVALID} rejected`,
  );
  expect(await verifyPrefix(dataDir, config, BATCHES, context)).toBe(BATCHES);
}

describe(`relay import killed with SIGKILL (seed ${SEED})`, () => {
  it('the generated bundle is large, versioned, with repeats and invalid objects', () => {
    expect(OBJECTS.length).toBeGreaterThanOrEqual(20_000);
    expect(BATCHES).toBeGreaterThanOrEqual(40);
    expect(ORDER.length).toBeLessThan(OBJECTS.length - INVALID); // repeats exist
    expect(INVALID).toBe(200);
  });

  it('on a fresh store each time: what survives is a prefix of the committed batches', async () => {
    const random = prng(SEED);
    const plans: Kill[] = Array.from({ length: 10 }, (_, i) =>
      // half by progress (after 1 … ~60% of the batches), half at a random time from spawn, which
      // also covers kills during startup and before the first commit
      i % 2 === 0 ? { afterBatches: 1 + Math.floor(random() * BATCHES * 0.6) } : { afterMs: 200 + Math.floor(random() * 2300) },
    );
    const results: Array<{ plan: Kill; reported: number; k: number; killed: boolean }> = [];
    let last: { dataDir: string; config: string; k: number } | undefined;
    // two runs at a time (independent stores), ten in all
    for (let i = 0; i < plans.length; i += 2) {
      await Promise.all(
        plans.slice(i, i + 2).map(async (plan, j) => {
          const runDir = join(dir, `fresh-${i + j}`);
          const config = writeTestConfig(runDir);
          const { reported, run } = await importAndKill(config, plan);
          const context = `seed ${SEED}, fresh run ${i + j}, ${JSON.stringify(plan)}, reported ${reported}, exit ${run.code ?? run.signal}`;
          const k = await verifyPrefix(join(runDir, 'data'), config, reported, context);
          results.push({ plan, reported, k, killed: run.signal === 'SIGKILL' });
          last = { dataDir: join(runDir, 'data'), config, k };
        }),
      );
    }
    // the kills really landed mid-import (not before any batch, not after the last) most times
    const midway = results.filter((r) => r.killed && r.k > 0 && r.k < BATCHES);
    expect(midway.length, JSON.stringify(results)).toBeGreaterThanOrEqual(5);
    // every progress-driven kill happened after the batch it waited for
    for (const r of results) if (r.plan.afterBatches !== undefined && r.killed) expect(r.k).toBeGreaterThanOrEqual(r.plan.afterBatches);

    // finishing one of them stores exactly the rest
    const l = last as { dataDir: string; config: string; k: number };
    await completeAndVerify(l.dataDir, l.config, AFTER_BATCHES[l.k] as number, `seed ${SEED}, completing a fresh run`);
  }, 180_000);

  it('cumulatively on one store: each run resumes, nothing is lost or repeated, and a last run completes', async () => {
    const random = prng(SEED + 1);
    const runDir = join(dir, 'cumulative');
    const config = writeTestConfig(runDir);
    const dataDir = join(runDir, 'data');
    let k = 0;
    for (let run = 0; run < 4; run++) {
      // kill somewhere after the batches already stored (a re-run first re-reads them as duplicates)
      const afterBatches = Math.min(BATCHES - 1, k + 1 + Math.floor(random() * Math.max(1, (BATCHES - k) / 2)));
      const { reported, run: result } = await importAndKill(config, { afterBatches });
      const context = `seed ${SEED}, cumulative run ${run}, kill after ${afterBatches}, reported ${reported}, exit ${result.code ?? result.signal}`;
      const next = await verifyPrefix(dataDir, config, Math.max(reported, k), context);
      expect(next, context).toBeGreaterThanOrEqual(k);
      k = next;
    }
    expect(k).toBeGreaterThan(0);
    await completeAndVerify(dataDir, config, AFTER_BATCHES[k] as number, `seed ${SEED}, completing the cumulative store`);
  }, 180_000);
});
