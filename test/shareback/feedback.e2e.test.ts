/**
 * Feedback through share-back: an opinion a member posts about a hub indicator lands in the
 * mirror the hub's objects are in (the inbox's redistribute_to), so it joins that indicator's
 * opinion score for every member's min_opinion floor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, settled, startTestNode, type TestMember, type TestNode } from '../support/node.ts';
import { organization, postObjects, submissionsProcessed } from './inbox-fixtures.ts';

const FEEDBACK = '66666666-6666-4666-8666-666666666666';
const HUB_INDICATOR = 'indicator--0b0b0b0b-0000-4000-8000-00000000f001';
const T0 = '2026-11-02T08:00:00.000Z';
const T1 = '2026-11-03T08:00:00.000Z';

const hubIndicator = (modified: string) => ({
  type: 'indicator',
  spec_version: '2.1',
  id: HUB_INDICATOR,
  created: T0,
  modified,
  pattern: "[url:value = 'http://198.51.100.23/invoice.exe']",
  pattern_type: 'stix',
  valid_from: T0,
});

const BOB_ORG = 'identity--0b0b0b0b-0000-4000-8000-00000000b0b0';
const bobIdentity = organization(BOB_ORG, 'Bob Ltd', T0);

const opinion = {
  type: 'opinion',
  spec_version: '2.1',
  id: 'opinion--0b0b0b0b-0000-4000-8000-00000000f101',
  created: T1,
  modified: T1,
  created_by_ref: BOB_ORG,
  opinion: 'strongly-disagree',
  explanation: 'Benign CDN address: fired on every workstation, no malicious traffic.',
  object_refs: [HUB_INDICATOR],
};

let t: TestNode;

beforeAll(async () => {
  t = await startTestNode((data) => {
    data.api_roots[0].collections.push({ id: FEEDBACK, alias: 'feedback', title: 'Feedback', kind: 'inbox', redistribute_to: 'shared' });
    data.members[1].grants.push({ api_root: 'isac', collection: 'feedback', read: false, write: true });
    // carol reads the hub's objects, but only those the community does not disagree with
    data.members[2].policy.min_opinion = 3;
    data.members[2].grants.push({ api_root: 'isac', collection: 'shared', read: true, write: false });
  });
});

afterAll(async () => {
  await t?.close();
});

async function post(member: TestMember, collection: string, objects: unknown[]): Promise<any> {
  return postObjects(t, collection, member, objects);
}

async function ids(member: TestMember, query = ''): Promise<string[]> {
  const { status, body } = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/${query}`, member);
  expect(status).toBe(200);
  return (body.objects ?? []).map((o: any) => o.id);
}

describe('share-back feedback', () => {
  it('a strongly-disagree opinion posted through an inbox lowers the hub indicator below another member’s floor', async () => {
    // the hub's indicator, as a subscription would store it in the mirror
    await post('alice', COLLECTIONS.shared, [hubIndicator(T0)]);
    await settled(t);
    expect(await ids('carol')).toContain(HUB_INDICATOR);
    const bobBefore = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/`, 'bob');
    const bobCursor = bobBefore.headers.get('x-taxii-date-added-last');
    expect(bobCursor).toBeTruthy();

    const accepted = await post('bob', FEEDBACK, [bobIdentity, opinion]);
    await submissionsProcessed(t);
    await settled(t);
    const status = await t.get(`/isac/status/${accepted.id}/`, 'bob');
    expect(status.body.status).toBe('complete');
    expect(status.body.success_count).toBe(2);

    // carol's floor: the indicator is gone from every endpoint, like an unknown id
    expect(await ids('carol')).not.toContain(HUB_INDICATOR);
    const one = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/${HUB_INDICATOR}/`, 'carol');
    expect(one.status).toBe(404);

    // bob, polling from where it was, receives the anonymized opinion about the indicator
    const polled = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/?added_after=${bobCursor}`, 'bob');
    const opinions = (polled.body.objects ?? []).filter((o: any) => o.type === 'opinion');
    expect(opinions).toHaveLength(1);
    expect(opinions[0].object_refs).toEqual([HUB_INDICATOR]);
    expect(opinions[0].opinion).toBe('strongly-disagree');
    // anonymous (bob gave no consent): re-issued under the relay's identity, no trace of bob
    expect(opinions[0].id).not.toBe(opinion.id);
    expect(opinions[0].created_by_ref).not.toBe(BOB_ORG);
    expect(JSON.stringify(polled.body)).not.toContain('Bob');
  });

  it('the member whose floor the indicator no longer meets does not receive its next version; others do', async () => {
    await post('alice', COLLECTIONS.shared, [hubIndicator(T1)]);
    await settled(t);
    expect(await ids('carol', '?match[version]=all')).not.toContain(HUB_INDICATOR);
    const bob = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/${HUB_INDICATOR}/`, 'bob');
    expect(bob.status).toBe(200);
    expect(bob.body.objects.map((o: any) => o.modified)).toEqual([T1]);
  });
});
