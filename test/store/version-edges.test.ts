import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { Store, type PreparedVersion, type Provenance } from '../../src/store/index.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const FILE: Provenance = { source: 'import', detail: 'edges' };
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function openStore(): Store {
  const t = tempDir('relay-edges-');
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(t.cleanup, () => store.close());
  return store;
}

const ID = (n: number) => `malware--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const when = (day: number) => `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;

function version(id: string, day: number): PreparedVersion {
  const modified = when(day);
  return {
    id,
    type: 'malware',
    version: modified,
    versionKey: stixTimestampKey(modified) as string,
    specVersion: '2.1',
    json: JSON.stringify({ type: 'malware', id, modified }),
  };
}

/** The flags the index reports, per object: [version day of FIRST, version day of LAST]. */
function flags(store: Store, id: string) {
  const versions = store.versionsOf(C, id);
  return {
    first: versions.filter((v) => v.isFirst).map((v) => v.version),
    last: versions.filter((v) => v.isLast).map((v) => v.version),
  };
}

describe('first/last version flags in the collection index', () => {
  it('a newer version takes LAST from the previous newest', () => {
    const store = openStore();
    store.commit(C, [version(ID(1), 5)], FILE);
    store.commit(C, [version(ID(1), 9)], FILE);
    expect(flags(store, ID(1))).toEqual({ first: [when(5)], last: [when(9)] });
  });

  it('an older version arriving late takes FIRST and leaves LAST alone', () => {
    const store = openStore();
    store.commit(C, [version(ID(1), 9), version(ID(1), 7)], FILE);
    store.commit(C, [version(ID(1), 3)], FILE);
    expect(flags(store, ID(1))).toEqual({ first: [when(3)], last: [when(9)] });
  });

  it('deleting the newest version hands LAST to the one before it', () => {
    const store = openStore();
    store.commit(C, [version(ID(1), 1), version(ID(1), 2), version(ID(1), 3)], FILE);
    const newest = store.versionsOf(C, ID(1)).filter((v) => v.isLast);
    store.deleteVersions(C, newest);
    expect(flags(store, ID(1))).toEqual({ first: [when(1)], last: [when(2)] });
    expect(store.check().ok).toBe(true);
  });

  it('flags always mark exactly the oldest and newest held version (random inserts and deletes)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), id: fc.integer({ min: 1, max: 4 }), day: fc.integer({ min: 1, max: 28 }) }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 4 }), day: fc.integer({ min: 1, max: 28 }) }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), (batches) => {
        const store = openStore();
        const model = new Map<string, Set<number>>();
        for (const batch of batches) {
          const adds = batch.filter((o) => o.kind === 'add');
          store.commit(
            C,
            adds.map((o) => version(ID(o.id), o.day)),
            FILE,
          );
          for (const o of adds) model.set(ID(o.id), (model.get(ID(o.id)) ?? new Set()).add(o.day));
          for (const o of batch.filter((x) => x.kind === 'delete')) {
            const victims = store.versionsOf(C, ID(o.id)).filter((v) => v.version === when(o.day));
            store.deleteVersions(C, victims);
            model.get(ID(o.id))?.delete(o.day);
          }
        }
        for (const [id, days] of model) {
          const sorted = [...days].sort((a, b) => a - b);
          const expected =
            sorted.length === 0
              ? { first: [], last: [] }
              : { first: [when(sorted[0] as number)], last: [when(sorted[sorted.length - 1] as number)] };
          expect(flags(store, id)).toEqual(expected);
        }
        expect(store.check().problems).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
