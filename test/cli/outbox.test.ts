/**
 * `relay outbox`: counts per state and each entry with what the forwarder recorded (attempts,
 * last error, the upstream's status id), narrowed by state or member; `--json` prints one JSON
 * object per line.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type OutboxTarget } from '../../src/store/index.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';

const TARGET: OutboxTarget = { upstream: 'hub', collection: 'submissions' };
const { dir, cleanup } = tempDir('relay-outbox-cli-');
let config: string;
const [sent, failed, pending] = [indicator(1), indicator(2), indicator(3)] as Array<Record<string, string>>;

beforeAll(async () => {
  config = writeTestConfig(join(dir, 'node'), (data) => {
    data.api_roots[0].collections.push({
      id: '77777777-7777-4777-8777-777777777777',
      alias: 'share',
      title: 'Share with the hub',
      kind: 'inbox',
      forward_to: TARGET,
    });
    data.upstreams = [{ name: 'hub', url: 'https://hub.example/taxii2/' }];
  });
  const store = Store.openInDataDir(join(dir, 'node', 'data'));
  try {
    store.transaction(() => {
      store.shareback.enqueue(TARGET, { id: sent!.id!, version: sent!.modified!, json: JSON.stringify(sent) }, 'alice');
      store.shareback.enqueue(TARGET, { id: failed!.id!, version: failed!.modified!, json: JSON.stringify(failed) }, 'bob');
      store.shareback.enqueue(TARGET, { id: pending!.id!, version: pending!.modified!, json: JSON.stringify(pending) }, 'alice');
    });
    const [s, f, p] = store.shareback.listOutbox().reverse();
    store.shareback.noteUpstreamStatus([s!.seq, f!.seq], 'status-1');
    store.shareback.settleOutbox(s!.seq, { state: 'sent', upstreamStatus: 'status-1' });
    store.shareback.settleOutbox(f!.seq, { state: 'failed', upstreamStatus: 'status-1', message: 'invalid created timestamp' });
    store.shareback.settleOutbox(p!.seq, { state: 'retry', message: 'HTTP 503 from https://hub.example/' });
  } finally {
    await store.close();
  }
});
afterAll(() => cleanup());

describe('relay outbox', () => {
  it('--json: the counts, then one object per entry, newest first', async () => {
    const run = await relay(['outbox', '--config', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const [counts, ...entries] = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(counts).toEqual({ counts: { pending: 1, sent: 1, failed: 1 } });
    expect(entries.map((e) => [e.id, e.state, e.member, e.attempts, e.upstreamStatus, e.lastError])).toEqual([
      [pending!.id, 'pending', 'alice', 1, null, 'HTTP 503 from https://hub.example/'],
      [failed!.id, 'failed', 'bob', 1, 'status-1', 'invalid created timestamp'],
      [sent!.id, 'sent', 'alice', 1, 'status-1', null],
    ]);
    expect(entries[0]).toMatchObject({ upstream: 'hub', collection: 'submissions', version: pending!.modified, settledAt: null });
    expect(typeof entries[0].seq).toBe('number');
  });

  it('narrows by state and member', async () => {
    const failedOnly = await relay(['outbox', '--config', config, '--json', '--state', 'failed']);
    expect(
      failedOnly.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l).id),
    ).toEqual([failed!.id]);
    const alice = await relay(['outbox', '--config', config, '--json', '--member', 'alice']);
    expect(
      alice.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l).id),
    ).toEqual([pending!.id, sent!.id]);
  });

  it('prints counts and entries for people, and refuses an unknown state', async () => {
    const run = await relay(['outbox', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('outbox: 1 pending, 1 sent, 1 failed');
    expect(run.stdout).toContain('refused: invalid created timestamp');
    expect(run.stdout).toContain('last error: HTTP 503');
    const wrong = await relay(['outbox', '--config', config, '--state', 'lost']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/pending, sent, failed/);
  });
});
