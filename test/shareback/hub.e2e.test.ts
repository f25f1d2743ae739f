/**
 * Share-back end to end, with the hub a real second relay node that has a writable inbox: what
 * members post reaches the hub anonymized per consent, clean objects at once, withheld fields
 * after approval, held objects only when approved, rejected ones never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowMicros } from '../../src/stix/time.ts';
import { heldAtHub, startForwardingRelay, startHub } from '../support/hub-pair.ts';
import { type TestMember, type TestNode } from '../support/node.ts';
import { memberIndicator, organization, postObjects } from './inbox-fixtures.ts';

const SHARE = '99999999-9999-4999-8999-999999999999';
const HUB_INBOX = '9999aaaa-9999-4999-8999-999999999999';
const ALICE_ORG = 'identity--a11ce000-0000-4000-8000-00000000d001';
const BOB_ORG = 'identity--b0b00000-0000-4000-8000-00000000d002';
const T0 = '2026-11-08T09:00:00.000Z';

const identity = (id: string, name: string) => organization(id, name, T0);
const indicator = (id: string, by: string, pattern: string, extra: Record<string, unknown> = {}) =>
  memberIndicator(id, by, pattern, T0, extra);

const aliceClean = indicator('indicator--a11ce000-0000-4000-8000-00000000d101', ALICE_ORG, "[ipv4-addr:value = '192.0.2.41']");
const aliceWithheld = indicator(
  'indicator--a11ce000-0000-4000-8000-00000000d102',
  ALICE_ORG,
  "[domain-name:value = 'pay-portal.example']",
  {
    description: 'Our analyst Maria Gonzalez (maria.gonzalez@gmail.com) saw it first.',
  },
);
const aliceHeld = {
  type: 'note',
  spec_version: '2.1',
  id: 'note--a11ce000-0000-4000-8000-00000000d103',
  created: T0,
  modified: T0,
  created_by_ref: ALICE_ORG,
  content: 'Card 4111 1111 1111 1111 of a customer was used by the actor.',
  object_refs: [aliceClean.id],
};
const bobClean = indicator('indicator--b0b00000-0000-4000-8000-00000000d201', BOB_ORG, "[ipv4-addr:value = '192.0.2.99']", {
  description: 'Scanner seen at Bob Ltd edge.',
});
const bobRejected = { ...aliceHeld, id: 'note--b0b00000-0000-4000-8000-00000000d202', created_by_ref: BOB_ORG, object_refs: [bobClean.id] };

let hub: TestNode;
let relayNode: TestNode;

beforeAll(async () => {
  hub = await startHub(HUB_INBOX);
  relayNode = await startForwardingRelay(hub, { share: SHARE }, (data) => {
    // alice consents to attribution towards the hub only; bob to none
    data.members[0].policy.attribution_consent = 'usg';
    data.members[0].identity_ids = [ALICE_ORG];
    for (const m of [data.members[0], data.members[1]]) m.grants.push({ api_root: 'isac', collection: 'share', read: false, write: true });
  });
}, 60_000);

afterAll(async () => {
  await relayNode?.close();
  await hub?.close();
});

async function share(member: TestMember, objects: unknown[]): Promise<string> {
  return ((await postObjects(relayNode, SHARE, member, objects)) as { id: string }).id;
}

/** Every version the hub's inbox holds, as parsed objects. */
const atHub = () => heldAtHub(hub, HUB_INBOX);

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}; the hub holds ${JSON.stringify(atHub().map((o) => o.id))}`);
}

function decide(objectId: string, verdict: 'approve' | 'reject'): void {
  const sb = relayNode.node.store.shareback;
  const item = sb.listReviews({ states: ['open'] }).find((r) => r.object.id === objectId);
  expect(item, `a review item for ${objectId}`).toBeDefined();
  sb.decide(item!.id, { verdict, by: 'hub-test', at: nowMicros() });
  relayNode.node.shareback.nudge();
}

describe('share-back reaches the hub', () => {
  it('clean objects arrive at once, attributed per consent; withheld fields and held objects do not', async () => {
    await share('alice', [identity(ALICE_ORG, 'Alice Corp'), aliceClean, aliceWithheld, aliceHeld]);
    await share('bob', [identity(BOB_ORG, 'Bob Ltd'), bobClean, bobRejected]);
    const objects = await until('the clean objects at the hub', () => {
      const all = atHub();
      return all.some((o) => o.pattern === aliceClean.pattern) &&
        all.some((o) => o.pattern === bobClean.pattern) &&
        all.some((o) => o.pattern === aliceWithheld.pattern)
        ? all
        : undefined;
    });
    // alice consented towards the hub: her clean object arrives as she sent it
    const alice = objects.find((o) => o.pattern === aliceClean.pattern);
    expect(alice).toEqual(aliceClean);
    // bob did not: re-issued under the relay's identity, his name scrubbed
    const bob = objects.find((o) => o.pattern === bobClean.pattern);
    expect(bob.id).not.toBe(bobClean.id);
    expect(bob.created_by_ref).not.toBe(BOB_ORG);
    expect(JSON.stringify(objects)).not.toContain('Bob');
    // the withheld description is not there; the held notes are not there
    const withheld = objects.filter((o) => o.pattern === aliceWithheld.pattern);
    expect(withheld).toHaveLength(1);
    expect(withheld[0].description).toBeUndefined();
    expect(objects.some((o) => o.type === 'note')).toBe(false);
    expect(JSON.stringify(objects)).not.toContain('maria.gonzalez');
  });

  it('approval sends the full version and the held note; a rejected note never leaves', async () => {
    decide(aliceWithheld.id, 'approve');
    decide(aliceHeld.id, 'approve');
    decide(bobRejected.id, 'reject');
    const objects = await until('the approved versions at the hub', () => {
      const all = atHub();
      const full = all.filter((o) => o.pattern === aliceWithheld.pattern);
      return full.length === 2 && all.some((o) => o.type === 'note') ? all : undefined;
    });
    const versions = objects.filter((o) => o.pattern === aliceWithheld.pattern);
    expect(new Set(versions.map((o) => o.id)).size).toBe(1);
    expect(versions.some((o) => String(o.description).includes('maria.gonzalez@gmail.com'))).toBe(true);
    const notes = objects.filter((o) => o.type === 'note');
    expect(notes).toHaveLength(1);
    expect(notes[0].content).toBe(aliceHeld.content);
    // once everything settled, the outbox sent every entry exactly once and nothing failed
    const sb = relayNode.node.store.shareback;
    await until('the outbox to settle', () => (sb.outboxCounts().pending === 0 ? true : undefined));
    expect(sb.outboxCounts().failed).toBe(0);
    const sent = sb.listOutbox({ state: 'sent' });
    expect(new Set(sent.map((e) => `${e.id}|${e.version}`)).size).toBe(sent.length);
    expect(sent.length).toBe(atHub().length);
    expect(sent.some((e) => e.id === bobRejected.id)).toBe(false);
  });
});
