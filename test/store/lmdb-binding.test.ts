import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.ts';

// npm here runs no install scripts, so lmdb must work from the prebuilt binary that ships in
// its platform package (@lmdb/lmdb-<platform>-<arch>), never from a local node-gyp build.
describe('the lmdb native binding', () => {
  const require = createRequire(import.meta.url);
  // lmdb's exports map hides package.json: walk up from its entry point to the package folder.
  let lmdbDir = dirname(require.resolve('lmdb'));
  for (let up = 0; up < 4 && !existsSync(join(lmdbDir, 'package.json')); up++) lmdbDir = dirname(lmdbDir);

  it('comes from the prebuilt platform package installed by npm ci', () => {
    const platformPackage = `@lmdb/lmdb-${process.platform}-${process.arch}`;
    const prebuilt = dirname(require.resolve(`${platformPackage}/package.json`, { paths: [lmdbDir] }));
    expect(existsSync(prebuilt)).toBe(true);
    expect(existsSync(join(lmdbDir, 'build', 'Release'))).toBe(false);
  });

  it('opens a store, writes and reads back through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-lmdb-'));
    try {
      const store = Store.open(join(dir, 'store'));
      const secret = store.resources.nodeSecret();
      await store.close();
      const again = Store.open(join(dir, 'store'));
      expect(again.resources.nodeSecret().equals(secret)).toBe(true);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
