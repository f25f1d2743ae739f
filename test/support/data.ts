/**
 * Where the shared STIX data sets are: $RELAY_TEST_DATA, else `shared/data` beside this
 * checkout (how the workspace and CI lay it out), else /work/shared/data. Tests that need them
 * fail with this message rather than skip.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function locate(): string {
  const candidates = [
    process.env.RELAY_TEST_DATA,
    fileURLToPath(new URL('../../../shared/data', import.meta.url)),
    '/work/shared/data',
  ].filter((c): c is string => c !== undefined && c !== '');
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(`the shared STIX data sets are missing: looked in ${candidates.join(', ')}; set RELAY_TEST_DATA`);
  }
  return found;
}

export const DATA = locate();

/** Every .json file below `dir`, in a stable (sorted) order. */
export function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return jsonFiles(path);
      return name.endsWith('.json') ? [path] : [];
    });
}
