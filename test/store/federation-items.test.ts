/**
 * The reconciliation set the store keeps (store/federation-items.ts): exactly the versions and
 * tombstones this node may send to its peers (the egress rule), in the reconciled collections
 * only, summarized by hash prefix exactly as an in-memory set of the same items; nothing at all
 * without a rule (a node without federation), while deletes are remembered on every node. A store
 * opened with another rule, or written before the rule was recorded, rebuilds the set; a writer
 * under another rule marks it stale.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { egressRule, type EgressPolicy } from '../../src/federation/egress.ts';
import { itemHash } from '../../src/federation/items.ts';
import { MemoryItemSource } from '../../src/federation/item-source.ts';
import type { ReconItem } from '../../src/federation/items.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { TLP2 } from '../../src/stix/markings.ts';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { Store, type ReconRule } from '../../src/store/index.ts';
import { indicator, statementMarking, tempDir } from '../support/stix-fixtures.ts';

const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
/** not reconciled (an inbox, say) */
const E = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
const FILE = { source: 'import', detail: 'test.json' } as const;
const STATEMENT = 'marking-definition--00000000-aaaa-4000-8000-000000000001';

const rule = (egress: Partial<EgressPolicy> = {}, collections = [C, D]): ReconRule =>
  egressRule(collections, 'amber', { allowRed: false, allowAmberStrict: false, ...egress });

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function newPath(): string {
  const t = tempDir('relay-recon-items-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'store');
}

/** `null`: a node without federation */
function openAt(path: string, reconcile: ReconRule | null = rule()): Store {
  const store = Store.open(path, reconcile ? { reconcile } : {});
  cleanups.push(() => store.close());
  return store;
}

function newStore(reconcile: ReconRule | null = rule()): { store: Store; path: string } {
  const path = newPath();
  return { store: openAt(path, reconcile), path };
}

const keyOf = (o: Record<string, unknown>) => stixTimestampKey(o.modified as string) as string;
const versionItem = (o: Record<string, unknown>): ReconItem => ({ kind: 'version', id: o.id as string, version: keyOf(o) });
const tombstoneItem = (o: Record<string, unknown>): ReconItem => ({ ...versionItem(o), kind: 'tombstone' });
const marked = (...refs: string[]) => ({ object_marking_refs: refs });
const inSet = (store: Store, collection: string, item: ReconItem) => store.reconItems.has(collection, item.kind, item.id, item.version);

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

/** one object of each egress case, numbered from `n` */
function mixed(n: number) {
  return {
    green: indicator(n, 0, marked(TLP2.green)),
    unmarked: indicator(n + 1),
    red: indicator(n + 2, 0, marked(TLP2.red)),
    strict: indicator(n + 3, 0, marked(TLP2.amberStrict)),
    unknown: indicator(n + 4, 0, marked(STATEMENT)),
  };
}

describe('the reconciliation set in the store', () => {
  it('holds every sendable version committed, per reconciled collection, summarized like an in-memory set', () => {
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
    expect(store.reconItems.inForce()).toBe(true);
  });

  it('holds GREEN and unmarked (judged as the default TLP) versions, never RED, AMBER+STRICT or unknown markings', () => {
    const { store } = newStore();
    const o = mixed(1);
    new Ingestor(store).ingest(C, Object.values(o), FILE);
    expectSameSet(store, C, [versionItem(o.green), versionItem(o.unmarked)]);
    expect(inSet(store, C, versionItem(o.red))).toBe(false);
    expect(store.latestOf(C, o.red.id as string)).toBeDefined();
    expect(store.check().problems).toEqual([]);
  });

  it('holds RED with allow_red and AMBER+STRICT with allow_amber_strict; unknown markings still never', () => {
    const { store } = newStore(rule({ allowRed: true, allowAmberStrict: true }));
    const o = mixed(1);
    new Ingestor(store).ingest(C, Object.values(o), FILE);
    expectSameSet(store, C, [versionItem(o.green), versionItem(o.unmarked), versionItem(o.red), versionItem(o.strict)]);
  });

  it('holds nothing of collections that are not reconciled', () => {
    const { store } = newStore();
    new Ingestor(store).ingest(E, [indicator(1, 0, marked(TLP2.green))], FILE);
    expect(store.reconItems.count(E)).toBe(0);
  });

  it('a store without federation keeps no set, and still refuses a version deleted here', () => {
    const { store } = newStore(null);
    const ingestor = new Ingestor(store);
    const o = mixed(1);
    ingestor.ingest(C, Object.values(o), FILE);
    expect(store.reconItems.count(C)).toBe(0);
    expect(ingestor.delete(C, store.versionsOf(C, o.green.id as string))).toBe(1);
    expect(store.reconItems.count(C)).toBe(0);
    expect(store.reconItems.isTombstoned(C, o.green.id as string, keyOf(o.green))).toBe(true);
    expect(ingestor.ingest(C, [o.green], FILE).rejected).toBe(1);
    expect(store.reconItems.inForce()).toBe(true);
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
    expectSameSet(store, C, [...objects.filter((o) => o !== doomed).map(versionItem), tombstoneItem(doomed)]);
    const again = ingestor.ingest(C, [doomed], FILE);
    expect(again.stored).toBe(0);
    expect(again.outcomes[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/deleted/) as unknown });
    expect(store.latestOf(C, doomed.id as string)).toBeUndefined();
    // a newer version of the same object is another item: stored normally
    expect(ingestor.ingest(C, [indicator(3, 1)], FILE).stored).toBe(1);
  });

  it('the tombstone of a withheld version stays out of the set, and the version is refused all the same', () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const o = mixed(1);
    ingestor.ingest(C, [o.green, o.red], FILE);
    expect(ingestor.delete(C, store.versionsOf(C, o.red.id as string))).toBe(1);
    expect(inSet(store, C, tombstoneItem(o.red))).toBe(false);
    expect(store.reconItems.isTombstoned(C, o.red.id as string, keyOf(o.red))).toBe(true);
    expect(ingestor.ingest(C, [o.red], FILE).rejected).toBe(1);
    expectSameSet(store, C, [versionItem(o.green)]);
    expect(store.check().problems).toEqual([]);
  });

  it("a peer's tombstone removes the version it names, or is kept until the version arrives and then refuses it", () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const held = indicator(1);
    const notYet = indicator(2);
    const red = indicator(3, 0, marked(TLP2.red));
    ingestor.ingest(C, [held, red], FILE);
    const outcome = ingestor.applyTombstones(C, [
      { id: held.id as string, versionKey: keyOf(held) },
      { id: notYet.id as string, versionKey: keyOf(notYet) },
      { id: red.id as string, versionKey: keyOf(red) },
    ]);
    expect(outcome).toEqual({ removed: 2, recorded: 3 });
    expect(store.latestOf(C, held.id as string)).toBeUndefined();
    expect(ingestor.ingest(C, [notYet, held, red], { source: 'peer', detail: 'relay-b' }).stored).toBe(0);
    // applied twice: nothing new
    expect(ingestor.applyTombstones(C, [{ id: held.id as string, versionKey: keyOf(held) }])).toEqual({ removed: 0, recorded: 0 });
    // the RED version's tombstone follows its version: not sent
    expectSameSet(store, C, [tombstoneItem(held), tombstoneItem(notYet)]);
  });

  it('a version whose unknown marking turns out to be a statement enters the set when its facts are derived again', () => {
    const { store } = newStore();
    const ingestor = new Ingestor(store);
    const waiting = indicator(1, 0, marked(STATEMENT));
    ingestor.ingest(C, [waiting], FILE);
    expect(inSet(store, C, versionItem(waiting))).toBe(false);
    const definition = statementMarking(STATEMENT);
    ingestor.ingest(C, [definition], FILE);
    expect(store.latestOf(C, waiting.id as string)?.attributes.tlp).toEqual({ kind: 'unmarked' });
    expect(inSet(store, C, versionItem(waiting))).toBe(true);
    expect(store.check().problems).toEqual([]);
  });

  it('a store opened with other egress settings or other collections rebuilds its set; without federation it empties it', async () => {
    const path = newPath();
    const o = mixed(1);
    const first = openAt(path);
    const ingestor = new Ingestor(first);
    ingestor.ingest(C, Object.values(o), FILE);
    ingestor.ingest(D, [o.green, o.red], FILE);
    ingestor.delete(C, first.versionsOf(C, o.red.id as string));
    expectSameSet(first, C, [versionItem(o.green), versionItem(o.unmarked)]);
    await first.close();

    const red = openAt(path, rule({ allowRed: true }));
    expect(red.reconItems.inForce()).toBe(true);
    // the node logs a rebuild at open: what it added
    expect(red.reconItems.rebuiltAtOpen()?.added).toBe(5);
    // the RED version was deleted: its tombstone is sent now
    expectSameSet(red, C, [versionItem(o.green), versionItem(o.unmarked), tombstoneItem(o.red)]);
    expectSameSet(red, D, [versionItem(o.green), versionItem(o.red)]);
    await red.close();

    const onlyD = openAt(path, rule({}, [D]));
    expectSameSet(onlyD, C, []);
    expectSameSet(onlyD, D, [versionItem(o.green)]);
    await onlyD.close();

    const alone = openAt(path, null);
    expect(alone.reconItems.count(C) + alone.reconItems.count(D)).toBe(0);
    expect(alone.reconItems.isTombstoned(C, o.red.id as string, keyOf(o.red))).toBe(true);
    await alone.close();

    const again = openAt(path);
    expectSameSet(again, C, [versionItem(o.green), versionItem(o.unmarked)]);
    expectSameSet(again, D, [versionItem(o.green)]);
    expect(again.check().problems).toEqual([]);
    await again.close();
    // opened again under the same rule: nothing to rebuild
    const same = openAt(path);
    expect(same.reconItems.rebuiltAtOpen()).toBeUndefined();
  });

  it('a process writing under another rule marks the set stale, and the next open rebuilds it', async () => {
    const path = newPath();
    const node = openAt(path);
    new Ingestor(node).ingest(C, [indicator(1)], FILE);
    // another process with other settings (a relay command given another configuration)
    const other = openAt(path, rule({ allowRed: true }));
    node.refresh();
    expect(node.reconItems.inForce()).toBe(false);
    new Ingestor(node).ingest(C, [indicator(2)], FILE);
    node.refresh();
    expect(other.reconItems.inForce()).toBe(false);
    await other.close();
    await node.close();
    const reopened = openAt(path);
    expect(reopened.reconItems.inForce()).toBe(true);
    expectSameSet(reopened, C, [versionItem(indicator(1)), versionItem(indicator(2))]);
  });

  it('a store of the previous layout (every version and tombstone in the set) keeps its tombstones and is rebuilt when opened', async () => {
    const { store, path } = newStore();
    const objects = Array.from({ length: 300 }, (_, i) => indicator(i, i % 2));
    const ingestor = new Ingestor(store);
    ingestor.ingest(C, objects, FILE);
    const red = indicator(1_000, 0, marked(TLP2.red));
    ingestor.ingest(C, [red], FILE);
    const gone = objects[7] as Record<string, unknown>;
    ingestor.delete(C, store.versionsOf(C, gone.id as string));
    await store.close();
    // as the previous release left it: tombstones only in the set, the RED version in it, no rule recorded
    const raw = open({ path, maxDbs: 64, compression: false });
    const settings = raw.openDB('settings', {});
    settings.removeSync('recon-rule');
    settings.putSync('recon-items', 1);
    raw.openDB('fed-tombstones', {}).clearSync();
    const items = raw.openDB('fed-items', {});
    const redItem = versionItem(red);
    items.putSync([C, itemHash(redItem).toString('hex')], ['v', redItem.id, redItem.version]);
    await raw.close();

    const reopened = openAt(path);
    expect(reopened.reconItems.isTombstoned(C, gone.id as string, keyOf(gone))).toBe(true);
    expectSameSet(reopened, C, [...objects.filter((o) => o !== gone).map(versionItem), tombstoneItem(gone)]);
    expect(reopened.resources.setting('recon-items')).toBeUndefined();
  });

  it('relay check names items the rule does not send, items it sends that are missing, and buckets that do not sum their items', async () => {
    const { store, path } = newStore();
    const o = mixed(1);
    new Ingestor(store).ingest(C, Object.values(o), FILE);
    await store.close();
    const raw = open({ path, maxDbs: 64, compression: false });
    const items = raw.openDB('fed-items', {});
    const red = versionItem(o.red);
    items.putSync([C, itemHash(red).toString('hex')], ['v', red.id, red.version]);
    items.removeSync([C, itemHash(versionItem(o.green)).toString('hex')]);
    await raw.close();
    const problems = openAt(path).check().problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        `reconciliation set: ${C} version ${red.id} ${red.version} is in the set but not sent by the rule`,
        `reconciliation set: ${C} version ${o.green.id as string} ${keyOf(o.green)} is sent by the rule but not in the set`,
        expect.stringMatching(/^reconciliation set: bucket /) as unknown,
      ]),
    );
  });

  it('a store without policy attributes cannot be opened with a reconciliation rule (it has no TLP to judge by)', async () => {
    const path = newPath();
    await Store.open(path, { policyAttributes: false }).close();
    expect(() => Store.open(path, { policyAttributes: false, reconcile: rule() })).toThrow(/no TLP/);
  });
});
