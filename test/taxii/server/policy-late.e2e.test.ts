/**
 * Late links over HTTPS: an indicator stored first, the relationship to a sector identity
 * later; a member of that sector polling with added_after receives the indicator once the
 * relationship arrives (the indicator is re-indexed with a new date_added). Also collection
 * kinds as members see them: a view filters its source, an inbox is write-only, a view is
 * read-only, and objects a member may not see are 404s on the one-object endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, TAXII, startTestNode, type TestNode } from '../../support/node.ts';
import { identity, indicator, marked, relationship, TLP2 } from '../../support/policy-fixtures.ts';

const VIEW = '66666666-6666-4666-8666-666666666666';
const FROM = { source: 'import' as const, detail: 'late' };

describe('late relationship and collection kinds', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode((data) => {
      const root = data.api_roots[0];
      root.collections.push({
        id: VIEW,
        alias: 'energy',
        title: 'Energy',
        kind: 'view',
        source: 'shared',
        filter: { sectors: ['energy'], tlp: 'green' },
      });
      root.collections.find((c: any) => c.alias === 'inbox').kind = 'inbox';
      const bob = data.members.find((m: any) => m.id === 'bob');
      bob.policy = { tlp_ceiling: 'amber', sectors: ['energy'], unscoped: false };
      bob.grants.push({ api_root: 'isac', collection: 'energy', read: true, write: true });
      const alice = data.members.find((m: any) => m.id === 'alice');
      alice.grants.push({ api_root: 'isac', collection: 'energy', read: true, write: true });
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a sector member polling with added_after receives the indicator after its relationship arrives', async () => {
    const energy = identity(1, ['energy']);
    const ind = indicator(2, 0, marked(TLP2.green));
    // the indicator first, then the identity: the member's position moves past the indicator
    t.node.ingestor.ingest(COLLECTIONS.shared, [ind], FROM);
    t.node.ingestor.ingest(COLLECTIONS.shared, [energy], FROM);
    const first = await t.get('/isac/collections/shared/objects/', 'bob');
    expect(first.body.objects.map((o: any) => o.id)).toEqual([energy.id]); // the indicator has no sector yet
    const mark = first.headers.get('x-taxii-date-added-last') as string;
    expect((await t.get(`/isac/collections/shared/objects/${ind.id}/`, 'bob')).status).toBe(404);

    const rel = relationship(3, 'targets', ind.id as string, energy.id as string, marked(TLP2.green));
    t.node.ingestor.ingest(COLLECTIONS.shared, [rel], FROM);
    const poll = await t.get(`/isac/collections/shared/objects/?added_after=${encodeURIComponent(mark)}`, 'bob');
    expect(poll.status).toBe(200);
    expect(poll.body.objects.map((o: any) => o.id).sort()).toEqual([ind.id, rel.id].sort());
    expect((await t.get(`/isac/collections/shared/objects/${ind.id}/`, 'bob')).status).toBe(200);
    // the manifest shows the new position too
    const manifest = await t.get(`/isac/collections/shared/manifest/?added_after=${encodeURIComponent(mark)}`, 'bob');
    expect(manifest.body.objects.map((o: any) => o.id).sort()).toEqual([ind.id, rel.id].sort());
    expect(t.node.store.check().ok).toBe(true);
  });

  it('a view serves its source filtered (sector, TLP bound) and ANDed with the member policy', async () => {
    const amber = indicator(10, 0, marked(TLP2.amber));
    const energy = identity(1, ['energy']);
    t.node.ingestor.ingest(
      COLLECTIONS.shared,
      [amber, relationship(11, 'targets', amber.id as string, energy.id as string, marked(TLP2.amber))],
      FROM,
    );
    // alice (every sector, up to AMBER) sees the AMBER indicator in the mirror, not in the GREEN view
    const mirror = await t.get('/isac/collections/shared/objects/?match[type]=indicator', 'alice');
    expect(mirror.body.objects.map((o: any) => o.id)).toContain(amber.id);
    const view = await t.get('/isac/collections/energy/objects/', 'alice');
    const ids = view.body.objects.map((o: any) => o.id);
    expect(ids).not.toContain(amber.id);
    expect(ids).toContain(indicator(2).id);
    expect((await t.get(`/isac/collections/energy/objects/${amber.id}/`, 'alice')).status).toBe(404);
  });

  it('collections list: a view is read-only, an inbox is write-only', async () => {
    const list = await t.get('/isac/collections/', 'bob');
    const byAlias = Object.fromEntries(list.body.collections.map((c: any) => [c.alias, c]));
    expect(byAlias.energy).toMatchObject({ can_read: true, can_write: false });
    expect(byAlias.inbox).toMatchObject({ can_read: false, can_write: true });
    const alice = await t.get('/isac/collections/', 'alice');
    expect(alice.body.collections.find((c: any) => c.alias === 'inbox')).toMatchObject({ can_read: false, can_write: true });
    expect((await t.get('/isac/collections/inbox/objects/', 'alice')).status).toBe(403);
    const post = await t.request('/isac/collections/energy/objects/', {
      member: 'alice',
      method: 'POST',
      headers: { accept: TAXII, 'content-type': TAXII },
      body: JSON.stringify({ objects: [indicator(99)] }),
    });
    expect(post.status).toBe(403);
  });
});
