/**
 * The reconciliation set the store keeps (store/federation-items.ts): every version a commit
 * stores and every tombstone a delete leaves, per collection, summarized by hash prefix exactly as
 * an in-memory set of the same items; a deleted version is refused afterwards; a peer's tombstone
 * removes the version or waits for it; a store written before the set existed is indexed at open.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryItemSource } from '../../src/federation/item-source.ts';
import type { ReconItem } from '../../src/federation/items.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { Store } from '../../src/store/index.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';

const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const FILE = { source: 'import', detail: 'test.json' } as const;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function newStore(): { store: Store; path: string } {
  const t = tempDir('relay-recon-items-');
  cleanups.push(t.cleanup);
  const path = join(t.dir, 'store');
  const store = Store.open(path);
  cleanups.push(() => store.close());
  return { store, path };
}

const keyOf = (o: Record<string, unknown>) => stixTimestampKey(o.modified as string) as string;
const versionItem = (o: Record<string, unknown>): ReconItem => ({ kind: 'version', id: o.id as string, version: keyOf(o) });

/** The store's set equals the in-memory set of `items` on every range a session might ask about. */
function expectSameSet(store: Store, collection: string, items: readonly ReconItem[]): void {
  const memory = MemoryItemSource.of(items);
  const kept = store.reconItems.source(collection);
  for (const prefix of ['', '0', '7', 'a3', 'f', '4c1', 'e5f0', '00012', '9']) {
    expect(kept.summarize(prefix)).toEqual(memory.summarize(prefix));
    expect([...kept.entries(prefix)].map((e) => e.hash.toString('hex'))).toEqual(
      [...memory.entries(prefix)].map((e) => e.hash.toString('hex')),
    );
  }
}

describe('the reconciliation set in the store', () => {
  it('holds every version committed, per collection, summarized like an in-memory set', () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const objects = Array.from({ length: 600 }, (_, i) => indicator(i, i % 3));
    expect(ingestor.ingest(C, objects, FILE).stored).toBe(600);
    expect(ingestor.ingest(D, objects.slice(0, 10), FILE).stored).toBe(10);
    // a re-delivered version changes nothing
    expect(ingestor.ingest(C, objects.slice(0, 50), FILE).duplicate).toBe(50);
    expectSameSet(store, C, objects.map(versionItem));
    expectSameSet(store, D, objects.slice(0, 10).map(versionItem));
    expect(store.reconItems.count(C)).toBe(600);
  });

  it("an operator's delete leaves a tombstone in place of the version, and the version is refused afterwards", () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const objects = Array.from({ length: 20 }, (_, i) => indicator(i));
    ingestor.ingest(C, objects, FILE);
    const doomed = objects[3] as Record<string, unknown>;
    const deleted: unknown[] = [];
    ingestor.onVersionsDeleted((d) => deleted.push(d));
    expect(ingestor.delete(C, store.versionsOf(C, doomed.id as string))).toBe(1);
    expect(deleted).toEqual([
      { collection: C, tombstones: [{ id: doomed.id, versionKey: keyOf(doomed), tlp: expect.anything() as unknown }], origin: 'local' },
    ]);
    expect(store.reconItems.isTombstoned(C, doomed.id as string, keyOf(doomed))).toBe(true);
    expectSameSet(store, C, [...objects.filter((o) => o !== doomed).map(versionItem), { ...versionItem(doomed), kind: 'tombstone' }]);
    const again = ingestor.ingest(C, [doomed], FILE);
    expect(again.stored).toBe(0);
    expect(again.outcomes[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/deleted/) as unknown });
    expect(store.latestOf(C, doomed.id as string)).toBeUndefined();
    // a newer version of the same object is another item: stored normally
    expect(ingestor.ingest(C, [indicator(3, 1)], FILE).stored).toBe(1);
  });

  it("a peer's tombstone removes the version it names, or is kept until the version arrives and then refuses it", () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const held = indicator(1);
    const notYet = indicator(2);
    ingestor.ingest(C, [held], FILE);
    const outcome = ingestor.applyTombstones(C, [
      { id: held.id as string, versionKey: keyOf(held) },
      { id: notYet.id as string, versionKey: keyOf(notYet) },
    ]);
    expect(outcome).toEqual({ removed: 1, recorded: 2 });
    expect(store.latestOf(C, held.id as string)).toBeUndefined();
    expect(ingestor.ingest(C, [notYet, held], { source: 'peer', detail: 'relay-b' }).stored).toBe(0);
    // applied twice: nothing new
    expect(ingestor.applyTombstones(C, [{ id: held.id as string, versionKey: keyOf(held) }])).toEqual({ removed: 0, recorded: 0 });
    expect(store.reconItems.count(C)).toBe(2);
  });

  it('a store written before the set existed is indexed when it is opened', async () => {
    const { store, path } = newStore();
    const objects = Array.from({ length: 300 }, (_, i) => indicator(i, i % 2));
    new Ingestor(store).ingest(C, objects, FILE);
    await store.close();
    // as an earlier release left it: no set, no mark
    const raw = open({ path, maxDbs: 64, compression: false });
    raw.openDB('settings', {}).removeSync('recon-items');
    raw.openDB('fed-items', {}).clearSync();
    raw.openDB('fed-buckets', {}).clearSync();
    await raw.close();
    const reopened = Store.open(path);
    cleanups.push(() => reopened.close());
    expectSameSet(reopened, C, objects.map(versionItem));
  });
});
