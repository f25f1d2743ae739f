import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsOfDocument } from '../../src/ingest/index.ts';
import type { IndexEntry, Store } from '../../src/store/index.ts';
import { COLLECTIONS, startTestNode, type TestNode } from '../support/node.ts';
import { upstreamAsAlice } from '../support/hub-pair.ts';
import { indicators } from './scripted-server.ts';
import { DATA, jsonFiles } from '../support/data.ts';

function objectsOf(path: string): unknown[] {
  return objectsOfDocument(JSON.parse(readFileSync(path, 'utf8')));
}

/**
 * What A serves to B (member policy): never TLP:RED, AMBER+STRICT or unknown markings (the
 * OASIS marking examples carry some); relationships only when both ends are served.
 */
function redistributable(store: Store, collection: string): (e: IndexEntry) => boolean {
  const own = (e: IndexEntry | undefined) => {
    const t = e?.attributes.tlp;
    return t !== undefined && t.kind !== 'unknown' && !(t.kind === 'tlp' && (t.level === 'red' || t.level === 'amber+strict'));
  };
  return (e) => own(e) && (e.attributes.refs ?? []).every((ref) => own(store.latestOf(collection, ref)));
}

function versionSet(store: Store, collection: string, served = false): string[] {
  const out: string[] = [];
  let after = 0;
  const accept = served ? redistributable(store, collection) : () => true;
  for (let i = 0; i < 10_000; i++) {
    const page = store.index.scan({ collection, after, limit: 1000, accept, maxScanned: 100_000 });
    for (const e of page.entries) out.push(`${e.id}|${e.versionKey}`);
    if (!page.more || page.entries.length === 0) break;
    after = page.resumeAfter;
  }
  return out;
}

describe('chain: node B subscribes to node A over HTTPS', () => {
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    a = await startTestNode();
    b = await startTestNode((data) => {
      data.upstreams = [
        upstreamAsAlice(a, 'node-a', {
          defaults: { poll_interval: '1h', page_size: 200 },
          collections: [
            { remote: 'shared', local: 'shared' },
            // a second upstream collection feeding the same local collection
            { remote: 'Board only', local: 'shared' },
          ],
        }),
      ];
    });
    const ingest = (collection: string, objects: unknown[], detail: string) =>
      a.node.ingestor.ingest(collection, objects, { source: 'import', detail });
    // real data sets: an ATT&CK release and the next one (real version history), the OASIS CTI
    // documentation examples, the python-stix2 filestore versions
    for (const file of [join(DATA, 'mitre-attack/ics-attack-17.1.json'), join(DATA, 'mitre-attack/ics-attack-18.1.json')]) {
      ingest(COLLECTIONS.shared, objectsOf(file), file);
    }
    for (const file of [...jsonFiles(join(DATA, 'oasis-cti-documentation')), ...jsonFiles(join(DATA, 'oasis-python-stix2-filestore'))]) {
      ingest(COLLECTIONS.shared, objectsOf(file), file);
    }
    // a generated corpus with several versions per object
    ingest(COLLECTIONS.shared, indicators(300, 4), 'generated');
    // the second collection: some identical versions, some of its own
    for (const file of jsonFiles(join(DATA, 'oasis-cti-documentation'))) ingest(COLLECTIONS.secret, objectsOf(file), file);
    ingest(COLLECTIONS.secret, indicators(50, 2, 3), 'generated-secret');
  }, 180_000); // bounded generously: loading takes seconds, more on a loaded machine

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('B holds exactly the versions of A after a poll', async () => {
    const results = await b.node.upstreams.pollNow();
    expect(results.every((r) => r.ok && r.caughtUp)).toBe(true);
    // where the time went, for the benchmark and `relay upstreams`
    expect(results[0]).toMatchObject({ httpMs: expect.any(Number), parseMs: expect.any(Number), storeMs: expect.any(Number) });
    const expected = new Set([
      ...versionSet(a.node.store, COLLECTIONS.shared, true),
      ...versionSet(a.node.store, COLLECTIONS.secret, true),
    ]);
    expect(expected.size).toBeGreaterThan(3000);
    const got = versionSet(b.node.store, COLLECTIONS.shared);
    expect(got.length).toBe(expected.size); // identical versions stored once
    expect(new Set(got)).toEqual(expected);
    expect(b.node.store.resources.listQuarantine()).toEqual([]);
    expect(b.node.store.check().ok).toBe(true);
  });

  it('records both sources of a version delivered by two upstream collections', () => {
    const example = JSON.parse(readFileSync(join(DATA, 'oasis-cti-documentation/indicator-for-malicious-url.json'), 'utf8')).objects.find(
      (o: { type: string }) => o.type === 'indicator',
    ) as { id: string };
    const [entry] = b.node.store.versionsOf(COLLECTIONS.shared, example.id);
    const sources = b.node.store.provenanceOf(COLLECTIONS.shared, example.id, entry!.versionKey).map((p) => `${p.source}:${p.detail}`);
    expect(sources.sort()).toEqual(['upstream:node-a/Board only', 'upstream:node-a/shared']);
  });

  it('new objects added to A arrive at B on the next poll', async () => {
    const fresh = indicators(25, 3, 11);
    a.node.ingestor.ingest(COLLECTIONS.shared, fresh, { source: 'import', detail: 'later' });
    const [shared] = await b.node.upstreams.pollNow('node-a');
    expect(shared).toMatchObject({ ok: true, caughtUp: true, stored: 75, objects: 75 });
    const expected = new Set([
      ...versionSet(a.node.store, COLLECTIONS.shared, true),
      ...versionSet(a.node.store, COLLECTIONS.secret, true),
    ]);
    expect(new Set(versionSet(b.node.store, COLLECTIONS.shared))).toEqual(expected);
  });

  it('reports each subscription state', () => {
    const status = b.node.upstreams.status();
    expect(status.map((s) => [s.remote, s.state, s.lastError])).toEqual([
      ['shared', 'idle', null],
      ['Board only', 'idle', null],
    ]);
    expect(status[0]?.objectsIngested).toBe(versionSet(a.node.store, COLLECTIONS.shared, true).length);
    expect(status[0]?.lagMs).not.toBeNull();
  });
});
