/**
 * The benchmark's reconciliation over signed messages (bench/federation-recon.ts): it must find
 * exactly the differences, count the bytes anti-entropy counts, and compute bytes per difference
 * as the README defines it. Real Ed25519 keys in a temp directory; no timings asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesPerDifference, reconcileSigned, scatteredIndexes, versionItems, type SignedSide } from '../../bench/federation-recon.ts';
import { initFederationKey, loadFederationKey } from '../../src/federation/identity.ts';
import { MemoryItemSource } from '../../src/federation/item-source.ts';

const COLLECTION = '0e0e0e0e-0000-4000-8000-00000000fed1';
let dir: string;
let a: SignedSide;
let b: SignedSide;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-bench-recon-'));
  const key = async (name: string) => loadFederationKey((await initFederationKey(join(dir, name, 'federation.key'))).path);
  a = { nodeId: 'relay-a', identity: await key('a') };
  b = { nodeId: 'relay-b', identity: await key('b') };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('signed reconciliation for the benchmark', () => {
  it('equal sets take one round trip and one fetch, and find nothing', async () => {
    const full = MemoryItemSource.of(versionItems(5000, 7));
    const noop = await reconcileSigned({ side: b, source: full }, { side: a, source: full }, COLLECTION);
    expect(noop).toMatchObject({ rounds: 1, fetches: 1, initiatorFound: 0, responderFound: 0 });
    // two compact JWS, each larger than the reconciliation message it carries
    expect(noop.bytes).toBeGreaterThan(noop.reconBytes);
    expect(noop.largestMessage).toBeLessThan(noop.bytes);
  });

  it('finds exactly the scattered items the initiator lacks; bytes per difference take off the no-op', async () => {
    const items = versionItems(20_000, 11);
    const full = MemoryItemSource.of(items);
    const drop = scatteredIndexes(items.length, 1000, 3);
    expect(drop.size).toBe(1000);
    let i = 0;
    const lacking = full.filter(() => !drop.has(i++));
    expect(lacking.size).toBe(19_000);
    const noop = await reconcileSigned({ side: b, source: full }, { side: a, source: full }, COLLECTION);
    const diff = await reconcileSigned({ side: b, source: lacking }, { side: a, source: full }, COLLECTION);
    expect(diff).toMatchObject({ initiatorFound: 0, responderFound: 1000, fetches: 2 });
    expect(diff.rounds).toBeGreaterThan(1);
    expect(bytesPerDifference(diff.bytes, noop.bytes, 1000)).toBe((diff.bytes - noop.bytes) / 1000);
  });

  it('bytes per difference has no value without differences', () => {
    expect(bytesPerDifference(1110, 1110, 0)).toBeNull();
    expect(bytesPerDifference(201_110, 1110, 1000)).toBe(200);
  });

  it('the same seed gives the same items and the same choice of differences', () => {
    expect(versionItems(50, 5)).toEqual(versionItems(50, 5));
    expect([...scatteredIndexes(1000, 10, 9)]).toEqual([...scatteredIndexes(1000, 10, 9)]);
    expect(() => scatteredIndexes(5, 6, 1)).toThrow(/cannot choose/);
  });
});
