import { describe, expect, it } from 'vitest';
import { CheckQueue } from '../../src/auth/check-queue.ts';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: (value: string) => void;
  let fail!: (error: Error) => void;
  const task = () => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { task, finish: () => finish(name), fail: (e: Error) => fail(e) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CheckQueue', () => {
  it('runs at most `concurrency` checks at once, the waiting ones in arrival order', async () => {
    const queue = new CheckQueue({ concurrency: 2, queue: 10, perClient: 10 });
    const log: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
    const runs = tasks.map((t, i) => queue.run(`client-${i}`, t.task));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    expect(queue.load).toEqual({ running: 2, waiting: 2 });
    tasks[1]?.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    tasks[0]?.finish();
    tasks[2]?.finish();
    await tick();
    tasks[3]?.finish();
    const values = await Promise.all(runs.map((r) => (r.ok ? r.value : Promise.reject(new Error('refused')))));
    expect(values).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.load).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses at once when the queue is full instead of queueing without end', async () => {
    const queue = new CheckQueue({ concurrency: 1, queue: 2, perClient: 10 });
    const log: string[] = [];
    const tasks = ['a', 'b', 'c'].map((n) => gate(log, n));
    const runs = tasks.map((t, i) => queue.run(`client-${i}`, t.task));
    expect(runs.every((r) => r.ok)).toBe(true);
    expect(queue.run('client-9', gate(log, 'x').task)).toEqual({ ok: false, reason: 'queue-full' });
    await tick();
    tasks[0]?.finish();
    await tick();
    // one place is free again
    expect(queue.run('client-9', gate(log, 'y').task).ok).toBe(true);
  });

  it('lets one client hold only `perClient` places, running or waiting', async () => {
    const queue = new CheckQueue({ concurrency: 1, queue: 10, perClient: 2 });
    const log: string[] = [];
    const first = gate(log, 'a');
    const a = queue.run('flooder', first.task);
    expect(queue.run('flooder', gate(log, 'b').task).ok).toBe(true);
    expect(queue.run('flooder', gate(log, 'c').task)).toEqual({ ok: false, reason: 'client-busy' });
    expect(queue.run('member', gate(log, 'm').task).ok).toBe(true);
    await tick();
    first.finish();
    if (a.ok) await a.value;
    expect(queue.run('flooder', gate(log, 'd').task).ok).toBe(true);
  });

  it('frees the place of a check that fails', async () => {
    const queue = new CheckQueue({ concurrency: 1, queue: 0, perClient: 1 });
    const log: string[] = [];
    const broken = gate(log, 'a');
    const run = queue.run('client', broken.task);
    expect(queue.run('other', gate(log, 'b').task)).toEqual({ ok: false, reason: 'queue-full' });
    await tick();
    broken.fail(new Error('scrypt failed'));
    if (run.ok) await expect(run.value).rejects.toThrow('scrypt failed');
    expect(queue.load).toEqual({ running: 0, waiting: 0 });
    expect(queue.run('client', gate(log, 'c').task).ok).toBe(true);
  });
});
