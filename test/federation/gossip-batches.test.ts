/** Cutting stored versions into envelopes: one collection per envelope, item and size limits, oversized versions set apart. */
import { describe, expect, it } from 'vitest';
import type { GossipVersion } from '../../src/federation/envelope.ts';
import { batchVersions, signedSize } from '../../src/federation/gossip-batches.ts';

const version = (collection: string, n: number, bytes = 100): GossipVersion => ({
  collection,
  id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  version: '2024-01-01T00:00:00.000000000Z',
  json: 'x'.repeat(bytes),
});

describe('gossip batches', () => {
  it('keeps collections apart and order within each, at most maxItems per envelope', () => {
    const input = [version('a', 1), version('b', 2), version('a', 3), version('a', 4), version('b', 5)];
    const { batches, tooLarge } = batchVersions(input, { maxItems: 2, maxBytes: 1_000_000 });
    expect(batches.map((b) => b.map((v) => Number(v.id.slice(-3))))).toEqual([[1, 3], [4], [2, 5]]);
    expect(tooLarge).toEqual([]);
  });

  it('cuts by signed size, and sets apart a version no envelope can carry', () => {
    const maxBytes = 10_000;
    const input = [version('a', 1, 3000), version('a', 2, 3000), version('a', 3, 3000), version('a', 4, 20_000)];
    const { batches, tooLarge } = batchVersions(input, { maxItems: 1000, maxBytes });
    expect(tooLarge.map((v) => v.id.slice(-1))).toEqual(['4']);
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    for (const b of batches) expect(signedSize(Buffer.byteLength(JSON.stringify({ versions: b })) + 400)).toBeLessThanOrEqual(maxBytes);
  });
});
