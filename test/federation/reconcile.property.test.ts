/**
 * Reconciliation against the set difference, on random pairs of sets over a shared universe where
 * each object version is absent, present or deleted (tombstone) on each side, with random
 * session settings (frame limit, sum and list thresholds, salt): each side finds exactly its
 * items the other lacks, every message fits the frame, and after each side applies what the
 * other sent (a tombstone beating its version) both hold the same set, which a second session
 * confirms in one round.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeIncoming, type LocalState, type ReconItem } from '../../src/federation/items.ts';
import { MemoryItemSource } from '../../src/federation/item-source.ts';
import { expectExactDifference, reconcilePair, versionItem } from './reconcile-support.ts';

type Holding = 'absent' | 'version' | 'tombstone';
const holding = fc.constantFrom<Holding>('absent', 'version', 'tombstone');

const scenario = fc.record({
  sides: fc.array(fc.tuple(holding, holding), { maxLength: 700 }),
  frameLimit: fc.integer({ min: 4096, max: 20_000 }),
  sumLimit: fc.integer({ min: 2, max: 64 }),
  listLimit: fc.integer({ min: 2, max: 32 }),
  salt: fc.uint8Array({ minLength: 16, maxLength: 16 }),
});

function itemsOf(sides: ReadonlyArray<readonly [Holding, Holding]>, side: 0 | 1): ReconItem[] {
  return sides.flatMap((pair, n) => {
    const held = pair[side];
    return held === 'absent' ? [] : [{ ...versionItem(n), kind: held }];
  });
}

/** A node's view: one state per (id, version). */
function stateOf(items: readonly ReconItem[]): Map<string, LocalState> {
  return new Map(items.map((i) => [`${i.id} ${i.version}`, i.kind]));
}

function applyIncoming(state: Map<string, LocalState>, incoming: readonly ReconItem[]): void {
  for (const item of incoming) {
    const key = `${item.id} ${item.version}`;
    const action = mergeIncoming(state.get(key) ?? 'absent', item.kind);
    if (action === 'store') state.set(key, 'version');
    if (action === 'delete' || action === 'record-tombstone') state.set(key, 'tombstone');
  }
}

function itemsFromState(state: Map<string, LocalState>): ReconItem[] {
  return [...state].flatMap(([key, kind]) => {
    const [id, version] = key.split(' ') as [string, string];
    return kind === 'absent' ? [] : [{ kind, id, version }];
  });
}

describe('reconciliation on random pairs of sets', () => {
  it('each side finds exactly its items the other lacks, within the frame limit', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sides, frameLimit, sumLimit, listLimit, salt }) => {
        const a = itemsOf(sides, 0);
        const b = itemsOf(sides, 1);
        const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b), {
          frameLimit,
          sumLimit,
          listLimit,
          salt: Buffer.from(salt),
        });
        expectExactDifference(a, b, result);
        expect(Math.max(...result.messageSizes)).toBeLessThanOrEqual(frameLimit);
      }),
      { numRuns: 150 },
    );
  });

  it('after exchanging what each found, both sides hold the same set, deletions included, and agree in one round', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ sides, frameLimit, sumLimit, listLimit }) => {
        const a = itemsOf(sides, 0);
        const b = itemsOf(sides, 1);
        const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b), { frameLimit, sumLimit, listLimit });
        const stateA = stateOf(a);
        const stateB = stateOf(b);
        applyIncoming(stateA, result.responderFound);
        applyIncoming(stateB, result.initiatorFound);

        // Expected: a tombstone wherever either side had one, else a version wherever either had one.
        const expected = new Map<string, LocalState>();
        sides.forEach(([x, y], n) => {
          const { id, version } = versionItem(n);
          if (x === 'tombstone' || y === 'tombstone') expected.set(`${id} ${version}`, 'tombstone');
          else if (x === 'version' || y === 'version') expected.set(`${id} ${version}`, 'version');
        });
        expect(stateA).toEqual(expected);
        expect(stateB).toEqual(expected);

        const again = await reconcilePair(MemoryItemSource.of(itemsFromState(stateA)), MemoryItemSource.of(itemsFromState(stateB)));
        expect(again.stats.rounds).toBe(1);
        expect(again.initiatorFound).toEqual([]);
        expect(again.responderFound).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
