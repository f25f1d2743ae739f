/**
 * The house rules CI enforces (.ci/run: prettier --check, eslint, tsc), checked against the
 * project's own ESLint and Prettier configuration: a forbidden import in each layer is a lint
 * error, a barrel with `export *` is one, and unformatted code fails the format check.
 */
import { ESLint } from 'eslint';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.ts';

const eslint = new ESLint({ cwd: REPO });

/** Rule ids ESLint reports for `code` as if it were the file at `path` (relative to the repository). */
async function violations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${REPO}/${path}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('house rules (docs/ARCHITECTURE.md: who may import whom)', () => {
  it('policy/ and stix/ are pure: no I/O module, no store', async () => {
    expect(await violations('src/policy/scratch.ts', "import { open } from 'lmdb';\nexport const x = open;\n")).toEqual([
      expect.stringContaining('stix/ and policy/ are pure'),
    ]);
    expect(await violations('src/stix/scratch.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toEqual([
      expect.stringContaining('stix/ and policy/ are pure'),
    ]);
    expect(await violations('src/policy/scratch.ts', "import { Store } from '../store/index.ts';\nexport const x = Store;\n")).toEqual([
      expect.stringContaining('policy/ is pure'),
    ]);
    // configuration types are allowed in policy/
    expect(
      await violations('src/policy/scratch.ts', "import type { RelayConfig } from '../config/index.ts';\nexport type X = RelayConfig;\n"),
    ).toEqual([]);
  });

  it('only store/ opens LMDB, and only cli/ imports the composition root', async () => {
    expect(await violations('src/taxii/server/scratch.ts', "import { open } from 'lmdb';\nexport const x = open;\n")).toEqual([
      expect.stringContaining('Only store/ opens LMDB'),
    ]);
    expect(await violations('src/upstream/scratch.ts', "import { startNode } from '../node.ts';\nexport const x = startNode;\n")).toEqual([
      expect.stringContaining('Only cli/ may import the composition root'),
    ]);
    expect(await violations('src/cli/scratch.ts', "import { startNode } from '../node.ts';\nexport const x = startNode;\n")).toEqual([]);
  });

  it('no layer imports the composition root, whatever other rules it has', async () => {
    for (const layer of ['policy', 'stix', 'store']) {
      expect(
        await violations(`src/${layer}/scratch.ts`, "import { startNode } from '../node.ts';\nexport const x = startNode;\n"),
        layer,
      ).toEqual([expect.stringContaining('Only cli/ may import the composition root')]);
    }
  });

  it('store/ does not decide: policy/ is used above it (derive/)', async () => {
    for (const file of ['src/store/store.ts', 'src/store/scratch.ts']) {
      expect(await violations(file, "import { decide } from '../policy/index.ts';\nexport const x = decide;\n"), file).toEqual([
        expect.stringContaining('store/ holds attributes; it does not decide'),
      ]);
    }
    expect(await violations('src/derive/scratch.ts', "import { decide } from '../policy/index.ts';\nexport const x = decide;\n")).toEqual(
      [],
    );
    expect(
      await violations('src/derive/scratch.ts', "import { Ingestor } from '../ingest/index.ts';\nexport const x = Ingestor;\n"),
    ).toEqual([expect.stringContaining('derive/ imports no module above it')]);
  });

  it('store/ imports nothing above it', async () => {
    expect(
      await violations('src/store/scratch.ts', "import { Ingestor } from '../ingest/index.ts';\nexport const x = Ingestor;\n"),
    ).toEqual([expect.stringContaining('store/ imports no module above it')]);
  });

  it('barrels list their exports by name', async () => {
    expect(await violations('src/ingest/index.ts', "export * from './ingest.ts';\n")).toEqual([expect.stringContaining('no export *')]);
  });

  it('unformatted code fails the format check', async () => {
    const options = { ...(await prettier.resolveConfig(`${REPO}/src/x.ts`)), filepath: `${REPO}/src/x.ts` };
    expect(await prettier.check('export const x = {a:1}\n', options)).toBe(false);
    expect(await prettier.check('export const x = { a: 1 };\n', options)).toBe(true);
  });
});
