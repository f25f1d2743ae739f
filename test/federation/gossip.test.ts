/**
 * Gossip between three relay nodes on a real 3-server NATS cluster (JetStream, mutual TLS,
 * loopback): what one node stores reaches the others and each node's members see it under that
 * node's policy; RED stays home; a node that was stopped catches up from its durable consumer
 * with no duplicate; a re-delivered version is a duplicate; envelopes signed by an unknown key or
 * a revoked key, a tampered one and replayed ones are rejected, counted, and store nothing.
 */
import { type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEnvelope, type GossipEnvelope } from '../../src/federation/envelope.ts';
import { consumerName, gossipSubject, streamName } from '../../src/federation/gossip.ts';
import { heartbeatSubject, signHeartbeat, type Heartbeat } from '../../src/federation/membership.ts';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { eventually } from '../support/eventually.ts';
import { TestFederation } from '../support/federated-node.ts';
import { COLLECTIONS } from '../support/node.ts';
import { indicator } from '../support/stix-fixtures.ts';

const FEDERATION = 'isac-test';
const TLP = {
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};
const NODES = ['relay-a', 'relay-b', 'relay-c'] as const;
type NodeName = (typeof NODES)[number];

const federation = new TestFederation({
  dirPrefix: 'relay-gossip-',
  name: FEDERATION,
  nodes: NODES,
  signers: ['tester', 'intruder', 'retired'] as const,
  tester: true,
  configure: (data, name) => {
    // node B's members read up to GREEN only: what B receives is served under B's policy
    if (name === 'relay-b') for (const m of data.members) m.policy = { tlp_ceiling: 'green' };
    data.federation.peers.push(
      { id: 'relay-tester', public_key: federation.keys.tester.publicKeyPem },
      { id: 'relay-retired', public_key: federation.keys.retired.publicKeyPem },
    );
    data.federation.revoked_keys = [federation.keys.retired.keyId];
  },
});
const { keys } = federation;
const node = (name: NodeName) => federation.node(name);

const holds = (name: NodeName, id: string) => node(name).node.store.latestOf(COLLECTIONS.shared, id) !== undefined;
const count = (name: NodeName) => node(name).node.store.index.count(COLLECTIONS.shared);
const ingest = (name: NodeName, objects: Array<Record<string, unknown>>) =>
  node(name).node.ingestor.ingest(COLLECTIONS.shared, objects, { source: 'import', detail: 'gossip test' });

/**
 * Waits (bounded) until gossip is quiet: every node's consumer has nothing pending or unacknowledged
 * and the stream's message count stayed the same over three looks. Returns that count.
 */
async function quietStreamMessages(): Promise<number> {
  const jsm = await (federation.tester as NatsConnection).jetstreamManager();
  let last = -1;
  let same = 0;
  for (let look = 0; look < 600; look++) {
    const messages = (await jsm.streams.info(streamName(FEDERATION))).state.messages;
    const consumers = await Promise.all(federation.nodes().map(([n]) => jsm.consumers.info(streamName(FEDERATION), consumerName(n))));
    const idle = consumers.every((c) => c.num_pending === 0 && c.num_ack_pending === 0);
    same = idle && messages === last ? same + 1 : 0;
    if (same >= 3) return messages;
    last = messages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('gossip did not become quiet');
}

async function visibleIds(name: NodeName): Promise<Set<string>> {
  const ids = new Set<string>();
  let next: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await node(name).get(`/isac/collections/${COLLECTIONS.shared}/objects/?limit=200${next ? `&next=${next}` : ''}`, 'alice');
    expect(res.status).toBe(200);
    for (const o of (res.body as { objects?: Array<{ id: string }> }).objects ?? []) ids.add(o.id);
    next = (res.body as { more?: boolean; next?: string }).more ? (res.body as { next: string }).next : undefined;
    if (!next) break;
  }
  return ids;
}

beforeAll(() => federation.start(), 180_000);

afterAll(() => federation.close(), 120_000);

describe('gossip on a 3-server NATS cluster', () => {
  it('objects stored at any node reach the other two, served under each node’s own policy; RED stays home', async () => {
    let n = 1;
    const byOrigin = new Map<NodeName, { green: string; amber: string; red: string }>();
    for (const origin of NODES) {
      const green = indicator(n++, 0, { object_marking_refs: [TLP.green] });
      const amber = indicator(n++, 0, { object_marking_refs: [TLP.amber] });
      const red = indicator(n++, 0, { object_marking_refs: [TLP.red] });
      expect(ingest(origin, [red]).stored).toBe(1);
      expect(ingest(origin, [green, amber]).stored).toBe(2);
      byOrigin.set(origin, { green: green.id as string, amber: amber.id as string, red: red.id as string });
    }
    for (const [origin, ids] of byOrigin) {
      for (const other of NODES.filter((x) => x !== origin)) {
        await eventually(`${other} holds ${origin}'s objects`, () => holds(other, ids.green) && holds(other, ids.amber));
      }
    }
    // RED was withheld by each origin before anything else was published, and is nowhere else
    for (const [origin, ids] of byOrigin) {
      for (const other of NODES) expect(holds(other, ids.red)).toBe(other === origin);
      expect(node(origin).node.gossip?.counters().withheld.red).toBe(1);
    }
    // nothing a node received went out again: one envelope per origin (RED withheld), no loop
    expect(await quietStreamMessages()).toBe(3);
    // provenance names the peer; each node published only its own two versions
    const fromA = byOrigin.get('relay-a') as { green: string };
    const onB = node('relay-b').node.store.latestOf(COLLECTIONS.shared, fromA.green);
    expect(node('relay-b').node.store.provenanceOf(COLLECTIONS.shared, fromA.green, onB?.versionKey as string)).toEqual([
      expect.objectContaining({ source: 'peer', detail: 'relay-a' }),
    ]);
    for (const name of NODES) {
      const counters = node(name).node.gossip?.counters();
      expect(counters?.published.versions).toBe(2);
      expect(counters?.versions.stored).toBe(4);
      expect(counters?.received.accepted).toBe(2);
      // the same figures in the node's metrics (what /metrics serves to admins)
      const metrics = await node(name).node.metrics.text();
      expect(metrics).toContain('relay_federation_connected 1');
      expect(metrics).toContain('relay_federation_events{name="published_versions"} 2');
      expect(metrics).toContain('relay_federation_events{name="versions_stored"} 4');
      expect(metrics).toContain('relay_federation_events{name="reconciliation_set_in_force"} 1');
      expect(metrics).toMatch(/relay_objects_ingested_total\{source="peer",collection="[^"]+"\} 4/);
    }
    // members: B's alice reads GREEN only, C's alice reads up to AMBER
    const seenAtB = await visibleIds('relay-b');
    const seenAtC = await visibleIds('relay-c');
    for (const ids of byOrigin.values()) {
      expect(seenAtB.has(ids.green)).toBe(true);
      expect(seenAtB.has(ids.amber)).toBe(false);
      expect(seenAtC.has(ids.green)).toBe(true);
      expect(seenAtC.has(ids.amber)).toBe(true);
    }
  }, 120_000);

  it('a node stopped while objects are stored elsewhere catches up from its durable consumer, with no duplicate', async () => {
    const before = count('relay-c');
    const heldBefore = node('relay-c').node.store.latestOf(COLLECTIONS.shared, indicator(1).id as string);
    await federation.stopNode('relay-c');
    const total = 10_000;
    const objects = Array.from({ length: total }, (_, i) => indicator(10_000 + i, 0, { object_marking_refs: [TLP.green] }));
    expect(ingest('relay-a', objects).stored).toBe(total);
    await eventually('B holds what A stored', () => holds('relay-b', objects[total - 1]?.id as string), 120_000);

    await federation.startNode('relay-c');
    await eventually('C caught up', () => count('relay-c') >= before + total, 120_000);
    expect(count('relay-c')).toBe(before + total);
    expect(count('relay-b')).toBe(count('relay-c'));
    for (const o of objects) expect(node('relay-c').node.store.versionsOf(COLLECTIONS.shared, o.id as string)).toHaveLength(1);
    // what C held before keeps its date_added
    expect(node('relay-c').node.store.latestOf(COLLECTIONS.shared, indicator(1).id as string)?.dateAdded).toBe(heldBefore?.dateAdded);
    expect(node('relay-c').node.gossip?.counters().versions.duplicate).toBe(0);
  }, 240_000);
});

describe('what receivers refuse', () => {
  let seq = 0;
  const envelopeOf = (objects: Array<Record<string, unknown>>, signer: NodeName | 'tester' | 'intruder' | 'retired', at = ++seq) => {
    const origin = `relay-${signer.replace(/^relay-/, '')}`;
    const envelope: GossipEnvelope = {
      federation: FEDERATION,
      origin,
      seq: at,
      hops: 0,
      sentAt: new Date().toISOString(),
      versions: objects.map((o) => ({
        collection: COLLECTIONS.shared,
        id: o.id as string,
        version: stixTimestampKey(o.modified as string) as string,
        json: JSON.stringify(o),
      })),
      tombstones: [],
    };
    return signEnvelope(envelope, keys[signer]);
  };
  const publish = async (jws: string, id?: string) => {
    const js = (federation.tester as NatsConnection).jetstream();
    await js.publish(gossipSubject(FEDERATION, 'relay-tester'), new TextEncoder().encode(jws), id ? { msgID: id } : {});
  };
  const received = (name: NodeName) => node(name).node.gossip?.counters().received;

  it('a re-delivered version is a duplicate: no new version, the same date_added', async () => {
    const o = indicator(1, 0, { object_marking_refs: [TLP.green] });
    const held = NODES.map((name) => node(name).node.store.latestOf(COLLECTIONS.shared, o.id as string)?.dateAdded);
    const marker = indicator(50_000, 0, { object_marking_refs: [TLP.green] });
    await publish(await envelopeOf([o, marker], 'tester'));
    for (const name of NODES) await eventually(`${name} received the marker`, () => holds(name, marker.id as string));
    NODES.forEach((name, i) => {
      expect(node(name).node.store.versionsOf(COLLECTIONS.shared, o.id as string)).toHaveLength(1);
      expect(node(name).node.store.latestOf(COLLECTIONS.shared, o.id as string)?.dateAdded).toBe(held[i]);
    });
  }, 60_000);

  it('an unknown key, a revoked key, a tampered payload and replayed envelopes are rejected, counted, and store nothing', async () => {
    const intruder = indicator(60_001, 0, { object_marking_refs: [TLP.green] });
    const retired = indicator(60_002, 0, { object_marking_refs: [TLP.green] });
    const tampered = indicator(60_003, 0, { object_marking_refs: [TLP.green] });
    const reused = indicator(60_004, 0, { object_marking_refs: [TLP.green] });
    const original = indicator(60_005, 0, { object_marking_refs: [TLP.green] });
    const marker = indicator(60_006, 0, { object_marking_refs: [TLP.green] });
    const counts = new Map(NODES.map((name) => [name, { ...received(name) }]));

    await publish(await envelopeOf([intruder], 'intruder', 1));
    await publish(await envelopeOf([retired], 'retired', 1));
    // a valid envelope of the tester, its payload changed to carry another object (signature kept)
    const genuine = await envelopeOf([indicator(60_007, 0, { object_marking_refs: [TLP.green] })], 'tester');
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const changed = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { versions: Array<{ id: string; json: string }> };
    changed.versions = [
      { ...(changed.versions[0] as { id: string; json: string }), id: tampered.id as string, json: JSON.stringify(tampered) },
    ];
    await publish(`${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`);
    // an envelope accepted once, then the same bytes again (under another message id, past JetStream's de-duplication) …
    const once = await envelopeOf([original], 'tester');
    await publish(once, 'first');
    await publish(once, 'second');
    // … and its sequence number reused for a different object
    await publish(await envelopeOf([reused], 'tester', seq));
    await publish(await envelopeOf([marker], 'tester'));

    for (const name of NODES) {
      await eventually(`${name} received the marker`, () => holds(name, marker.id as string));
      const before = counts.get(name) as Record<string, number>;
      const after = received(name) as Record<string, number>;
      const added = (reason: string) => (after[reason] ?? 0) - (before[reason] ?? 0);
      expect(added('unknown-key')).toBe(1);
      expect(added('revoked-key')).toBe(1);
      expect(added('bad-signature')).toBe(1);
      expect(added('replay')).toBe(2);
      expect(added('accepted')).toBe(2);
      expect(holds(name, original.id as string)).toBe(true);
      for (const refused of [intruder, retired, tampered, reused]) expect(holds(name, refused.id as string)).toBe(false);
      expect(node(name).node.store.versionsOf(COLLECTIONS.shared, original.id as string)).toHaveLength(1);
    }
  }, 60_000);
  it("a heartbeat forged for another node is refused and counted, and that node's own heartbeats still stand", async () => {
    const forged = (by: string): Heartbeat => ({
      v: 1,
      federation: FEDERATION,
      node: by,
      sentAt: new Date().toISOString(),
      intervalMs: 1000,
      versions: { [COLLECTIONS.shared]: 999_999 },
      gossipSequence: 0,
      leases: [],
    });
    const refused = (name: NodeName) => ({ ...node(name).node.membership?.counters().refused });
    const before = refused('relay-a');
    const subject = heartbeatSubject(FEDERATION, 'relay-b');
    const nc = federation.tester as NatsConnection;
    nc.publish(subject, await signHeartbeat(forged('relay-b'), keys.intruder)); // a key nobody trusts
    nc.publish(subject, await signHeartbeat(forged('relay-b'), keys.tester)); // a peer's key speaking for relay-b
    nc.publish(subject, JSON.stringify(forged('relay-b'))); // not signed at all
    await nc.flush();
    const added = (reason: string) =>
      ((refused('relay-a') as Record<string, number>)[reason] ?? 0) - ((before as Record<string, number>)[reason] ?? 0);
    await eventually(
      'relay-a refused the three forged heartbeats',
      () => added('unknown-key') + added('wrong-node') + added('malformed') === 3,
    );
    expect([added('unknown-key'), added('wrong-node'), added('malformed')]).toEqual([1, 1, 1]);
    const metrics = await node('relay-a').node.metrics.text();
    expect(metrics).toMatch(/relay_federation_events\{name="heartbeats_refused_wrong-node"\} [1-9]/);
    // relay-b's next genuine heartbeat is recorded; nothing forged ever was
    const recordedB = () =>
      node('relay-a').node.store.resources.setting('federation-peers')?.['relay-b']?.heartbeat as Heartbeat | undefined;
    await eventually('a genuine heartbeat of relay-b is recorded', () => recordedB() !== undefined);
    expect(recordedB()?.versions[COLLECTIONS.shared]).not.toBe(999_999);
  }, 60_000);
});
