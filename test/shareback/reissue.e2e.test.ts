/**
 * Deterministic re-issue across the federation: two nodes anonymize the same shared object to
 * the same id, and the member's next version maps to the next version of the re-issued object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, startTestNode, type TestNode } from '../support/node.ts';
import { organization, postObjects, submissionsProcessed } from './inbox-fixtures.ts';

const SHARE = '77777777-7777-4777-8777-777777777777';
const ALICE_ORG = 'identity--a11ce000-0000-4000-8000-00000000a001';
const T0 = '2026-11-05T12:00:00.000Z';
const T1 = '2026-11-06T12:00:00.000Z';

const aliceIdentity = organization(ALICE_ORG, 'Alice Corp', T0);
const malware = (modified: string, description: string) => ({
  type: 'malware',
  spec_version: '2.1',
  id: 'malware--a11ce000-0000-4000-8000-00000000a101',
  created: T0,
  modified,
  created_by_ref: ALICE_ORG,
  name: 'GlassLoader',
  is_family: true,
  description,
});

const nodes: TestNode[] = [];

beforeAll(async () => {
  for (const title of ['Relay east', 'Relay west']) {
    nodes.push(
      await startTestNode((data) => {
        data.node.title = title;
        data.shareback = { federation: 'example-isac' };
        data.api_roots[0].collections.push({ id: SHARE, alias: 'share', title: 'Share', kind: 'inbox', redistribute_to: 'shared' });
        data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
      }),
    );
  }
});

afterAll(async () => {
  for (const n of nodes) await n.close();
});

async function share(t: TestNode, objects: unknown[]): Promise<void> {
  await postObjects(t, SHARE, 'alice', objects);
  await submissionsProcessed(t);
}

async function redistributed(t: TestNode): Promise<any[]> {
  const { body } = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/?match[type]=malware&match[version]=all`, 'bob');
  return body.objects ?? [];
}

describe('re-issued ids across nodes', () => {
  it('two nodes of one federation re-issue the same shared object under the same id and version', async () => {
    for (const t of nodes) await share(t, [aliceIdentity, malware(T0, 'Loader sold on forums.')]);
    const [east = [], west = []] = await Promise.all(nodes.map(redistributed));
    expect(east).toHaveLength(1);
    expect(west).toHaveLength(1);
    expect(east[0].id).not.toBe(malware(T0, '').id);
    expect(east[0].id).toBe(west[0].id);
    expect(east[0].created_by_ref).toBe(west[0].created_by_ref);
    expect(east[0].modified).toBe(west[0].modified);
  });

  it("the member's next version becomes the next version of the re-issued object", async () => {
    const t = nodes[0]!;
    await share(t, [malware(T1, 'Loader sold on forums; new C2 protocol.')]);
    const versions = await redistributed(t);
    expect(versions).toHaveLength(2);
    expect(new Set(versions.map((v) => v.id)).size).toBe(1);
    expect(versions.map((v) => v.description).sort()).toEqual(['Loader sold on forums.', 'Loader sold on forums; new C2 protocol.']);
  });
});
