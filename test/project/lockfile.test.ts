import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// `npm ci` must work from a fresh clone with the machine's npm. A lock that carries
// placeholder entries without a version (left by an npm that skipped other platforms'
// optional packages) makes `npm ci` fail with "Invalid Version:" before installing anything.
interface LockedPackage {
  readonly version?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};
const installed = Object.entries(lock.packages).filter(([path]) => path !== '');

/** Where npm resolves `name` required from the package at `from`: nearest node_modules up the tree. */
function resolve(from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

describe('package-lock.json', () => {
  it('is a lockfile v3 with a version and an integrity hash for every installed package', () => {
    expect(lock.lockfileVersion).toBe(3);
    const incomplete = installed.filter(([, p]) => !p.link && (typeof p.version !== 'string' || p.version === '' || !p.integrity));
    expect(incomplete.map(([path]) => path)).toEqual([]);
  });

  it("locks every platform's optional package (prebuilt lmdb and msgpackr binaries for all platforms)", () => {
    const missing: string[] = [];
    for (const [path, p] of installed) {
      for (const name of Object.keys(p.optionalDependencies ?? {})) {
        const at = resolve(path, name);
        if (at === undefined || lock.packages[at]?.version === undefined) missing.push(`${path} -> ${name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(resolve('node_modules/lmdb', '@lmdb/lmdb-linux-x64')).toBeDefined();
    expect(resolve('node_modules/lmdb', '@lmdb/lmdb-darwin-arm64')).toBeDefined();
  });
});
