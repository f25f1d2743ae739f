import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { nowMicros } from '../../src/stix/time.ts';
import { Store, type IndexEntry, type Provenance } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/errors.ts';
import { indicator, prepared, tempDir } from '../support/stix-fixtures.ts';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const FILE: Provenance = { source: 'import', detail: 'test.json' };
const HOUR = 3_600_000_000;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function newStorePath(): string {
  const t = tempDir('relay-store-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'store');
}

function openStore(path: string): Store {
  const store = Store.open(path);
  let closed = false;
  const close = store.close.bind(store);
  store.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  cleanups.push(() => store.close());
  return store;
}

/** Opens the LMDB environment directly, as only a test may: to read or tamper with records. */
async function withRawEnv<T>(path: string, fn: (dbs: RawDbs) => T): Promise<T> {
  const root = open({ path, maxDbs: 64, compression: false });
  try {
    return fn({
      root,
      bodies: root.openDB<string, number>('bodies', { encoding: 'string' }),
      entries: root.openDB<any, (string | number)[]>('index-entries', { sharedStructuresKey: Symbol.for('entry-structures') }),
      counts: root.openDB<number, string>('counts', {}),
      clock: root.openDB<number, string>('clock', {}),
    });
  } finally {
    await root.close();
  }
}
interface RawDbs {
  root: ReturnType<typeof open>;
  bodies: ReturnType<ReturnType<typeof open>['openDB']>;
  entries: ReturnType<ReturnType<typeof open>['openDB']>;
  counts: ReturnType<ReturnType<typeof open>['openDB']>;
  clock: ReturnType<ReturnType<typeof open>['openDB']>;
}

const batchOf = (from: number, to: number, version = 0) =>
  Array.from({ length: to - from }, (_, i) => prepared(indicator(from + i, version)));

function allEntries(store: Store, collection: string): IndexEntry[] {
  return [...store.index.scan({ collection, after: 0, limit: 1e9, accept: () => true, maxScanned: 1e9 }).entries];
}

function expectStrictlyIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i] as number).toBeGreaterThan(values[i - 1] as number);
}

describe('commitBatch and date_added', () => {
  it('assigns strictly increasing date_added across batches and collections', () => {
    const store = openStore(newStorePath());
    const dates: number[] = [];
    for (let b = 0; b < 20; b++) {
      const outcomes = store.commit(b % 2 ? A : B, batchOf(b * 50, b * 50 + 50), FILE);
      expect(outcomes.every((o) => o.kind === 'stored')).toBe(true);
      dates.push(...outcomes.map((o) => o.dateAdded));
    }
    expect(dates).toHaveLength(1000);
    expectStrictlyIncreasing(dates);
    expect(store.index.count(A) + store.index.count(B)).toBe(1000);
    expect(store.check().ok).toBe(true);
  });

  it('re-delivering an identical version is a duplicate and keeps its date_added', () => {
    const store = openStore(newStorePath());
    const first = store.commit(A, batchOf(0, 10), FILE);
    const again = store.commit(A, batchOf(0, 10), { source: 'taxii', detail: 'alice' });
    expect(again.map((o) => o.kind)).toEqual(Array(10).fill('duplicate'));
    expect(again.map((o) => o.dateAdded)).toEqual(first.map((o) => o.dateAdded));
    expect(store.index.count(A)).toBe(10);
    expect(store.index.lastAdded(A)).toBe(first[9]?.dateAdded);
  });

  it('the same version twice in one batch is stored once', () => {
    const store = openStore(newStorePath());
    const v = prepared(indicator(1));
    const [a, b] = store.commit(A, [v, v], FILE);
    expect(a).toEqual({ kind: 'stored', dateAdded: a?.dateAdded });
    expect(b).toEqual({ kind: 'duplicate', dateAdded: a?.dateAdded });
    expect(store.index.count(A)).toBe(1);
  });

  it('a new version of an object gets its own entry; the same version in another collection gets an entry and a body there', () => {
    const store = openStore(newStorePath());
    const v0 = prepared(indicator(7, 0));
    const v1 = prepared(indicator(7, 1));
    store.commit(A, [v0], FILE);
    const [inB] = store.commit(B, [v0], FILE);
    const [next] = store.commit(A, [v1], FILE);
    expect(inB?.kind).toBe('stored');
    expect(next?.kind).toBe('stored');
    expect(store.index.count(A)).toBe(2);
    expect(store.index.count(B)).toBe(1);
    expect(store.stats().objectVersions).toBe(3);
    expect(store.bodyOf(store.versionsOf(B, v0.id)[0]!)).toBe(v0.json);
    expect(store.provenanceOf(A, v0.id, v0.versionKey)).toEqual([{ source: 'import', detail: 'test.json', at: expect.any(Number) }]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('never goes backwards across a reopen when the last assigned value is ahead of the wall clock', async () => {
    const path = newStorePath();
    const s1 = openStore(path);
    s1.commit(A, batchOf(0, 3), FILE);
    await s1.close();
    // A clock record an hour ahead: what a node leaves behind after its wall clock stepped back.
    const future = nowMicros() + HOUR;
    await withRawEnv(path, ({ clock }) => clock.putSync('last', future));

    const s2 = openStore(path);
    const outcomes = s2.commit(A, batchOf(3, 6), FILE);
    expect(outcomes.map((o) => o.dateAdded)).toEqual([future + 1, future + 2, future + 3]);
    await s2.close();

    // Lose the clock record: the index tail alone still keeps the order.
    await withRawEnv(path, ({ clock }) => clock.putSync('last', 0));
    const s3 = openStore(path);
    const [next] = s3.commit(B, batchOf(6, 7), FILE);
    expect(next?.dateAdded).toBe(future + 4);
    expectStrictlyIncreasing(allEntries(s3, A).map((e) => e.dateAdded));
    expect(s3.check().ok).toBe(true);
  });

  it('continues after dates another process assigned while this store was open', async () => {
    const path = newStorePath();
    const store = openStore(path);
    store.commit(A, batchOf(0, 2), FILE);

    // A second process (think `relay import` next to `relay start`) whose clock runs an hour
    // ahead: it stores versions with date_added in the future.
    const future = nowMicros() + HOUR;
    const script = join(path, '..', 'writer.mts');
    writeFileSync(
      script,
      `import { open } from ${JSON.stringify(createRequire(import.meta.url).resolve('lmdb'))};
import { Store } from ${JSON.stringify(resolve('src/store/index.ts'))};
import { indicator, prepared } from ${JSON.stringify(resolve('test/support/stix-fixtures.ts'))};
const raw = open({ path: ${JSON.stringify(path)}, maxDbs: 64, compression: false });
raw.openDB('clock', {}).putSync('last', ${future});
await raw.close();
const s = Store.open(${JSON.stringify(path)});
const out = s.commit(${JSON.stringify(A)}, [prepared(indicator(100)), prepared(indicator(101))], { source: 'import', detail: 'other' });
console.log(JSON.stringify(out.map((o) => o.dateAdded)));
await s.close();
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const theirs = JSON.parse(child.stdout) as number[];
    expect(theirs).toEqual([future + 1, future + 2]);

    const [ours] = store.commit(A, batchOf(2, 3), FILE);
    expect(ours?.dateAdded).toBe(future + 3);
    const dates = allEntries(store, A).map((e) => e.dateAdded);
    expect(dates).toHaveLength(5);
    expectStrictlyIncreasing(dates);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('alsoInTransaction commits with the batch, and a throw rolls the whole batch back', () => {
    const store = openStore(newStorePath());
    store.commit(A, batchOf(0, 5), FILE, { alsoInTransaction: () => store.resources.putStatus('s1', { ok: true }) });
    expect(store.resources.getStatus('s1')).toEqual({ ok: true });
    const before = { count: store.index.count(A), last: store.index.lastAdded(A), stats: store.stats() };

    let seen: readonly unknown[] = [];
    expect(() =>
      store.commit(A, batchOf(5, 10), FILE, {
        alsoInTransaction: (outcomes) => {
          seen = outcomes;
          store.resources.putStatus('s2', { ok: false });
          throw new Error('caller failed');
        },
      }),
    ).toThrow(StoreError);
    expect(seen).toHaveLength(5); // it ran after the versions were written …
    // … and none of them survived
    expect(store.resources.getStatus('s2')).toBeUndefined();
    expect(store.index.count(A)).toBe(before.count);
    expect(store.index.lastAdded(A)).toBe(before.last);
    expect(store.stats()).toEqual(before.stats);
    const v = prepared(indicator(5));
    expect(store.versionsOf(A, v.id)).toEqual([]);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });

    // the store keeps working, and the retried versions are new, not duplicates
    const retry = store.commit(A, batchOf(5, 10), FILE);
    expect(retry.every((o) => o.kind === 'stored')).toBe(true);
    expect(retry[0]?.dateAdded).toBeGreaterThan(before.last as number);
  });

  it('errors carry the LMDB cause', () => {
    const store = openStore(newStorePath());
    try {
      store.commit(A, batchOf(0, 1), FILE, {
        alsoInTransaction: () => {
          throw new Error('inner');
        },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toMatch(/cannot store a batch of 1 versions in/);
      expect(((error as StoreError).cause as Error).message).toBe('inner');
    }
  });

  it('keeps the node secret across reopen', async () => {
    const path = newStorePath();
    const s1 = openStore(path);
    const secret = s1.resources.nodeSecret();
    expect(secret).toHaveLength(32);
    expect(s1.resources.nodeSecret().equals(secret)).toBe(true);
    await s1.close();
    expect(openStore(path).resources.nodeSecret().equals(secret)).toBe(true);
  });
});

describe('scan', () => {
  function setup() {
    const store = openStore(newStorePath());
    // 30 versions in A, interleaved with 10 in B; type alternates between indicator and malware-like
    for (let i = 0; i < 10; i++) {
      store.commit(A, batchOf(i * 3, i * 3 + 3), FILE);
      store.commit(B, batchOf(1000 + i, 1001 + i), FILE);
    }
    const all = allEntries(store, A);
    expect(all).toHaveLength(30);
    return { store, all };
  }
  const every = () => true;

  it('pages through one collection in date_added order with exact more and resumeAfter', () => {
    const { store, all } = setup();
    const pages: IndexEntry[][] = [];
    let after = 0;
    for (let guard = 0; guard < 10; guard++) {
      const page = store.index.scan({ collection: A, after, limit: 7, accept: every, maxScanned: 1000 });
      pages.push([...page.entries]);
      if (!page.more) break;
      expect(page.entries).toHaveLength(7);
      expect(page.resumeAfter).toBe(page.entries.at(-1)?.dateAdded);
      after = page.resumeAfter;
    }
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
    expect(pages.flat()).toEqual(all);
    expect(pages.flat().every((e) => e.collection === A)).toBe(true);
  });

  it('more is false when the page ends exactly at the last entry', () => {
    const { store, all } = setup();
    const page = store.index.scan({ collection: A, after: 0, limit: 30, accept: every, maxScanned: 1000 });
    expect(page.entries).toEqual(all);
    expect(page.more).toBe(false);
    const tail = store.index.scan({ collection: A, after: all[29]?.dateAdded as number, limit: 5, accept: every, maxScanned: 1000 });
    expect(tail.entries).toEqual([]);
    expect(tail.more).toBe(false);
  });

  it('after is exclusive', () => {
    const { store, all } = setup();
    const page = store.index.scan({ collection: A, after: all[4]?.dateAdded as number, limit: 2, accept: every, maxScanned: 1000 });
    expect(page.entries).toEqual(all.slice(5, 7));
    const between = store.index.scan({
      collection: A,
      after: (all[4]?.dateAdded as number) - 1,
      limit: 1,
      accept: every,
      maxScanned: 1000,
    });
    expect(between.entries).toEqual([all[4]]);
  });

  it('skips entries accept refuses, without counting them against the limit', () => {
    const { store, all } = setup();
    const wanted = new Set(all.filter((_, i) => i % 4 === 0).map((e) => e.id));
    const page = store.index.scan({ collection: A, after: 0, limit: 100, accept: (e) => wanted.has(e.id), maxScanned: 1000 });
    expect(page.entries.map((e) => e.id)).toEqual(all.filter((_, i) => i % 4 === 0).map((e) => e.id));
    expect(page.more).toBe(false);
  });

  it('stops at maxScanned with more=true and resumes from the last entry examined', () => {
    const { store, all } = setup();
    const accept = (e: IndexEntry) => e.id === all[25]?.id; // one match, far in
    const first = store.index.scan({ collection: A, after: 0, limit: 10, accept, maxScanned: 10 });
    expect(first.entries).toEqual([]);
    expect(first.more).toBe(true);
    expect(first.resumeAfter).toBe(all[9]?.dateAdded);
    const second = store.index.scan({ collection: A, after: first.resumeAfter, limit: 10, accept, maxScanned: 10 });
    expect(second).toEqual({ entries: [], more: true, resumeAfter: all[19]?.dateAdded });
    const third = store.index.scan({ collection: A, after: second.resumeAfter, limit: 10, accept, maxScanned: 10 });
    expect(third.entries).toEqual([all[25]]);
    expect(third.more).toBe(false);
    expect(third.resumeAfter).toBe(all[29]?.dateAdded);
  });

  it('an empty or unknown collection scans to nothing', () => {
    const { store } = setup();
    expect(store.index.scan({ collection: 'nope', after: 0, limit: 5, accept: every, maxScanned: 10 })).toEqual({
      entries: [],
      more: false,
      resumeAfter: 0,
    });
  });
});

describe('versions', () => {
  it('versionsOf lists versions oldest first by instant; versionBounds gives first and last', () => {
    const store = openStore(newStorePath());
    const base = indicator(42);
    const at = (modified: string) => prepared({ ...base, modified });
    // committed out of order; ".1Z" sorts after ".05Z" as an instant although "1" > "0" either way,
    // and ".1Z" is before ".100001Z" although as strings "Z" > "0"
    store.commit(A, [at('2024-01-01T00:00:00.1Z')], FILE);
    store.commit(A, [at('2024-01-01T00:00:00.05Z'), at('2024-01-01T00:00:00.100001Z')], FILE);
    store.commit(A, [prepared(indicator(43))], FILE);
    const versions = store.versionsOf(A, base.id as string);
    expect(versions.map((v) => v.version)).toEqual(['2024-01-01T00:00:00.05Z', '2024-01-01T00:00:00.1Z', '2024-01-01T00:00:00.100001Z']);
    expect(store.versionBounds(A, base.id as string)).toEqual({
      first: '2024-01-01T00:00:00.050000000Z',
      last: '2024-01-01T00:00:00.100001000Z',
    });
    expect(store.versionBounds(B, base.id as string)).toBeNull();
    expect(store.versionsOf(A, 'indicator--00000000-0000-4000-8000-000000000000')).toEqual([]);
  });
});

describe('deleteVersions', () => {
  it('removes entries, version records and their bodies, and updates the counter', () => {
    const store = openStore(newStorePath());
    store.commit(A, batchOf(0, 5), FILE);
    store.commit(B, batchOf(0, 2), FILE);
    const entries = allEntries(store, A);
    const gone = [entries[1], entries[3]] as IndexEntry[];
    expect(store.deleteVersions(A, gone)).toBe(2);
    expect(store.index.count(A)).toBe(3);
    expect(store.index.count(B)).toBe(2);
    expect(allEntries(store, A)).toEqual([entries[0], entries[2], entries[4]]);
    expect(store.versionsOf(A, gone[0]?.id as string)).toEqual([]);
    expect(store.bodyOf(gone[0] as IndexEntry)).toBeUndefined();
    expect(store.stats().objectVersions).toBe(5);
    // a stale entry (already deleted, or a different date_added) removes nothing
    expect(store.deleteVersions(A, gone)).toBe(0);
    expect(store.deleteVersions(A, [{ ...(entries[0] as IndexEntry), dateAdded: 1 }])).toBe(0);
    expect(store.deleteVersions(A, [])).toBe(0);
    expect(store.index.count(A)).toBe(3);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
    // re-adding a deleted version stores it again with a new date_added
    const [again] = store.commit(A, [prepared(indicator(1))], FILE);
    expect(again?.kind).toBe('stored');
    expect(again?.dateAdded).toBeGreaterThan(entries[4]?.dateAdded as number);
  });
});

describe('check', () => {
  async function healthyStore() {
    const path = newStorePath();
    const store = openStore(path);
    store.commit(A, batchOf(0, 10), FILE);
    store.commit(B, batchOf(5, 8), FILE);
    expect(store.check()).toMatchObject({ ok: true, problems: [], objectVersions: 13 }); // a version in two collections is kept in each
    const entries = allEntries(store, A);
    await store.close();
    return { path, entries };
  }

  async function checkAfter(tamper: (dbs: RawDbs, entries: IndexEntry[]) => void): Promise<string[]> {
    const { path, entries } = await healthyStore();
    await withRawEnv(path, (dbs) => dbs.root.transactionSync(() => tamper(dbs, entries)));
    const report = openStore(path).check();
    expect(report.ok).toBe(false);
    return [...report.problems];
  }

  it('passes on a healthy store and reports its collections', async () => {
    const { path } = await healthyStore();
    const report = openStore(path).check();
    expect(report.ok).toBe(true);
    expect(report.collections.map((c) => [c.collection, c.versions]).sort()).toEqual([
      [A, 10],
      [B, 3],
    ]);
  });

  it('detects an index entry pointing at the wrong object', async () => {
    const problems = await checkAfter(({ entries }, es) => {
      const e = es[2] as IndexEntry;
      const record = entries.get([A, e.dateAdded]) as Record<string, unknown>;
      entries.putSync([A, e.dateAdded], { ...record, id: es[3]?.id });
    });
    expect(problems.join('\n')).toMatch(/index entry .* has version record/);
  });

  it('detects a missing body', async () => {
    const problems = await checkAfter(({ bodies }, es) => bodies.removeSync(es[0]?.body as number));
    expect(problems.join('\n')).toMatch(/points at missing body/);
  });

  it('detects a version record without its index entry (and the counter disagreeing)', async () => {
    const problems = await checkAfter(({ entries }, es) => entries.removeSync([A, es[5]?.dateAdded as number]));
    expect(problems.join('\n')).toMatch(/has no matching index entry/);
    expect(problems.join('\n')).toMatch(new RegExp(`collection ${A}: counter says 10, index holds 9`));
  });

  it('detects a counter that disagrees with the index', async () => {
    const problems = await checkAfter(({ counts }) => counts.putSync(B, 4));
    expect(problems).toEqual([`collection ${B}: counter says 4, index holds 3`]);
  });

  it('detects a clock behind the newest date_added', async () => {
    const problems = await checkAfter(({ clock }) => clock.putSync('last', 5));
    expect(problems.join('\n')).toMatch(/clock 5 is behind the newest date_added/);
  });
});
