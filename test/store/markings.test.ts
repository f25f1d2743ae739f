/**
 * Statement markings through the ingest path and the store (real LMDB): a statement restricts
 * nobody, whether its definition comes in the same call as the objects it marks (looked at before
 * any fact is derived) or later (the objects that waited for it are derived again, in the
 * transaction that stores it, and announced again). A marking nobody defines stays unknown.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { Store } from '../../src/store/index.ts';
import { identity, indicator, marked, relationship, UNKNOWN_MARKING } from '../support/policy-fixtures.ts';
import { statementMarking, tempDir } from '../support/stix-fixtures.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const FROM = { source: 'import' as const, detail: 'markings' };
const STATEMENT = 'marking-definition--00000000-aaaa-4000-8000-000000000001';
const definition = statementMarking(STATEMENT);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setup() {
  const t = tempDir('relay-markings-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  const ingestor = new Ingestor(store);
  return { store, ingestor, reindexed: () => ingestor.derivation.reindexer.reindexed };
}

describe('statement markings', () => {
  it('a definition listed after the objects it marks, in the same call, resolves them at once (nothing re-indexed)', () => {
    const { store, ingestor, reindexed } = setup();
    const objects = [indicator(1, 0, marked(STATEMENT)), indicator(2, 0, marked(STATEMENT)), definition];
    ingestor.ingest(A, objects, FROM, { batchSize: 1 });
    expect(store.latestOf(A, indicator(1).id as string)?.attributes.tlp).toEqual({ kind: 'unmarked' });
    expect(store.latestOf(A, STATEMENT)?.attributes.tlp).toEqual({ kind: 'tlp', level: 'clear' });
    expect(reindexed()).toBe(0);
    expect(store.check().problems).toEqual([]);
  });

  it('objects stored before their statement definition wait for it, then are derived again and announced anew, in every collection', () => {
    const { store, ingestor, reindexed } = setup();
    const energy = identity(10, ['energy']);
    const carrier = indicator(1, 0, marked(STATEMENT));
    const target = relationship(11, 'targets', carrier.id as string, energy.id as string);
    ingestor.ingest(A, [carrier, energy, target], FROM);
    ingestor.ingest(B, [indicator(2, 0, marked(STATEMENT))], FROM);
    const before = store.latestOf(A, carrier.id as string);
    expect(before?.attributes.tlp).toEqual({ kind: 'unknown', markings: [STATEMENT] });
    expect(before?.attributes.sectors).toEqual(['energy']);
    expect(store.markings.isWaiting(STATEMENT, A, carrier.id as string)).toBe(true);
    expect(store.check().problems).toEqual([]);

    ingestor.ingest(A, [definition], FROM);
    const after = store.latestOf(A, carrier.id as string);
    expect(after?.attributes.tlp).toEqual({ kind: 'unmarked' });
    expect(after?.attributes.sectors).toEqual(['energy']);
    // a new date_added: a client polling with added_after receives it
    expect(after?.dateAdded).toBeGreaterThan(before?.dateAdded as number);
    expect(store.latestOf(B, indicator(2).id as string)?.attributes.tlp).toEqual({ kind: 'unmarked' });
    expect(store.markings.isWaiting(STATEMENT, A, carrier.id as string)).toBe(false);
    expect(reindexed()).toBeGreaterThanOrEqual(2);
    expect(store.check().problems).toEqual([]);
  });

  it('older versions are derived again too, and a later definition in another process is seen at the next ingest', async () => {
    const t = tempDir('relay-markings-');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'store');
    const first = Store.open(path);
    new Ingestor(first).ingest(A, [indicator(1, 0, marked(STATEMENT)), indicator(1, 1, marked(STATEMENT))], FROM);
    // "another process": a second store handle on the same files stores the definition
    const second = Store.open(path);
    new Ingestor(second).ingest(B, [definition], FROM);
    await second.close();
    first.refresh();
    expect(first.versionsOf(A, indicator(1).id as string).map((e) => e.attributes.tlp.kind)).toEqual(['unmarked', 'unmarked']);
    new Ingestor(first).ingest(A, [indicator(3, 0, marked(STATEMENT))], FROM);
    expect(first.latestOf(A, indicator(3).id as string)?.attributes.tlp).toEqual({ kind: 'unmarked' });
    expect(first.check().problems).toEqual([]);
    await first.close();
  });

  it('a marking that nothing defines keeps failing closed and stays noted as awaited', () => {
    const { store, ingestor } = setup();
    ingestor.ingest(A, [indicator(1, 0, marked(UNKNOWN_MARKING, STATEMENT)), definition], FROM);
    expect(store.latestOf(A, indicator(1).id as string)?.attributes.tlp).toEqual({ kind: 'unknown', markings: [UNKNOWN_MARKING] });
    expect(store.markings.isWaiting(UNKNOWN_MARKING, A, indicator(1).id as string)).toBe(true);
    expect(store.check().problems).toEqual([]);
  });

  it('relay check names versions whose facts still treat a known statement as unknown', () => {
    const { store, ingestor } = setup();
    ingestor.ingest(A, [indicator(1, 0, marked(STATEMENT))], FROM);
    // the definition recorded without deriving the waiting object again (what a lost re-derivation would leave)
    store.markings.addStatement(STATEMENT);
    expect(store.check().problems).toEqual([expect.stringContaining(`facts treat statement marking ${STATEMENT} as unknown`)]);
  });
});
