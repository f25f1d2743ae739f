/**
 * Signed gossip envelopes with real Ed25519 keys: what a trusted peer signs is accepted once;
 * unknown and revoked keys, tampered payloads, replays, too many hops, malformed payloads, a key
 * signing for another node, another federation and our own echo are each rejected with their
 * reason and counted. The replay window accepts out-of-order numbers once each and stays bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENVELOPE_TYPE,
  EnvelopeVerifier,
  messageId,
  ReplayWindow,
  signEnvelope,
  type GossipEnvelope,
  type RejectionReason,
} from '../../src/federation/envelope.ts';
import {
  buildPeerTrust,
  initFederationIdentity,
  loadFederationIdentity,
  type FederationIdentity,
  type PeerTrust,
} from '../../src/federation/identity.ts';

let dir: string;
const ids: Record<'a' | 'b' | 'c' | 'd', FederationIdentity> = {} as never;
let trust: PeerTrust;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-federation-envelope-'));
  for (const name of ['a', 'b', 'c', 'd'] as const) {
    await initFederationIdentity(join(dir, name));
    ids[name] = await loadFederationIdentity(join(dir, name));
  }
  // node-a verifies; node-b and node-c are its peers; node-d is nobody it knows
  trust = await buildPeerTrust([
    { nodeId: 'node-b', publicKey: ids.b.publicKeyPem },
    { nodeId: 'node-c', publicKey: ids.c.publicKeyPem },
  ]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const indicator = {
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  created: '2024-05-01T10:00:00.000Z',
  modified: '2024-05-01T10:00:00.000Z',
  pattern: "[ipv4-addr:value = '198.51.100.7']",
  pattern_type: 'stix',
  valid_from: '2024-05-01T10:00:00Z',
};

function envelope(origin: string, seq: number, change: Partial<GossipEnvelope> = {}): GossipEnvelope {
  return {
    federation: 'isac-eu',
    origin,
    seq,
    hops: 0,
    sentAt: '2024-05-01T10:00:01.000Z',
    versions: [{ collection: 'indicators', id: indicator.id, version: '2024-05-01T10:00:00.000000000Z', json: JSON.stringify(indicator) }],
    tombstones: [],
    ...change,
  };
}

function verifier(change: Partial<ConstructorParameters<typeof EnvelopeVerifier>[0]> = {}): EnvelopeVerifier {
  return new EnvelopeVerifier({ federation: 'isac-eu', self: { nodeId: 'node-a', keyId: ids.a.keyId }, trust, ...change });
}

async function expectRejected(v: EnvelopeVerifier, jws: string, reason: RejectionReason): Promise<void> {
  const outcome = await v.verify(jws);
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(outcome.reason).toBe(reason);
  expect('envelope' in outcome).toBe(false);
}

/** Signs any payload bytes with a node's key and a correct header, bypassing signEnvelope's checks. */
function signRaw(payload: string, signer: FederationIdentity, alg = 'EdDSA'): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg, kid: signer.keyId, typ: ENVELOPE_TYPE })
    .sign(signer.privateKey);
}

describe('a gossip envelope', () => {
  it('signed by a trusted peer is accepted with its content and peer, and counted', async () => {
    const v = verifier();
    const sent = envelope('node-b', 1, {
      tombstones: [{ id: 'malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061', version: '2023-01-01T00:00:00.000000000Z' }],
    });
    const outcome = await v.verify(await signEnvelope(sent, ids.b));
    expect(outcome.ok).toBe(true);
    if (outcome.ok) {
      expect(outcome.envelope).toEqual(sent);
      expect(outcome.peer.nodeId).toBe('node-b');
    }
    expect(v.counters().accepted).toBe(1);
  });

  it('is published under the message id origin:seq', () => {
    expect(messageId(envelope('node-b', 42))).toBe('node-b:42');
  });

  it('signed by an unknown key is rejected', async () => {
    const v = verifier();
    await expectRejected(v, await signEnvelope(envelope('node-d', 1), ids.d), 'unknown-key');
  });

  it('signed by a revoked key is rejected, though the key is still listed as a peer', async () => {
    const v = verifier({ trust: { peers: trust.peers, revoked: new Set([ids.c.keyId]) } });
    await expectRejected(v, await signEnvelope(envelope('node-c', 1), ids.c), 'revoked-key');
  });

  it('with a byte of its payload flipped is rejected, and so is a changed signature or key id', async () => {
    const v = verifier();
    const jws = await signEnvelope(envelope('node-b', 1), ids.b);
    const [header, payload, signature] = jws.split('.') as [string, string, string];
    const bytes = Buffer.from(payload, 'base64url');
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await expectRejected(v, `${header}.${bytes.toString('base64url')}.${signature}`, 'bad-signature');

    const sig = Buffer.from(signature, 'base64url');
    sig[0]! ^= 0x80;
    await expectRejected(v, `${header}.${payload}.${sig.toString('base64url')}`, 'bad-signature');

    const otherKid = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: ids.c.keyId, typ: ENVELOPE_TYPE })).toString('base64url');
    await expectRejected(v, `${otherKid}.${payload}.${signature}`, 'bad-signature');

    // the untouched envelope still goes through: the rejections did not use up its sequence number
    expect((await v.verify(jws)).ok).toBe(true);
  });

  it('delivered twice is rejected the second time as a replay', async () => {
    const v = verifier();
    const jws = await signEnvelope(envelope('node-b', 7), ids.b);
    expect((await v.verify(jws)).ok).toBe(true);
    await expectRejected(v, jws, 'replay');
    // the same sequence number with other content is a replay too
    await expectRejected(v, await signEnvelope(envelope('node-b', 7, { hops: 1 }), ids.b), 'replay');
  });

  it('that travelled more hops than allowed is rejected', async () => {
    const v = verifier({ limits: { maxHops: 2 } });
    await expectRejected(v, await signEnvelope(envelope('node-b', 1, { hops: 3 }), ids.b), 'hop-limit');
    expect((await v.verify(await signEnvelope(envelope('node-b', 1, { hops: 2 }), ids.b))).ok).toBe(true);
  });

  it.each([
    ['not JSON', 'not json'],
    ['without a sequence number', JSON.stringify({ ...envelope('node-b', 1), seq: undefined })],
    ['with sequence number 0', JSON.stringify(envelope('node-b', 0))],
    [
      'with a version that is not a version key',
      JSON.stringify(envelope('node-b', 1, { versions: [{ id: indicator.id, version: '2024-05-01', json: '{}' }] })),
    ],
    [
      'with a bad STIX id',
      JSON.stringify(envelope('node-b', 1, { tombstones: [{ id: 'indicator-1', version: '2024-05-01T10:00:00.000000000Z' }] })),
    ],
    ['with no items', JSON.stringify(envelope('node-b', 1, { versions: [] }))],
    ['with an unknown field', JSON.stringify({ ...envelope('node-b', 1), extra: true })],
  ])('signed by a trusted peer but %s is rejected as malformed', async (_, payload) => {
    const v = verifier();
    await expectRejected(v, await signRaw(payload, ids.b), 'malformed');
  });

  it('with more items than the limit is rejected as malformed', async () => {
    const v = verifier({ limits: { maxItems: 2 } });
    const tombstone = (n: number) => ({
      id: `tool--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      version: '2024-01-01T00:00:00.000000000Z',
    });
    const big = envelope('node-b', 1, { versions: [], tombstones: [tombstone(1), tombstone(2), tombstone(3)] });
    await expectRejected(v, await signRaw(JSON.stringify(big), ids.b), 'malformed');
  });

  it('that is not a JWS, or uses another algorithm, is rejected as malformed', async () => {
    const v = verifier();
    await expectRejected(v, 'hello', 'malformed');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(envelope('node-b', 1))).toString('base64url')}.`;
    await expectRejected(v, none, 'malformed');
  });

  it('larger than the limit is rejected before it is parsed', async () => {
    const v = verifier({ limits: { maxBytes: 200 } });
    await expectRejected(v, await signEnvelope(envelope('node-b', 1), ids.b), 'too-large');
  });

  it("signed by one peer's key for another node is rejected", async () => {
    const v = verifier();
    await expectRejected(v, await signEnvelope(envelope('node-c', 1), ids.b), 'wrong-origin');
  });

  it('of another federation is rejected as not for us', async () => {
    const v = verifier();
    await expectRejected(v, await signEnvelope(envelope('node-b', 1, { federation: 'isac-us' }), ids.b), 'not-for-us');
  });

  it('signed by this node (echoed back by the stream) is dropped', async () => {
    const v = verifier();
    await expectRejected(v, await signEnvelope(envelope('node-a', 1), ids.a), 'from-self');
  });

  it('each rejection is counted under its reason', async () => {
    const v = verifier({ trust: { peers: trust.peers, revoked: new Set([ids.c.keyId]) } });
    const accepted = await signEnvelope(envelope('node-b', 1), ids.b);
    await v.verify(accepted);
    await v.verify(accepted);
    await v.verify(await signEnvelope(envelope('node-d', 1), ids.d));
    await v.verify(await signEnvelope(envelope('node-c', 1), ids.c));
    await v.verify('garbage');
    expect(v.counters()).toEqual({
      accepted: 1,
      replay: 1,
      'unknown-key': 1,
      'revoked-key': 1,
      malformed: 1,
      'too-large': 0,
      'from-self': 0,
      'bad-signature': 0,
      'wrong-origin': 0,
      'not-for-us': 0,
      'hop-limit': 0,
    });
  });

  it('is not signed when it would not pass the checks itself', async () => {
    await expect(signEnvelope(envelope('node-b', 1, { versions: [] }), ids.b)).rejects.toThrow(/at least one version or tombstone/);
    await expect(signEnvelope(envelope('node-b', 1), ids.b, { maxBytes: 100, maxItems: 10, maxHops: 4 })).rejects.toThrow(/exceeds 100/);
  });
});

describe('the replay window', () => {
  it('accepts out-of-order sequence numbers once each', async () => {
    const v = verifier();
    for (const seq of [3, 1, 2, 5, 4]) expect((await v.verify(await signEnvelope(envelope('node-b', seq), ids.b))).ok).toBe(true);
    for (const seq of [1, 3, 5]) await expectRejected(v, await signEnvelope(envelope('node-b', seq), ids.b), 'replay');
    expect(v.replay.state()).toEqual({ origins: { 'node-b': { floor: 5, seen: [] } } });
  });

  it('keeps origins apart', () => {
    const w = new ReplayWindow();
    w.record('node-b', 1);
    expect(w.seen('node-b', 1)).toBe(true);
    expect(w.seen('node-c', 1)).toBe(false);
  });

  it('holds at most its size above the floor, giving up the oldest gaps', () => {
    const w = new ReplayWindow(8);
    for (let seq = 2; seq <= 100; seq++) w.record('node-b', seq); // 1 never arrives
    const { floor, seen } = w.state().origins['node-b']!;
    expect(floor).toBe(100);
    expect(seen).toEqual([]);
    expect(w.seen('node-b', 1)).toBe(true); // given up: refused, anti-entropy brings its versions

    const g = new ReplayWindow(4);
    for (const seq of [10, 12, 14, 16, 18, 20]) g.record('node-b', seq);
    const state = g.state().origins['node-b']!;
    expect(state.seen.length).toBeLessThanOrEqual(4);
    expect(state.seen).toEqual([14, 16, 18, 20]);
    expect(state.floor).toBe(12);
    expect(g.seen('node-b', 11)).toBe(true);
    expect(g.seen('node-b', 13)).toBe(false);
  });

  it('restored from its saved state decides the same', () => {
    const w = new ReplayWindow(16);
    for (const seq of [1, 2, 3, 9, 7, 30]) w.record('node-b', seq);
    const restored = new ReplayWindow(16, JSON.parse(JSON.stringify(w.state())));
    for (let seq = 0; seq <= 40; seq++) expect(restored.seen('node-b', seq)).toBe(w.seen('node-b', seq));
  });

  it('never accepts a number twice, never exceeds its size, and accepts every number reordered less than its size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 400 }), (size, arrivals) => {
        const w = new ReplayWindow(size);
        const accepted = new Set<number>();
        for (const seq of arrivals) {
          if (w.seen('o', seq)) continue;
          expect(accepted.has(seq)).toBe(false);
          accepted.add(seq);
          w.record('o', seq);
          expect(w.state().origins.o!.seen.length).toBeLessThanOrEqual(size);
        }
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 32 }), fc.integer({ min: 1, max: 200 }), fc.integer(), (size, count, seed) => {
        // 1..count, each block of `size` numbers shuffled: no number arrives `size` or more places late
        const arrivals: number[] = [];
        for (let start = 1; start <= count; start += size) {
          const block = Array.from({ length: Math.min(size, count - start + 1) }, (_, i) => start + i);
          let s = seed;
          for (let i = block.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [block[i], block[j]] = [block[j]!, block[i]!];
          }
          arrivals.push(...block);
        }
        const w = new ReplayWindow(size);
        for (const seq of arrivals) {
          expect(w.seen('o', seq)).toBe(false);
          w.record('o', seq);
        }
        expect(w.state().origins.o).toEqual({ floor: count, seen: [] });
      }),
    );
  });
});
