/**
 * A look at a store's `data.mdb` before LMDB maps it. LMDB answers a file whose first page is no
 * meta page with MDB_INVALID, but lmdb-js then crashes the process (SIGSEGV) instead of
 * throwing; a node started on a damaged or foreign file must instead say what is wrong.
 *
 * The layout read here is that of the LMDB lmdb-js bundles (dependencies/lmdb, mdb.c): a page
 * header of 24 bytes (page number, txnid, pad, flags at byte 18, P_META = 0x08), then the meta
 * page's `mm_magic` (0xBEEFC0DE) and `mm_version` (2; the prebuilt binary reads no other).
 * test/store/file-check.test.ts checks it against a store lmdb-js writes.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.ts';

const HEADER_BYTES = 32;
/** this LMDB's layout: a 24-byte page header (flags at 18), then the meta page */
const FLAGS_AT = 18;
const MAGIC_AT = 24;
const VERSION_AT = 28;
const DATA_VERSION = 2;
/** LMDB 0.9's layout (data version 1, lmdb-js 2 and older): a 16-byte page header */
const V1_MAGIC_AT = 16;
const V1_VERSION_AT = 20;
const P_META = 0x08;
const MDB_MAGIC = 0xbeefc0de;

/** Throws a StoreError naming the file when `<dir>/data.mdb` exists and is not LMDB data this relay reads. */
export function checkDataFile(dir: string): void {
  const file = join(dir, 'data.mdb');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return; // a new store, or one LMDB cannot open either: its own error names the reason
  }
  const head = Buffer.alloc(HEADER_BYTES);
  let read: number;
  try {
    read = readSync(fd, head, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (read === 0) return; // an empty file: LMDB initializes it
  const restore = 'restore the store from a backup (relay backup), or move the file away to start an empty store';
  if (read === HEADER_BYTES && head.readUInt32LE(V1_MAGIC_AT) === MDB_MAGIC && (head.readUInt32LE(V1_VERSION_AT) & 0xffff) === 1) {
    throw new StoreError(
      `${file} is LMDB data version 1 (LMDB 0.9, lmdb-js 2 and older); this relay reads version ${DATA_VERSION}: ${restore}`,
    );
  }
  if (read < HEADER_BYTES || (head.readUInt16LE(FLAGS_AT) & P_META) === 0 || head.readUInt32LE(MAGIC_AT) !== MDB_MAGIC) {
    throw new StoreError(`${file} is not an LMDB data file (its first page is not an LMDB meta page): ${restore}`);
  }
  const version = head.readUInt32LE(VERSION_AT) & 0xffff;
  if (version !== DATA_VERSION) {
    throw new StoreError(`${file} is LMDB data version ${version}; this relay reads version ${DATA_VERSION}: ${restore}`);
  }
}
