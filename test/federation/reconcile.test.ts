/**
 * Range-based set reconciliation between two in-memory sources, through the encoded messages:
 * each side learns exactly its items the other lacks; identical sets agree in one small round;
 * 1,000 differences among 1,000,000 items cost a few rounds and a bounded number of bytes per
 * difference; no message exceeds the frame limit; malformed messages are refused with a reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { itemHash, mergeIncoming, type ReconItem } from '../../src/federation/items.ts';
import { addHashes, hashValue, MemoryItemSource, rangeBounds, subtractHashes } from '../../src/federation/item-source.ts';
import {
  decodeMessage,
  encodeMessage,
  ReconcileError,
  ReconcileSession,
  reconcileAsInitiator,
  type ReconcileMessage,
} from '../../src/federation/reconcile.ts';
import { prng } from '../support/random.ts';
import { expectExactDifference, itemKey, reconcilePair, tombstoneOf, versionItem } from './reconcile-support.ts';

const range = (from: number, to: number): ReconItem[] => Array.from({ length: to - from }, (_, i) => versionItem(from + i));

describe('MemoryItemSource', () => {
  const items = range(0, 5000);
  const source = MemoryItemSource.of(items);

  it('summarizes a prefix as the count and the sum mod 2^256 of the hashes starting with it', () => {
    for (const prefix of ['', '0', 'a', 'f', '3c', 'ff', '7a1', '0000']) {
      const inRange = items.map(itemHash).filter((h) => h.toString('hex').startsWith(prefix));
      const sum = inRange.reduce((s, h) => addHashes(s, hashValue(h)), 0n);
      expect(source.summarize(prefix)).toEqual({ count: inRange.length, sum });
    }
  });

  it('keeps a sum a store can maintain item by item: adding and then subtracting a hash restores it', () => {
    const whole = source.summarize('').sum;
    const extra = hashValue(itemHash(versionItem(99_999)));
    expect(subtractHashes(addHashes(whole, extra), extra)).toBe(whole);
    const withExtra = MemoryItemSource.of([...items, versionItem(99_999)]);
    expect(withExtra.summarize('').sum).toBe(addHashes(whole, extra));
    expect(subtractHashes(0n, 1n)).toBe((1n << 256n) - 1n);
  });

  it('lists a prefix in ascending hash order, exactly the items whose hash starts with it', () => {
    const listed = [...source.entries('b')];
    expect(listed.length).toBe(items.filter((i) => itemHash(i).toString('hex').startsWith('b')).length);
    for (let i = 1; i < listed.length; i++) expect(Buffer.compare(listed[i - 1]!.hash, listed[i]!.hash)).toBeLessThan(0);
    for (const { hash, item } of listed) expect(hash.equals(itemHash(item))).toBe(true);
  });

  it('refuses an item listed twice', () => {
    expect(() => MemoryItemSource.of([versionItem(1), versionItem(2), versionItem(1)])).toThrow(/listed twice/);
  });

  it('gives each prefix the key range a store reads', () => {
    expect(rangeBounds('')).toEqual({ start: Buffer.alloc(32), end: undefined });
    expect(rangeBounds('ff').end).toBeUndefined();
    expect(rangeBounds('a3f').start.toString('hex')).toBe('a3f'.padEnd(64, '0'));
    expect(rangeBounds('a3f').end?.toString('hex')).toBe('a40'.padEnd(64, '0'));
    expect(rangeBounds('19').end?.toString('hex')).toBe('1a'.padEnd(64, '0'));
    expect(() => rangeBounds('A3')).toThrow(/hash prefix/);
  });
});

describe('a tombstone beats its version', () => {
  it('in either order, and re-delivery changes nothing', () => {
    expect(mergeIncoming('absent', 'version')).toBe('store');
    expect(mergeIncoming('version', 'version')).toBe('ignore');
    expect(mergeIncoming('tombstone', 'version')).toBe('ignore');
    expect(mergeIncoming('version', 'tombstone')).toBe('delete');
    expect(mergeIncoming('absent', 'tombstone')).toBe('record-tombstone');
    expect(mergeIncoming('tombstone', 'tombstone')).toBe('ignore');
  });

  it('hashes a version and its tombstone apart, so reconciliation sees both', async () => {
    const version = versionItem(7);
    const a = [...range(0, 300)];
    const b = [...range(0, 300).filter((i) => i.id !== version.id), tombstoneOf(version)];
    const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b));
    expectExactDifference(a, b, result);
    expect(result.initiatorFound).toEqual([version]);
    expect(result.responderFound).toEqual([tombstoneOf(version)]);
  });
});

describe('reconciling two sets', () => {
  it('agrees on identical sets in one round', async () => {
    const items = range(0, 2000);
    const result = await reconcilePair(MemoryItemSource.of(items), MemoryItemSource.of([...items].reverse()));
    expect(result.stats.rounds).toBe(1);
    expect(result.initiatorFound).toEqual([]);
    expect(result.responderFound).toEqual([]);
  });

  it('hands every item to the other side when one side is empty, either way, in at most two rounds', async () => {
    const items = range(0, 3000);
    for (const [a, b] of [
      [items, []],
      [[], items],
    ] as const) {
      const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b));
      expectExactDifference(a, b, result);
      expect(result.stats.rounds).toBeLessThanOrEqual(2);
    }
  });

  it('ends at once when both are empty', async () => {
    const result = await reconcilePair(MemoryItemSource.of([]), MemoryItemSource.of([]));
    expect(result.stats.rounds).toBe(1);
    expect(result.initiatorFound).toEqual([]);
  });

  it('finds exactly the difference of overlapping sets', async () => {
    const a = range(0, 6000);
    const b = range(4500, 9000);
    const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b));
    expectExactDifference(a, b, result);
  });

  it('finds exactly the difference of disjoint sets, over many bounded messages', async () => {
    const a = range(0, 20_000);
    const b = range(20_000, 40_000);
    const result = await reconcilePair(MemoryItemSource.of(a), MemoryItemSource.of(b), { frameLimit: 16_384 });
    expectExactDifference(a, b, result);
    expect(Math.max(...result.messageSizes)).toBeLessThanOrEqual(16_384);
    expect(result.stats.rounds).toBeGreaterThan(1);
  });

  it('converges on 100,000 items with 6,000 scattered differences, every message within a 4 KiB frame', async () => {
    const random = prng(12);
    const all = MemoryItemSource.of(range(0, 100_000));
    const onlyA = new Set<string>();
    const onlyB = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const r = random();
      if (r < 0.03) onlyA.add(versionItem(i).id);
      else if (r < 0.06) onlyB.add(versionItem(i).id);
    }
    const a = all.filter((item) => !onlyB.has(item.id));
    const b = all.filter((item) => !onlyA.has(item.id));
    const result = await reconcilePair(a, b, { frameLimit: 4096 });
    expectExactDifference(
      [...a.entries('')].map((e) => e.item),
      [...b.entries('')].map((e) => e.item),
      result,
    );
    expect(Math.max(...result.messageSizes)).toBeLessThanOrEqual(4096);
    console.log(
      `100k/6k differences, 4 KiB frames: ${result.stats.rounds} rounds, ${result.stats.bytesSent + result.stats.bytesReceived} bytes`,
    );
  });

  it('uses a fresh salt per session: the same sets give different fingerprints', () => {
    const source = MemoryItemSource.of(range(0, 100));
    const first = new ReconcileSession(source).open();
    const second = new ReconcileSession(source).open();
    expect(first.salt).not.toBe(second.salt);
    expect(first.e[0]?.[2]).not.toBe(second.e[0]?.[2]);
  });
});

describe('1,000,000 items', () => {
  let base: MemoryItemSource;
  let items: ReconItem[];

  beforeAll(() => {
    items = range(0, 1_000_000);
    base = MemoryItemSource.of(items);
  });

  it('identical sets reconcile in at most 3 round trips and 16 KB (federation.noop_rounds / noop_bytes)', async () => {
    const result = await reconcilePair(
      base,
      base.filter(() => true),
    );
    const bytes = result.stats.bytesSent + result.stats.bytesReceived;
    console.log(`noop on 1,000,000 items: ${result.stats.rounds} round(s), ${bytes} bytes`);
    expect(result.stats.rounds).toBeLessThanOrEqual(3);
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    expect(result.initiatorFound).toEqual([]);
    expect(result.responderFound).toEqual([]);
  });

  it('1,000 differences take at most 8 rounds and 200 bytes per difference (federation.diff1k_rounds / bytes_per_item)', async () => {
    const random = prng(1000);
    const picked = new Set<number>();
    while (picked.size < 1000) picked.add(Math.floor(random() * items.length));
    const order = [...picked];
    const missingAtA = new Set(order.slice(0, 500).map((i) => items[i]!));
    const missingAtB = new Set(order.slice(500).map((i) => items[i]!));
    const a = base.filter((item) => !missingAtA.has(item));
    const b = base.filter((item) => !missingAtB.has(item));
    const result = await reconcilePair(a, b);
    const bytes = result.stats.bytesSent + result.stats.bytesReceived;
    console.log(
      `1,000 differences in 1,000,000 items: ${result.stats.rounds} rounds, ${bytes} bytes, ${(bytes / 1000).toFixed(1)} bytes per difference, largest message ${result.stats.largestMessage}`,
    );
    expect(result.initiatorFound.map(itemKey).sort()).toEqual([...missingAtB].map(itemKey).sort());
    expect(result.responderFound.map(itemKey).sort()).toEqual([...missingAtA].map(itemKey).sort());
    expect(result.stats.rounds).toBeLessThanOrEqual(8);
    expect(bytes / 1000).toBeLessThanOrEqual(200);
    expect(result.stats.largestMessage).toBeLessThanOrEqual(65_536);
  });
});

describe('messages', () => {
  const ok: ReconcileMessage = {
    v: 1,
    salt: Buffer.alloc(16).toString('base64url'),
    e: [['f', '', Buffer.alloc(8).toString('base64url')]],
  };

  it('round-trip through their encoding', () => {
    expect(decodeMessage(encodeMessage(ok))).toEqual(ok);
  });

  it.each([
    ['oversized', 'x'.repeat(70_000), /exceeds the frame limit/],
    ['not JSON', '{"v":1,', /not JSON/],
    ['another protocol version', '{"v":2,"e":[]}', /unsupported reconciliation protocol version 2/],
    ['an unknown field', '{"v":1,"e":[],"x":1}', /malformed/],
    ['an upper-case prefix', '{"v":1,"e":[["f","A","AAAAAAAAAAA"]]}', /malformed .*hash prefix/],
    ['a short fingerprint', '{"v":1,"e":[["f","","AAAA"]]}', /malformed .*8 bytes/],
    ['a split of 5 bits', `{"v":1,"e":[["p","",5,""]]}`, /malformed/],
    [
      'a split past the hash length',
      `{"v":1,"e":[["p","${'0'.repeat(64)}",4,"${Buffer.alloc(128).toString('base64url')}"]]}`,
      /beyond the hash length/,
    ],
    [
      'a split with too few fingerprints',
      `{"v":1,"e":[["p","",4,"${Buffer.alloc(64).toString('base64url')}"]]}`,
      /one fingerprint per sub-range/,
    ],
    ['an id list of 300 ids', `{"v":1,"e":[["i","",  "${Buffer.alloc(2400).toString('base64url')}"]]}`, /at most 256 ids/],
    ['a negative count', '{"v":1,"e":[["s","",-1,"AAAAAAAAAAA"]]}', /malformed/],
  ])('refuse %s', (_, text, reason) => {
    expect(() => decodeMessage(text)).toThrow(ReconcileError);
    expect(() => decodeMessage(text)).toThrow(reason);
  });

  it('a responder refuses a first message without a salt', () => {
    const session = new ReconcileSession(MemoryItemSource.of([]));
    expect(() => session.answer({ v: 1, e: [] })).toThrow(/carries no salt/);
  });

  it('an initiator gives up on a peer that never finishes', async () => {
    const session = new ReconcileSession(MemoryItemSource.of(range(0, 10)));
    await expect(reconcileAsInitiator(session, async () => '{"v":1,"e":[],"more":true}', { maxRounds: 25 })).rejects.toThrow(
      /did not finish in 25 rounds/,
    );
  });

  it('refuses settings that could not keep every answer within a frame', () => {
    const source = MemoryItemSource.of([]);
    expect(() => new ReconcileSession(source, { frameLimit: 1024 })).toThrow(/at least 4096/);
    expect(() => new ReconcileSession(source, { listLimit: 1000 })).toThrow(/from 2 to 256/);
  });
});
