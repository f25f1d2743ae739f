/**
 * The background re-indexer loop survives a failing step (real LMDB): the failure is logged,
 * the loop waits and tries again, and the backlog still drains; stopping ends a wait at once.
 * The failing step stands for what LMDB can throw in a step (MDB_READERS_FULL, MDB_MAP_FULL):
 * it rolls back its transaction, so trying again loses nothing.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Reindexer } from '../../src/derive/index.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import { Store } from '../../src/store/index.ts';
import { identity, indicator, malware, relationship } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const FROM = { source: 'import' as const, detail: 'loop' };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A re-indexer whose first `failing` steps throw before doing anything, as LMDB does when it is out of reader slots. */
class FailingFirstSteps extends Reindexer {
  attempts = 0;
  constructor(
    store: Store,
    private readonly failing: number,
    options: ConstructorParameters<typeof Reindexer>[2],
  ) {
    super(store, DEFAULT_NODE_POLICY, options);
  }
  override step(limit?: number, ms?: number) {
    if (++this.attempts <= this.failing) throw new Error('MDB_READERS_FULL: Environment maxreaders limit reached');
    return super.step(limit, ms);
  }
}

function setup(failing: number, retryMs: number) {
  const t = tempDir('relay-reindexer-loop-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  const lines: Array<{ level: number; msg: string; attempt?: number; err?: { message: string } }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const reindexer = new FailingFirstSteps(store, failing, { retryMs, log: pino({ level: 'error' }, sink) });
  cleanups.push(() => reindexer.stop());
  // nothing derived inline: all of it is the background loop's
  const ingestor = new Ingestor(store, DEFAULT_NODE_POLICY, undefined, { reindexer, inlineItems: 0 });
  return { store, reindexer, ingestor, lines };
}

async function untilDrained(store: Store): Promise<void> {
  for (let i = 0; i < 1000 && store.queue.size() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('background re-indexer loop', () => {
  it('logs a failing step, tries again after a pause, and still drains the backlog', async () => {
    const { store, reindexer, ingestor, lines } = setup(3, 5);
    const family = malware(1);
    const indicators = Array.from({ length: 20 }, (_, i) => indicator(10 + i));
    ingestor.ingest(
      C,
      [
        identity(2, ['energy']),
        family,
        ...indicators,
        ...indicators.map((o, i) => relationship(100 + i, 'indicates', o.id as string, family.id as string)),
        relationship(200, 'targets', family.id as string, identity(2, ['energy']).id as string),
      ],
      FROM,
    );
    expect(store.queue.size()).toBeGreaterThan(0);
    reindexer.start();
    await untilDrained(store);
    expect(store.queue.size()).toBe(0);
    expect(reindexer.attempts).toBeGreaterThan(3);
    expect(lines.map((l) => [l.msg, l.attempt, l.err?.message])).toEqual(
      [1, 2, 3].map((attempt) => [
        'a re-indexer step failed; retrying later',
        attempt,
        'MDB_READERS_FULL: Environment maxreaders limit reached',
      ]),
    );
    // the indicators gained the sector the targets relationship gives their family
    expect(store.latestRecord(C, indicators[0]?.id as string)?.linked?.sectors).toEqual(['energy']);
  });

  it('stops at once while it waits to try a failing step again', async () => {
    const { store, reindexer, ingestor, lines } = setup(Infinity, 3_600_000);
    const family = malware(1);
    ingestor.ingest(C, [family, indicator(2), relationship(3, 'indicates', indicator(2).id as string, family.id as string)], FROM);
    const queued = store.queue.size();
    expect(queued).toBeGreaterThan(0);
    reindexer.start();
    for (let i = 0; i < 1000 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines).toHaveLength(1);
    reindexer.nudge(); // a commit's nudge does not cut the pause short
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reindexer.attempts).toBe(1);
    await reindexer.stop(); // would wait an hour if stopping did not end the pause
    expect(store.queue.size()).toBe(queued);
  });
});
