/**
 * What federated nodes compare and exchange: object versions and tombstones, each named by
 * `(id, versionKey)`. A tombstone records that an operator deleted that version; it takes part in
 * gossip and reconciliation like a version, so a deleted version is never brought back by a peer
 * that still holds it.
 *
 * Every item has a 32-byte hash, SHA-256 of its kind, id and version key. The hash is the order
 * key reconciliation ranges are cut from, and its input format is part of the wire protocol:
 * every node must compute it the same way (`RECONCILE_PROTOCOL` in reconcile.ts names the
 * version of both).
 */
import { hash } from 'node:crypto';

export type ItemKind = 'version' | 'tombstone';

export interface ReconItem {
  readonly kind: ItemKind;
  /** STIX id, `type--uuid` */
  readonly id: string;
  /** the version key (`stix/time.ts`: the version's timestamp normalized to nine fractional digits) */
  readonly version: string;
}

/** An item with its hash, as an `ItemSource` yields it. */
export interface HashedItem {
  readonly hash: Buffer;
  readonly item: ReconItem;
}

export const ITEM_HASH_BYTES = 32;

/**
 * SHA-256 of `v` or `t`, the id and the version key, separated by newlines (neither a STIX id nor
 * a version key can contain one). A version and its tombstone have unrelated hashes, so they are
 * different items: a node holding the tombstone and a node holding the version differ in both,
 * and each learns the item the other holds.
 */
export function itemHash(item: ReconItem): Buffer {
  return hash('sha256', `${item.kind === 'version' ? 'v' : 't'}\n${item.id}\n${item.version}`, 'buffer');
}

export function hashed(item: ReconItem): HashedItem {
  return { hash: itemHash(item), item };
}

/** What a node holds for one `(id, version)`. */
export type LocalState = 'absent' | 'version' | 'tombstone';

/**
 * What a node does with an item a peer sent (by gossip or after reconciliation).
 * - `store`: keep the version (a new version; it gets a `date_added` once, here).
 * - `delete`: remove the version and keep the tombstone in its place.
 * - `record-tombstone`: keep the tombstone although the version was never here, so a copy of the
 *   version arriving later (from a peer that has not heard of the delete) is refused.
 * - `ignore`: nothing changes: a re-delivered version keeps its one `date_added`.
 *
 * A tombstone beats its version, always and in either order: this is what makes deletes
 * convergent (the union of everything the nodes hold, with tombstones removing their versions, is
 * the same whichever node heard what first). A delete is final for that version; a newer version
 * of the same object is a different item and is stored normally.
 */
export type IncomingAction = 'store' | 'delete' | 'record-tombstone' | 'ignore';

export function mergeIncoming(local: LocalState, incoming: ItemKind): IncomingAction {
  if (incoming === 'tombstone') {
    if (local === 'version') return 'delete';
    if (local === 'absent') return 'record-tombstone';
    return 'ignore';
  }
  return local === 'absent' ? 'store' : 'ignore';
}

// ---- ranges of item hashes (item-source.ts in federation/ reads them; the store keeps them) ----

/** Count of the items in a range and the sum of their hashes (as big-endian integers) mod 2^256. */
export interface RangeSummary {
  readonly count: number;
  readonly sum: bigint;
}

export interface ItemSource {
  /** count and hash sum of the items whose hash (hex) starts with `prefix` */
  summarize(prefix: string): RangeSummary;
  /** those items, ascending by hash */
  entries(prefix: string): Iterable<HashedItem>;
}

export const HASH_HEX_DIGITS = ITEM_HASH_BYTES * 2;
const MOD = 1n << 256n;
const HEX_PREFIX = /^[0-9a-f]{0,64}$/;

export function isHashPrefix(prefix: string): boolean {
  return HEX_PREFIX.test(prefix);
}

/** The hash as an unsigned big-endian integer. */
export function hashValue(hash: Buffer): bigint {
  return (
    (hash.readBigUInt64BE(0) << 192n) | (hash.readBigUInt64BE(8) << 128n) | (hash.readBigUInt64BE(16) << 64n) | hash.readBigUInt64BE(24)
  );
}

/** For a store's bucket sums: an item put adds its hash value, an item removed subtracts it. */
export function addHashes(a: bigint, b: bigint): bigint {
  return (a + b) % MOD;
}

export function subtractHashes(a: bigint, b: bigint): bigint {
  return (((a - b) % MOD) + MOD) % MOD;
}

/**
 * The key range a prefix covers: every 32-byte hash h with start <= h < end (no end: up to the
 * last hash). For a store's ordered range read.
 */
export function rangeBounds(prefix: string): { start: Buffer; end: Buffer | undefined } {
  if (!isHashPrefix(prefix)) throw new Error(`not a hash prefix: "${prefix}"`);
  const start = Buffer.from(prefix.padEnd(HASH_HEX_DIGITS, '0'), 'hex');
  const last = prefix.replace(/f+$/, '');
  if (last.length === 0) return { start, end: undefined };
  const bumped = last.slice(0, -1) + (parseInt(last.slice(-1), 16) + 1).toString(16);
  return { start, end: Buffer.from(bumped.padEnd(HASH_HEX_DIGITS, '0'), 'hex') };
}
