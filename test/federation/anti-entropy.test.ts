/**
 * Anti-entropy between three relay nodes on a real 3-server NATS cluster (JetStream, mutual TLS,
 * loopback): a node that was down while the gossip stream lost what it missed (the stream purged,
 * as its retention expiring would) converges by reconciliation alone, with no duplicate; an
 * operator's delete at one node removes the object everywhere and it does not come back when a
 * node that was down during the delete rejoins; a node whose NATS server is stopped and started
 * again converges once the partition heals, without being restarted; unsigned or foreign
 * reconciliation messages are refused.
 */
import { type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastReconciliations } from '../../src/federation/anti-entropy.ts';
import { streamName } from '../../src/federation/gossip.ts';
import { MemoryItemSource } from '../../src/federation/item-source.ts';
import { encodeMessage, ReconcileSession } from '../../src/federation/reconcile.ts';
import { reconSubject, signRecon, verifyRecon, type ReconPayload } from '../../src/federation/recon-wire.ts';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { eventually } from '../support/eventually.ts';
import { TestFederation } from '../support/federated-node.ts';
import { COLLECTIONS } from '../support/node.ts';
import { indicator } from '../support/stix-fixtures.ts';

const FEDERATION = 'isac-recon';
const GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const NODES = ['relay-a', 'relay-b', 'relay-c'] as const;
type NodeName = (typeof NODES)[number];
const SHARED = COLLECTIONS.shared;

const federation = new TestFederation({
  dirPrefix: 'relay-anti-entropy-',
  name: FEDERATION,
  nodes: NODES,
  signers: ['intruder'] as const,
  tester: true,
  // each node reaches only its own server (no_advertise): stopping that server cuts the node off
  noAdvertise: true,
  configure: (data) => {
    // periodic rounds out of the way: the tests say when to reconcile (start, reconnect, on demand)
    data.federation.reconcile = { interval_seconds: 3600 };
  },
});
const { keys } = federation;
const node = (name: NodeName) => federation.node(name);

const store = (name: NodeName) => node(name).node.store;
const holds = (name: NodeName, id: string) => store(name).latestOf(SHARED, id) !== undefined;
const count = (name: NodeName) => store(name).index.count(SHARED);
const green = (n: number) => indicator(n, 0, { object_marking_refs: [GREEN] });
const ingest = (name: NodeName, objects: Array<Record<string, unknown>>) =>
  node(name).node.ingestor.ingest(SHARED, objects, { source: 'import', detail: 'anti-entropy test' });

/** What gossip left in the stream is gone, as when its retention (max_age, max_msgs) expires. */
async function expireStream(): Promise<void> {
  const jsm = await (federation.tester as NatsConnection).jetstreamManager();
  await jsm.streams.purge(streamName(FEDERATION));
  expect((await jsm.streams.info(streamName(FEDERATION))).state.messages).toBe(0);
}

beforeAll(() => federation.start(), 180_000);

afterAll(() => federation.close(), 120_000);

describe('anti-entropy on a 3-server NATS cluster', () => {
  it('a node down past the stream’s retention converges by reconciliation alone, with no duplicate', async () => {
    const early = [green(1), green(2), green(3)];
    ingest('relay-a', early);
    for (const name of NODES) await eventually(`${name} holds the early objects`, () => early.every((o) => holds(name, o.id as string)));
    const heldBefore = store('relay-c').latestOf(SHARED, early[0]?.id as string)?.dateAdded;

    await federation.stopNode('relay-c');
    const total = 3_000;
    const objects = Array.from({ length: total }, (_, i) => green(10_000 + i));
    expect(ingest('relay-a', objects).stored).toBe(total);
    await eventually('B holds what A stored', () => count('relay-b') === count('relay-a'), 120_000);
    await expireStream();

    await federation.startNode('relay-c');
    // the round at start brings everything: gossip has nothing left to deliver
    await eventually('C converged', () => count('relay-c') === count('relay-a'), 120_000);
    expect(count('relay-c')).toBe(early.length + total);
    for (const o of objects) {
      const versions = store('relay-c').versionsOf(SHARED, o.id as string);
      expect(versions).toHaveLength(1);
    }
    expect(node('relay-c').node.gossip?.counters().received.accepted).toBe(0);
    expect(node('relay-c').node.gossip?.counters().versions.duplicate).toBe(0);
    // what C held before keeps its date_added; what came carries provenance peer:<node>
    expect(store('relay-c').latestOf(SHARED, early[0]?.id as string)?.dateAdded).toBe(heldBefore);
    const last = objects[total - 1] as Record<string, unknown>;
    const key = store('relay-c').latestOf(SHARED, last.id as string)?.versionKey as string;
    expect(store('relay-c').provenanceOf(SHARED, last.id as string, key)).toEqual([
      expect.objectContaining({ source: 'peer', detail: expect.stringMatching(/^relay-[ab]$/) as unknown }),
    ]);
    // (the records kept before C stopped are replaced when its first round ends)
    await eventually('C finished its first round', () => (node('relay-c').node.antiEntropy?.counters().rounds ?? 0) >= 1);
    const diff = lastReconciliations(store('relay-c'))['relay-a'];
    expect(diff).toMatchObject({ ok: true, received: total, sent: 0 });
    expect(lastReconciliations(store('relay-c'))['relay-b']).toMatchObject({ ok: true, received: 0, sent: 0 });
    console.log(
      `anti-entropy: ${total} differences over NATS: ${diff?.rounds} round(s), ${diff?.bytes} bytes of signed session messages (${((diff?.bytes ?? 0) / total).toFixed(1)} per difference)`,
    );

    // the same sets: one round trip per collection, nothing sent either way
    await node('relay-c').node.antiEntropy?.reconcileNow();
    const noop = lastReconciliations(store('relay-c'))['relay-a'];
    expect(noop).toMatchObject({ ok: true, rounds: noop?.collections, sent: 0, received: 0 });
    console.log(
      `anti-entropy: no-op over NATS on ${count('relay-c')} versions: ${noop?.rounds} round(s) for ${noop?.collections} collections, ${noop?.bytes} bytes`,
    );
  }, 300_000);

  it('an object deleted at A disappears from B and C and does not come back when C, down during the delete, rejoins', async () => {
    const doomed = green(90_001);
    const kept = green(90_002);
    ingest('relay-a', [doomed, kept]);
    for (const name of NODES) await eventually(`${name} holds the object`, () => holds(name, doomed.id as string));
    const versionKey = stixTimestampKey(doomed.modified as string) as string;

    await federation.stopNode('relay-c');
    // a member with read and write access deletes it over TAXII at A
    const deleted = await node('relay-a').request(`/isac/collections/shared/objects/${doomed.id as string}/`, {
      method: 'DELETE',
      member: 'alice',
      headers: { accept: 'application/taxii+json;version=2.1' },
    });
    expect(deleted.status).toBe(200);
    expect(holds('relay-a', doomed.id as string)).toBe(false);
    await eventually('B deleted it', () => !holds('relay-b', doomed.id as string));
    expect(store('relay-b').reconItems.isTombstoned(SHARED, doomed.id as string, versionKey)).toBe(true);
    expect(node('relay-a').node.gossip?.counters().tombstones.published).toBe(1);
    await expireStream();

    // C comes back holding the version: reconciliation must not bring it back to A or B
    await federation.startNode('relay-c');
    await eventually('C deleted it', () => !holds('relay-c', doomed.id as string), 60_000);
    for (const name of NODES) await node(name).node.antiEntropy?.reconcileNow();
    for (const name of NODES) {
      expect(holds(name, doomed.id as string)).toBe(false);
      expect(holds(name, kept.id as string)).toBe(true);
      expect(store(name).reconItems.isTombstoned(SHARED, doomed.id as string, versionKey)).toBe(true);
    }
    // a copy arriving later from anywhere is refused
    const again = ingest('relay-b', [doomed]);
    expect(again.stored).toBe(0);
    expect(again.rejected).toBe(1);
  }, 240_000);

  it('a node whose NATS server is stopped and started again converges once the partition heals, without a restart', async () => {
    const before = count('relay-c');
    const objects = Array.from({ length: 200 }, (_, i) => green(95_000 + i));
    await federation.server('relay-c').restart(async () => {
      expect(ingest('relay-a', objects).stored).toBe(objects.length);
      await eventually('B holds them', () => objects.every((o) => holds('relay-b', o.id as string)), 60_000);
      expect(holds('relay-c', (objects[0] as Record<string, unknown>).id as string)).toBe(false);
      // and the stream lost them before C is back: only reconciliation can bring them
      await expireStream();
    });
    await eventually('C converged after the partition healed', () => count('relay-c') === before + objects.length, 120_000);
    for (const o of objects) expect(store('relay-c').versionsOf(SHARED, o.id as string)).toHaveLength(1);
  }, 240_000);

  it('reconciliation messages signed by an unknown key are refused and answered with nothing', async () => {
    const refusedBefore = node('relay-b').node.antiEntropy?.counters().refused ?? 0;
    const jws = await signRecon(
      {
        federation: FEDERATION,
        from: 'relay-a',
        to: 'relay-b',
        session: 'AAAAAAAAAAAAAAAAAAAAAA',
        n: 1,
        sentAt: new Date().toISOString(),
        kind: 'fetch',
        collection: SHARED,
      },
      keys.intruder,
    );
    const reply = await (federation.tester as NatsConnection)
      .request(reconSubject(FEDERATION, 'relay-b'), new TextEncoder().encode(jws), { timeout: 1_000 })
      .then(
        () => 'answered',
        () => 'no answer',
      );
    expect(reply).toBe('no answer');
    expect(node('relay-b').node.antiEntropy?.counters().refused).toBe(refusedBefore + 1);
  }, 60_000);

  it('a replayed first message and a message out of order are refused with a signed error', async () => {
    const session = 'BBBBBBBBBBBBBBBBBBBBBB';
    const ask = async (over: Partial<ReconPayload>): Promise<ReconPayload> => {
      const jws = await signRecon(
        {
          federation: FEDERATION,
          from: 'relay-a',
          to: 'relay-b',
          session,
          n: 1,
          sentAt: new Date().toISOString(),
          kind: 'step',
          collection: SHARED,
          ...over,
        },
        keys['relay-a'],
      );
      const m = await (federation.tester as NatsConnection).request(reconSubject(FEDERATION, 'relay-b'), new TextEncoder().encode(jws), {
        timeout: 5_000,
      });
      const trust = { peers: new Map([[keys['relay-b'].keyId, { nodeId: 'relay-b', ...keys['relay-b'] }]]), revoked: new Set<string>() };
      return verifyRecon(m.string(), { federation: FEDERATION, self: 'relay-a', trust });
    };
    const open = encodeMessage(new ReconcileSession(MemoryItemSource.of([])).open());
    expect(await ask({ recon: open })).toMatchObject({ kind: 'reply', n: 1, session });
    expect(await ask({ recon: open })).toMatchObject({ kind: 'error', error: 'session already used' });
    expect(await ask({ n: 3, kind: 'fetch' })).toMatchObject({ kind: 'error', error: expect.stringMatching(/out of order/) as unknown });
  }, 60_000);
});
