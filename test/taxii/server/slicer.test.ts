/**
 * Page work in slices of event-loop time: tasks run in arrival order, at most a slice's worth
 * per turn (by an injected clock, so nothing here depends on real timings), and each caller
 * gets its task's result or error.
 */
import { describe, expect, it } from 'vitest';
import { WorkSlicer } from '../../../src/taxii/server/slicer.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A slicer on a fake clock that each task advances by its cost. */
function fakeClock(sliceMs: number) {
  let now = 0;
  const slicer = new WorkSlicer(sliceMs, () => now);
  const ran: string[] = [];
  const task = (label: string, cost: number) =>
    slicer.run(() => {
      now += cost;
      ran.push(label);
      return label;
    });
  return { slicer, ran, task };
}

describe('WorkSlicer', () => {
  it('runs tasks in arrival order and hands each caller its result', async () => {
    const { task, ran } = fakeClock(8);
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((l) => task(l, 1)));
    expect(results).toEqual(['a', 'b', 'c', 'd']);
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stops a turn once its slice is spent and goes on in the next turn', async () => {
    const { task, ran, slicer } = fakeClock(8);
    const all = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((l) => task(l, 3));
    await turn();
    // 3 + 3 < 8, 9 >= 8: three tasks in the first turn
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(slicer.pending).toBe(4);
    await turn();
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    await Promise.all(all);
    expect(ran).toHaveLength(7);
    expect(slicer.pending).toBe(0);
  });

  it('runs a task longer than the slice alone in its turn', async () => {
    const { task, ran } = fakeClock(8);
    void task('long', 50);
    void task('next', 1);
    await turn();
    expect(ran).toEqual(['long']);
    await turn();
    expect(ran).toEqual(['long', 'next']);
  });

  it('rejects the caller whose task threw, and runs the others', async () => {
    const slicer = new WorkSlicer(8);
    const failing = slicer.run(() => {
      throw new Error('store read failed');
    });
    const fine = slicer.run(() => 42);
    await expect(failing).rejects.toThrow('store read failed');
    await expect(fine).resolves.toBe(42);
  });

  it('keeps going over many turns without growing its queue', async () => {
    const { task, slicer } = fakeClock(8);
    // a steady stream: each task queues the next one, 5000 in all
    let left = 5000;
    const chain = async (): Promise<void> => {
      while (left-- > 0) await task('x', 3);
    };
    await Promise.all([chain(), chain(), chain()]);
    expect(slicer.pending).toBe(0);
  });
});
