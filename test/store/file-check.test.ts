/**
 * A damaged or foreign data.mdb is refused with a StoreError naming it, before lmdb-js maps it:
 * lmdb-js crashes the process on such a file (SIGSEGV), so without the check these tests end
 * their worker instead of passing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/errors.ts';
import { checkDataFile } from '../../src/store/file-check.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-file-check-');
afterAll(() => cleanup());

let n = 0;
/** A data directory whose store holds `content` as its data.mdb. */
function dataDirWith(content: Buffer): { dataDir: string; file: string } {
  const dataDir = join(dir, `data-${n++}`);
  mkdirSync(join(dataDir, 'store'), { recursive: true });
  const file = join(dataDir, 'store', 'data.mdb');
  writeFileSync(file, content);
  return { dataDir, file };
}

/** The data.mdb of a store lmdb-js wrote and closed. */
async function writtenByLmdb(): Promise<Buffer> {
  const dataDir = join(dir, `real-${n++}`);
  const store = Store.openInDataDir(dataDir);
  await store.close();
  return readFileSync(join(dataDir, 'store', 'data.mdb'));
}

describe('the store refuses a data.mdb that is not LMDB data', () => {
  it('opens a store lmdb-js wrote, again and again (the layout checked is the bundled LMDB one)', async () => {
    const real = await writtenByLmdb();
    const { dataDir } = dataDirWith(real);
    expect(() => checkDataFile(join(dataDir, 'store'))).not.toThrow();
    for (let i = 0; i < 2; i++) {
      const store = Store.openInDataDir(dataDir);
      expect(store.stats().objectVersions).toBe(0);
      await store.close();
    }
  });

  it.each([
    ['random bytes', () => randomBytes(64 * 1024)],
    ['zeros (blocks lost in a crash)', () => Buffer.alloc(64 * 1024)],
    ['a few bytes', () => Buffer.from('not a store\n')],
  ])('refuses %s, naming the file and what to do', (_, content) => {
    const { dataDir, file } = dataDirWith(content());
    const open = () => Store.openInDataDir(dataDir);
    expect(open).toThrow(StoreError);
    expect(open).toThrow(`${file} is not an LMDB data file`);
    expect(open).toThrow(/restore the store from a backup \(relay backup\)/);
  });

  it('refuses an LMDB file of a data version this relay does not read', async () => {
    const real = await writtenByLmdb();
    real.writeUInt32LE(999, 28); // mm_version of the first meta page
    const { dataDir, file } = dataDirWith(real);
    expect(() => Store.openInDataDir(dataDir)).toThrow(`${file} is LMDB data version 999`);
  });

  it('names LMDB 0.9 data (version 1, a 16-byte page header) for what it is', () => {
    const v1 = Buffer.alloc(4096);
    v1.writeUInt16LE(0x08, 10); // P_META
    v1.writeUInt32LE(0xbeefc0de, 16);
    v1.writeUInt32LE(1, 20);
    const { dataDir, file } = dataDirWith(v1);
    expect(() => Store.openInDataDir(dataDir)).toThrow(`${file} is LMDB data version 1 (LMDB 0.9, lmdb-js 2 and older)`);
  });

  it('takes an empty data.mdb for a new store', async () => {
    const { dataDir } = dataDirWith(Buffer.alloc(0));
    const store = Store.openInDataDir(dataDir);
    expect(store.stats().objectVersions).toBe(0);
    await store.close();
  });

  it('relay check on a damaged store exits 2 with the message, not by a signal', async () => {
    const config = writeTestConfig(join(dir, 'cli'));
    mkdirSync(join(dir, 'cli', 'data', 'store'), { recursive: true });
    writeFileSync(join(dir, 'cli', 'data', 'store', 'data.mdb'), randomBytes(16 * 1024));
    const run = await relay(['check', '--config', config]);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not an LMDB data file');
  });
});
