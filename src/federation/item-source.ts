/**
 * The storage side of reconciliation: a node's set of items (versions and tombstones) ordered by
 * item hash, read by hash range. Ranges are hash prefixes written as lowercase hex (`""` is every
 * item, `"a3"` the items whose hash starts with 0xa3), because item hashes are uniform: a prefix
 * of d hex digits holds about n/16^d items, so splitting by prefix splits evenly without counting.
 *
 * `MemoryItemSource` holds the items in memory (tests, small sets). A store implements the same
 * interface over an LMDB database keyed by the 32-byte item hash (value: kind, id, version key):
 * - `entries(prefix)` is one ordered range read from `rangeBounds(prefix).start` up to `.end`.
 * - `summarize(prefix)` must not read every item of a big range: keep, in the same write
 *   transaction as each item put or delete, a count and a sum (mod 2^256) per fixed bucket of
 *   the first 16 bits of the hash (65,536 buckets; add or subtract the item's hash). A prefix of
 *   up to four hex digits is then the sum of its buckets (hold the 2.6 MB bucket table in memory,
 *   or also keep sums per 8-bit prefix), and a longer prefix reads its items, about n/65,536 of
 *   them. A no-op round on 1,000,000 items then costs one summary, not a million hashes.
 * Both are synchronous, as lmdb-js reads are. Read one snapshot for a whole session where the
 * store can; if items change between messages the session still ends, and the next finds the
 * rest.
 */
import {
  addHashes,
  HASH_HEX_DIGITS,
  hashValue,
  isHashPrefix,
  ITEM_HASH_BYTES,
  itemHash,
  rangeBounds,
  subtractHashes,
  type HashedItem,
  type ItemSource,
  type RangeSummary,
  type ReconItem,
} from '../store/recon-items.ts';

export { addHashes, HASH_HEX_DIGITS, hashValue, isHashPrefix, rangeBounds, subtractHashes, type ItemSource, type RangeSummary };

/**
 * An immutable set of items, sorted by hash, with prefix sums of the hashes so that any range's
 * summary is two binary searches and a subtraction. Hashes live in one contiguous buffer and the
 * prefix sums per 32-bit limb in doubles (exact below 2^53, so up to 2^21 items): a million items
 * build in well under a second, where a bigint or a Buffer per item would take many.
 */
export class MemoryItemSource implements ItemSource {
  /** limbs[i * 8 + j] = sum of 32-bit limb j of the first i hashes */
  private readonly limbs: Float64Array;

  /** `hashes`: n * 32 bytes in ascending order, without repeats; `items[i]` has hash i */
  private constructor(
    private readonly hashes: Buffer,
    private readonly items: readonly ReconItem[],
  ) {
    if (items.length > MAX_MEMORY_ITEMS) throw new Error(`a MemoryItemSource holds at most ${MAX_MEMORY_ITEMS} items`);
    const limbs = new Float64Array((items.length + 1) * LIMBS);
    for (let i = 0, at = 0; i < items.length; i++) {
      for (let j = 0; j < LIMBS; j++, at++) limbs[at + LIMBS] = (limbs[at] as number) + hashes.readUInt32BE(at * 4);
    }
    this.limbs = limbs;
  }

  static of(items: Iterable<ReconItem>): MemoryItemSource {
    const list = [...items];
    const hashes = Buffer.allocUnsafe(list.length * ITEM_HASH_BYTES);
    list.forEach((item, i) => itemHash(item).copy(hashes, i * ITEM_HASH_BYTES));
    return MemoryItemSource.sorted(hashes, list);
  }

  /** Items with their hashes already computed. */
  static fromHashed(entries: readonly HashedItem[]): MemoryItemSource {
    const hashes = Buffer.allocUnsafe(entries.length * ITEM_HASH_BYTES);
    entries.forEach((e, i) => e.hash.copy(hashes, i * ITEM_HASH_BYTES));
    return MemoryItemSource.sorted(
      hashes,
      entries.map((e) => e.item),
    );
  }

  /** Sorts by hash: a counting sort on the first 16 bits, then the (small) buckets by comparison. */
  private static sorted(hashes: Buffer, items: readonly ReconItem[]): MemoryItemSource {
    const n = items.length;
    const starts = new Uint32Array(BUCKETS + 1);
    for (let i = 0; i < n; i++) (starts[hashes.readUInt16BE(i * ITEM_HASH_BYTES) + 1] as number)++;
    for (let b = 0; b < BUCKETS; b++) starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
    const order = new Uint32Array(n);
    const fill = starts.slice(0, BUCKETS);
    for (let i = 0; i < n; i++) order[(fill[hashes.readUInt16BE(i * ITEM_HASH_BYTES)] as number)++] = i;
    for (let b = 0; b < BUCKETS; b++) {
      const from = starts[b] as number;
      const to = starts[b + 1] as number;
      if (to - from > 1) {
        const bucket = Array.from(order.subarray(from, to)).sort((x, y) => compareAt(hashes, x, hashes, y));
        order.set(bucket, from);
      }
    }
    const sortedHashes = Buffer.allocUnsafe(n * ITEM_HASH_BYTES);
    const sortedItems = new Array<ReconItem>(n);
    for (let i = 0; i < n; i++) {
      const k = order[i] as number;
      hashes.copy(sortedHashes, i * ITEM_HASH_BYTES, k * ITEM_HASH_BYTES, (k + 1) * ITEM_HASH_BYTES);
      sortedItems[i] = items[k] as ReconItem;
      if (i > 0 && compareAt(sortedHashes, i - 1, sortedHashes, i) === 0) {
        const item = items[k] as ReconItem;
        throw new Error(`item listed twice: ${item.kind} ${item.id} ${item.version}`);
      }
    }
    return new MemoryItemSource(sortedHashes, sortedItems);
  }

  /** The items for which `keep` holds, as a new source (no re-hashing, no re-sorting). */
  filter(keep: (item: ReconItem) => boolean): MemoryItemSource {
    const hashes = Buffer.allocUnsafe(this.hashes.length);
    const items: ReconItem[] = [];
    this.items.forEach((item, i) => {
      if (!keep(item)) return;
      this.hashes.copy(hashes, items.length * ITEM_HASH_BYTES, i * ITEM_HASH_BYTES, (i + 1) * ITEM_HASH_BYTES);
      items.push(item);
    });
    return new MemoryItemSource(hashes.subarray(0, items.length * ITEM_HASH_BYTES), items);
  }

  get size(): number {
    return this.items.length;
  }

  summarize(prefix: string): RangeSummary {
    const [from, to] = this.indexes(prefix);
    let sum = 0n;
    for (let j = 0; j < LIMBS; j++) {
      const limb = (this.limbs[to * LIMBS + j] as number) - (this.limbs[from * LIMBS + j] as number);
      sum += BigInt(limb) << BigInt(32 * (LIMBS - 1 - j));
    }
    return { count: to - from, sum: sum % (1n << 256n) };
  }

  *entries(prefix: string): Iterable<HashedItem> {
    const [from, to] = this.indexes(prefix);
    for (let i = from; i < to; i++) {
      yield { hash: this.hashes.subarray(i * ITEM_HASH_BYTES, (i + 1) * ITEM_HASH_BYTES), item: this.items[i] as ReconItem };
    }
  }

  private indexes(prefix: string): [number, number] {
    const { start, end } = rangeBounds(prefix);
    return [this.lowerBound(start), end ? this.lowerBound(end) : this.items.length];
  }

  /** first index whose hash is >= key */
  private lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAt(this.hashes, mid, key, 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const LIMBS = 8;
const BUCKETS = 65_536;
const MAX_MEMORY_ITEMS = 2 ** 21;

/** Byte order of hash i of `a` and hash j of `b` (contiguous 32-byte hashes). */
function compareAt(a: Buffer, i: number, b: Buffer, j: number): number {
  for (let w = 0; w < LIMBS; w++) {
    const d = a.readUInt32BE(i * ITEM_HASH_BYTES + w * 4) - b.readUInt32BE(j * ITEM_HASH_BYTES + w * 4);
    if (d !== 0) return d;
  }
  return 0;
}
