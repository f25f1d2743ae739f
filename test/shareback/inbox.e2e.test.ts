/**
 * Share-back through a real node: a member posts to an inbox the OASIS way (POST an envelope,
 * poll the status), the processor checks, anonymizes and redistributes into the mirror other
 * members read; flagged fields and held objects wait for a reviewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowMicros } from '../../src/stix/time.ts';
import { COLLECTIONS, startTestNode, type TestMember, type TestNode } from '../support/node.ts';
import { memberIndicator, organization, postObjects } from './inbox-fixtures.ts';

const SHARE = '55555555-5555-4555-8555-555555555555';
const ALICE_ORG = 'identity--a11ce000-0000-4000-8000-000000000001';
const T0 = '2026-11-01T10:00:00.000Z';

const aliceIdentity = organization(ALICE_ORG, 'Alice Corp', T0);

function indicator(n: number, pattern: string, extra: Record<string, unknown> = {}) {
  return memberIndicator(`indicator--a11ce000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`, ALICE_ORG, pattern, T0, extra);
}

const clean = indicator(1, "[ipv4-addr:value = '203.0.113.77']", { name: 'C2 server seen by Alice Corp' });
const withContact = indicator(2, "[domain-name:value = 'login-paypa1.example']", {
  description: 'Reported by our analyst Jennifer Walters, reach her at jennifer.walters@gmail.com or +1 202 555 0143.',
});
const note = {
  type: 'note',
  spec_version: '2.1',
  id: 'note--a11ce000-0000-4000-8000-000000000301',
  created: T0,
  modified: T0,
  created_by_ref: ALICE_ORG,
  content: 'Victim employee SSN 078-05-1120 was exposed in the dump.',
  object_refs: [clean.id],
};

let t: TestNode;

beforeAll(async () => {
  t = await startTestNode((data) => {
    const root = data.api_roots[0];
    root.collections.push({ id: SHARE, alias: 'share', title: 'Share with the ISAC', kind: 'inbox', redistribute_to: 'shared' });
    data.members[0].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
    data.members[1].grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
  });
});

afterAll(async () => {
  await t?.close();
});

async function post(member: TestMember, objects: unknown[]): Promise<any> {
  return postObjects(t, SHARE, member, objects);
}

/** Polls a status (bounded) until `done` holds. */
async function pollStatus(id: string, done: (status: any) => boolean, member: TestMember = 'alice'): Promise<any> {
  let last: any;
  for (let i = 0; i < 300; i++) {
    const { status, body } = await t.get(`/isac/status/${id}/`, member);
    expect(status).toBe(200);
    last = body;
    if (done(body)) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`status ${id} did not settle: ${JSON.stringify(last)}`);
}

async function sharedObjects(member: TestMember = 'bob'): Promise<any[]> {
  const { status, body } = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/?match[version]=all`, member);
  expect(status).toBe(200);
  return body.objects ?? [];
}

/** STIX timestamps compared in time (precisions differ: "…00.000Z" is before "…00.000001Z"). */
function byVersion(a: string, b: string): number {
  const fraction = (ts: string) => `${ts.slice(0, 19)}.${(ts.slice(20, -1) + '000000').slice(0, 6)}`;
  return fraction(a).localeCompare(fraction(b));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a member shares through its inbox', () => {
  let statusId: string;

  it('answers 202 with a pending status that is already durable', async () => {
    const accepted = await post('alice', [aliceIdentity, clean, withContact, note]);
    statusId = accepted.id;
    expect(accepted.status).toBe('pending');
    expect(accepted.total_count).toBe(4);
    // the status resource is readable at once, by its owner only
    const own = await t.get(`/isac/status/${statusId}/`, 'alice');
    expect(own.status).toBe(200);
    const other = await t.get(`/isac/status/${statusId}/`, 'bob');
    expect(other.status).toBe(404);
  });

  it('settles clean and field-withheld objects at once and keeps the held note pending', async () => {
    const status = await pollStatus(statusId, (s) => s.pending_count === 1);
    expect(status.status).toBe('pending');
    expect(status.pendings.map((p: any) => p.id)).toEqual([note.id]);
    expect(status.pendings[0].message).toMatch(/held for review/);
    const successes = new Map(status.successes.map((s: any) => [s.id, s.message]));
    expect([...successes.keys()].sort()).toEqual([aliceIdentity.id, clean.id, withContact.id].sort());
    expect(successes.get(withContact.id)).toMatch(/released without description/);
  });

  it('redistributes anonymized objects to other members: no trace of the member, no personal data, nothing held', async () => {
    const objects = await sharedObjects();
    const text = JSON.stringify(objects);
    expect(text).not.toContain('Alice');
    expect(text).not.toContain(ALICE_ORG);
    expect(text).not.toContain('jennifer.walters');
    expect(text).not.toContain('078-05-1120');
    expect(objects.some((o) => o.type === 'note')).toBe(false);
    const byPattern = new Map(objects.filter((o) => o.type === 'indicator').map((o) => [o.pattern, o]));
    const cleanOut = byPattern.get(clean.pattern);
    const withheldOut = byPattern.get(withContact.pattern);
    expect(cleanOut).toBeDefined();
    expect(withheldOut).toBeDefined();
    // re-issued under the relay's identity: new ids, the relay as creator, its identity served too
    expect(cleanOut.id).not.toBe(clean.id);
    expect(cleanOut.created_by_ref).toMatch(/^identity--/);
    expect(objects.some((o) => o.id === cleanOut.created_by_ref && o.type === 'identity')).toBe(true);
    expect(withheldOut.description).toBeUndefined();
  });

  it('member without a grant cannot read the inbox, and the inbox objects never appear in the mirror as posted', async () => {
    const inbox = await t.get(`/isac/collections/${SHARE}/objects/`, 'bob');
    expect(inbox.status).toBe(403);
    const ids = (await sharedObjects('alice')).map((o) => o.id);
    for (const posted of [aliceIdentity, clean, withContact, note]) expect(ids).not.toContain(posted.id);
  });

  it('releases the withheld description as the next version after approval', async () => {
    const sb = t.node.store.shareback;
    const item = sb.listReviews({ states: ['open'] }).find((r) => r.object.id === withContact.id);
    expect(item?.decision).toBe('release-without');
    const decided = sb.decide(item!.id, { verdict: 'approve', by: 'test-reviewer', at: nowMicros() });
    expect('item' in decided).toBe(true);
    t.node.shareback.nudge();
    const versions = await until('the approved version', async () => {
      const all = (await sharedObjects()).filter((o) => o.pattern === withContact.pattern);
      return all.length === 2 ? all : undefined;
    });
    const [first, second] = versions.sort((a, b) => byVersion(a.modified, b.modified));
    expect(second.id).toBe(first.id);
    expect(first.description).toBeUndefined();
    expect(second.description).toContain('jennifer.walters@gmail.com');
    expect(sb.review(item!.id)?.state).toBe('approved');
  });

  it('never releases a rejected held object and completes the status with a failure', async () => {
    const sb = t.node.store.shareback;
    const item = sb.listReviews({ states: ['open'] }).find((r) => r.object.id === note.id);
    expect(item?.decision).toBe('hold');
    sb.decide(item!.id, { verdict: 'reject', by: 'test-reviewer', at: nowMicros(), note: 'victim data' });
    t.node.shareback.nudge();
    const status = await pollStatus(statusId, (s) => s.status === 'complete');
    expect(status.failures.map((f: any) => f.id)).toEqual([note.id]);
    expect(status.failures[0].message).toMatch(/rejected/);
    expect(sb.review(item!.id)?.state).toBe('rejected');
    expect((await sharedObjects()).some((o) => o.type === 'note')).toBe(false);
  });

  it('a re-post of the same versions is answered as duplicates and shares nothing twice', async () => {
    const before = (await sharedObjects()).length;
    const again = await post('alice', [clean]);
    expect(again.status).toBe('complete');
    expect(again.successes[0].message).toMatch(/duplicate/);
    expect(t.node.shareback.backlog().submissions).toBe(0);
    expect((await sharedObjects()).length).toBe(before);
  });

  it('a held object is released whole after approval and its status completes with success', async () => {
    const held = { ...note, id: 'note--a11ce000-0000-4000-8000-000000000302', content: 'Call 078-05-1120 holder.' };
    const accepted = await post('alice', [held]);
    await pollStatus(accepted.id, (s) => s.pending_count === 1);
    const sb = t.node.store.shareback;
    const item = sb.listReviews({ states: ['open'] }).find((r) => r.object.id === held.id);
    sb.decide(item!.id, { verdict: 'approve', by: 'test-reviewer', at: nowMicros() });
    t.node.shareback.nudge();
    const status = await pollStatus(accepted.id, (s) => s.status === 'complete');
    expect(status.successes.map((s: any) => s.id)).toEqual([held.id]);
    const notes = await until('the approved note', async () => {
      const found = (await sharedObjects()).filter((o) => o.type === 'note');
      return found.length === 1 ? found : undefined;
    });
    expect(notes[0].content).toBe(held.content);
    expect(notes[0].id).not.toBe(held.id);
  });
});
