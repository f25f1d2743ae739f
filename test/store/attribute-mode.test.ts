/** The benchmark's baseline store: created without policy attributes, and fixed in that mode. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { Store } from '../../src/store/index.ts';
import { identity, indicator, relationship } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const FROM = { source: 'import' as const, detail: 'mode' };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function dir(): string {
  const t = tempDir('relay-mode-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'store');
}

const energy = identity(1, ['energy']);
const ind = indicator(2);
const targets = relationship(3, 'targets', ind.id as string, energy.id as string);

describe('a store without policy attributes', () => {
  it('stores, pages, deletes and checks versions but derives nothing and has no sector index', async () => {
    const store = Store.open(dir(), { policyAttributes: false });
    cleanups.push(() => store.close());
    expect(store.keepsPolicyAttributes).toBe(false);
    const report = new Ingestor(store).ingest(C, [energy, ind, targets, indicator(2, 1)], FROM);
    expect(report.stored).toBe(4);
    const page = store.index.scan({ collection: C, after: 0, limit: 10, accept: () => true, maxScanned: 100 });
    expect(page.entries.map((e) => e.id)).toEqual([energy.id, ind.id, targets.id, ind.id]);
    // no facts, no links: every entry reads as unmarked and sector-less
    expect(page.entries.every((e) => e.attributes.sectors.length === 0 && e.attributes.tlp.kind === 'unmarked')).toBe(true);
    expect(page.entries.map((e) => [e.isFirst, e.isLast])).toEqual([
      [true, true],
      [true, false],
      [true, true],
      [false, true],
    ]);
    // nothing is filed in the sector index, and nothing is queued for the re-indexer
    const filed = store.index.scanFiled({ collection: C, after: 0, limit: 10, accept: () => true, maxScanned: 100, keys: ['energy', ''] });
    expect(filed.entries).toEqual([]);
    expect(store.queue.size()).toBe(0);
    expect(store.deleteVersions(C, store.versionsOf(C, targets.id as string))).toBe(1);
    expect(store.check()).toMatchObject({ ok: true, problems: [] });
  });

  it('keeps the mode it was created with: the other mode refuses to open it, in either direction', async () => {
    const without = dir();
    const a = Store.open(without, { policyAttributes: false });
    new Ingestor(a).ingest(C, [ind], FROM);
    await a.close();
    expect(() => Store.open(without)).toThrow(/created without policy attributes and cannot be opened with them/);
    const again = Store.open(without, { policyAttributes: false });
    expect(again.index.count(C)).toBe(1);
    await again.close();

    const withAttributes = dir();
    const b = Store.open(withAttributes);
    new Ingestor(b).ingest(C, [energy, ind, targets], FROM);
    await b.close();
    expect(() => Store.open(withAttributes, { policyAttributes: false })).toThrow(
      /created with policy attributes and cannot be opened without them/,
    );
    const reopened = Store.open(withAttributes);
    cleanups.push(() => reopened.close());
    expect(reopened.latestOf(C, ind.id as string)?.attributes.sectors).toEqual(['energy']);
    expect(reopened.check().problems).toEqual([]);
  });
});
