/**
 * Policy facts follow the configuration, over real HTTPS and real restarts of a node on one data
 * directory: an operator who maps a marking after the first backfill, or widens a member's
 * profile, needs no step of their own. At the next start the node derives everything again (or
 * announces what the member newly may receive), serves meanwhile, and a member polling with
 * `added_after` receives what newly reaches it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TLP2 } from '../../src/stix/markings.ts';
import { COLLECTIONS, settled, startTestNodeWith, testConfigData, type TestNode } from '../support/node.ts';
import { identity, indicator, marked, relationship } from '../support/policy-fixtures.ts';

const CUSTOM = 'marking-definition--c0ffee00-0000-4000-8000-000000000001';
const dir = mkdtempSync(join(tmpdir(), 'relay-config-changes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node on the shared data directory with these settings (and its own temp dir for everything else). */
function nodeWith(adjust: (data: Record<string, any>) => void): Promise<TestNode> {
  return startTestNodeWith(() => {
    const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
    adjust(data);
    return data;
  });
}

/** What a member's client receives polling with added_after from `cursor` (following `next`); returns ids and the new cursor. */
async function poll(t: TestNode, member: 'alice' | 'bob', cursor: string | undefined) {
  const ids: string[] = [];
  let next: string | undefined;
  let last = cursor;
  for (let page = 0; page < 50; page++) {
    const query = [
      `limit=50`,
      ...(cursor ? [`added_after=${encodeURIComponent(cursor)}`] : []),
      ...(next ? [`next=${encodeURIComponent(next)}`] : []),
    ];
    const res = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/?${query.join('&')}`, member);
    expect(res.status).toBe(200);
    ids.push(...(res.body.objects ?? []).map((o: { id: string }) => o.id));
    last = res.headers.get('x-taxii-date-added-last') ?? last;
    if (!res.body.more) return { ids, cursor: last };
    next = res.body.next;
  }
  throw new Error('paging did not end');
}

describe('a configuration change reaches what is already stored', () => {
  const energy = identity(1, ['energy']);
  const water = identity(2, ['water']);
  const custom = [indicator(10, 0, marked(CUSTOM)), indicator(11, 0, marked(CUSTOM))];
  const watery = indicator(20, 0, marked(TLP2.green));
  const toWater = relationship(21, 'targets', watery.id as string, water.id as string);
  const energetic = indicator(30, 0, marked(TLP2.green));
  const toEnergy = relationship(31, 'targets', energetic.id as string, energy.id as string);
  let aliceCursor: string | undefined;
  let bobCursor: string | undefined;

  it('first run: an unmapped marking fails closed; bob (energy only) receives energy objects', async () => {
    const t = await nodeWith((data) => {
      data.members[1].policy = { tlp_ceiling: 'amber', sectors: ['energy'], unscoped: false };
    });
    try {
      t.node.ingestor.ingest(COLLECTIONS.shared, [energy, water, ...custom, watery, toWater, energetic, toEnergy], {
        source: 'import',
        detail: 'first',
      });
      await settled(t);
      const alice = await poll(t, 'alice', undefined);
      expect(alice.ids).not.toContain(custom[0]?.id);
      aliceCursor = alice.cursor;
      const bob = await poll(t, 'bob', undefined);
      expect(bob.ids).toContain(energetic.id);
      expect(bob.ids).not.toContain(watery.id);
      bobCursor = bob.cursor;
    } finally {
      await t.close();
    }
  });

  it('after the operator maps the marking and gives bob water too, both receive the rest by added_after alone', async () => {
    const t = await nodeWith((data) => {
      data.policy.marking_map = { ...data.policy.marking_map, [CUSTOM]: 'green' };
      data.members[1].policy = { tlp_ceiling: 'amber', sectors: ['energy', 'water'], unscoped: false };
    });
    try {
      await settled(t);
      const alice = await poll(t, 'alice', aliceCursor);
      expect(alice.ids).toEqual(expect.arrayContaining(custom.map((o) => o.id)));
      const bob = await poll(t, 'bob', bobCursor);
      expect(bob.ids).toContain(watery.id);
      expect(bob.ids).toContain(toWater.id);
      // what bob could already see is not what it was waiting for
      expect(bob.ids).not.toContain(custom[0]?.id); // unscoped: bob takes sectors only
      expect(t.node.store.check().problems).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('a restart with the same configuration derives and announces nothing again', async () => {
    const t = await nodeWith((data) => {
      data.policy.marking_map = { ...data.policy.marking_map, [CUSTOM]: 'green' };
      data.members[1].policy = { tlp_ceiling: 'amber', sectors: ['energy', 'water'], unscoped: false };
    });
    try {
      expect(t.node.reindexer.backlog()).toMatchObject({ items: 0, jobs: [] });
      const last = t.node.store.index.lastAdded(COLLECTIONS.shared);
      await settled(t);
      expect(t.node.store.index.lastAdded(COLLECTIONS.shared)).toBe(last);
    } finally {
      await t.close();
    }
  });
});
