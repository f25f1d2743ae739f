import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ingestor, objectsOfDocument } from '../../src/ingest/index.ts';
import { DocumentError } from '../../src/ingest/documents.ts';
import { type StoredVersion } from '../../src/ingest/ingest.ts';
import { Store, type Provenance } from '../../src/store/index.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const D = '22222222-2222-4222-8222-222222222222';
const FROM: Provenance = { source: 'import', detail: 'unit' };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function setup(): { store: Store; ingestor: Ingestor } {
  const t = tempDir('relay-ingest-');
  cleanups.push(t.cleanup);
  const store = Store.open(join(t.dir, 'store'));
  cleanups.push(() => store.close());
  return { store, ingestor: new Ingestor(store) };
}

describe('Ingestor', () => {
  it('re-delivering an identical version is a duplicate and keeps its date_added', () => {
    const { store, ingestor } = setup();
    const objects = [indicator(1), indicator(2), indicator(1, 1)];
    const first = ingestor.ingest(C, objects, FROM);
    expect(first).toMatchObject({ stored: 3, duplicate: 0, rejected: 0 });
    const again = ingestor.ingest(C, objects, { source: 'taxii', detail: 'alice' });
    expect(again).toMatchObject({ stored: 0, duplicate: 3, rejected: 0 });
    expect(again.outcomes).toEqual(first.outcomes.map((o) => ({ ...o, kind: 'duplicate' })));
    expect(store.index.count(C)).toBe(3);
  });

  it('the same version under another timestamp spelling (3 vs 6 digits, …Z) is a duplicate', () => {
    const { store, ingestor } = setup();
    const ms = indicator(5, 0, { modified: '2024-03-01T10:00:00.120Z' });
    const us = { ...ms, modified: '2024-03-01T10:00:00.120000Z' };
    const four = { ...ms, modified: '2024-03-01T10:00:00.1200Z' };
    const later = { ...ms, modified: '2024-03-01T10:00:00.120001Z' };
    const r1 = ingestor.ingest(C, [ms], FROM);
    const r2 = ingestor.ingest(C, [us, four, later], FROM);
    expect(r2.outcomes.map((o) => o.kind)).toEqual(['duplicate', 'duplicate', 'stored']);
    expect(r2.outcomes[0]).toMatchObject({ dateAdded: r1.outcomes[0]?.kind === 'stored' ? r1.outcomes[0].dateAdded : -1 });
    expect(store.versionsOf(C, ms.id as string).map((v) => v.version)).toEqual(['2024-03-01T10:00:00.120Z', '2024-03-01T10:00:00.120001Z']);
  });

  it('an invalid object never costs a valid sibling its place; outcomes follow input order', () => {
    const { store, ingestor } = setup();
    const objects: unknown[] = [
      indicator(1),
      { ...indicator(2), spec_version: undefined },
      'not an object',
      indicator(3),
      { ...indicator(4), created: '2022-101-27T13:49:54.326Z' },
      indicator(1),
      indicator(6),
    ];
    const report = ingestor.ingest(C, objects, FROM, { batchSize: 2 });
    expect(report.outcomes.map((o) => o.kind)).toEqual(['stored', 'rejected', 'rejected', 'stored', 'rejected', 'duplicate', 'stored']);
    expect(report).toMatchObject({ stored: 3, duplicate: 1, rejected: 3 });
    expect(report.outcomes[1]).toMatchObject({
      kind: 'rejected',
      id: indicator(2).id,
      version: indicator(2).modified,
      reason: expect.stringMatching(/STIX 2\.0/),
    });
    expect(report.outcomes[2]).toEqual({ kind: 'rejected', reason: 'not a JSON object' });
    expect(report.outcomes[4]).toMatchObject({
      kind: 'rejected',
      id: indicator(4).id,
      reason: expect.stringMatching(/invalid timestamp in 'created'/),
    });
    expect(store.index.count(C)).toBe(3);
    expect(store.check().ok).toBe(true);
  });

  it('commits in batches and reports each one after it commits', () => {
    const { store, ingestor } = setup();
    const objects = Array.from({ length: 10 }, (_, i) => indicator(i));
    const seen: Array<{ objects: number; stored: number; countInStore: number }> = [];
    ingestor.ingest(C, objects, FROM, {
      batchSize: 4,
      onBatch: (b) => seen.push({ ...b, countInStore: store.index.count(C) }),
    });
    expect(seen).toEqual([
      { objects: 4, stored: 4, countInStore: 4 },
      { objects: 8, stored: 4, countInStore: 8 },
      { objects: 10, stored: 2, countInStore: 10 },
    ]);
  });

  it('tells listeners about stored versions only, with collection and provenance', () => {
    const { ingestor } = setup();
    const heard: StoredVersion[] = [];
    const off = ingestor.onVersionStored((v) => heard.push(v));
    ingestor.ingest(C, [indicator(1), indicator(1), { type: 'x' }], FROM);
    ingestor.ingest(D, [indicator(1)], { source: 'peer', detail: 'node-2' });
    expect(heard.map((h) => [h.collection, h.id, h.provenance.source])).toEqual([
      [C, indicator(1).id, 'import'],
      [D, indicator(1).id, 'peer'],
    ]);
    off();
    ingestor.ingest(C, [indicator(2)], FROM);
    expect(heard).toHaveLength(2);
  });

  it('stores the object as received (custom properties kept)', () => {
    const { store, ingestor } = setup();
    const o = indicator(9, 0, { x_acme_score: { nested: [1, 'two', null] }, labels: ['ünïcode'] });
    const report = ingestor.ingest(C, [o], FROM);
    const outcome = report.outcomes[0];
    expect(outcome?.kind).toBe('stored');
    const [entry] = store.versionsOf(C, o.id as string);
    expect(JSON.parse(store.bodyOf(entry!) as string)).toEqual(o);
  });

  it('an empty list stores nothing', () => {
    const { store, ingestor } = setup();
    expect(ingestor.ingest(C, [], FROM)).toEqual({ stored: 0, duplicate: 0, rejected: 0, outcomes: [] });
    expect(store.index.count(C)).toBe(0);
  });
});

describe('objectsOfDocument', () => {
  const o = indicator(1);
  it('unwraps bundles (2.0 and lenient 2.1 ones), envelopes, arrays and single objects', () => {
    expect(objectsOfDocument({ type: 'bundle', id: 'bundle--1', objects: [o] })).toEqual([o]);
    expect(objectsOfDocument({ type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [o] })).toEqual([o]);
    expect(objectsOfDocument({ type: 'bundle', id: 'bundle--1' })).toEqual([]);
    expect(objectsOfDocument({ more: false, objects: [o, o] })).toEqual([o, o]);
    expect(objectsOfDocument([o])).toEqual([o]);
    expect(objectsOfDocument(o)).toEqual([o]);
  });

  it('refuses what is none of those', () => {
    expect(() => objectsOfDocument({ type: 'bundle', objects: {} })).toThrow(DocumentError);
    expect(() => objectsOfDocument({ hello: 'world' })).toThrow(/not a STIX bundle/);
    expect(() => objectsOfDocument(42)).toThrow(DocumentError);
    expect(() => objectsOfDocument(null)).toThrow(DocumentError);
  });
});
