/**
 * What `relay peers` makes of the peers' recorded heartbeats (pure), and which received
 * heartbeats are recorded: signed by the peer's own key (real Ed25519 keys), fresh, newer than
 * the last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPeerTrust,
  initFederationIdentity,
  loadFederationIdentity,
  type FederationIdentity,
  type PeerTrust,
} from '../../src/federation/identity.ts';
import {
  checkHeartbeat,
  parseHeartbeat,
  peerState,
  peerViews,
  signHeartbeat,
  type Heartbeat,
  type HeartbeatContext,
} from '../../src/federation/membership.ts';

const heartbeat = (node: string, versions: Record<string, number>): Heartbeat => ({
  v: 1,
  federation: 'f',
  node,
  sentAt: '2030-01-01T00:00:00.000Z',
  intervalMs: 1000,
  versions,
  gossipSequence: 7,
  leases: ['upstream:hub/feed/c1'],
});

describe('peer membership', () => {
  it('a peer is up within three intervals of its last heartbeat, stale up to ten, then down', () => {
    expect(peerState(null, 1000, 10_000)).toBe('never-seen');
    expect(peerState(10_000, 1000, 13_000)).toBe('up');
    expect(peerState(10_000, 1000, 13_001)).toBe('stale');
    expect(peerState(10_000, 1000, 20_000)).toBe('stale');
    expect(peerState(10_000, 1000, 20_001)).toBe('down');
  });

  it('shows per collection how many versions a peer is ahead or behind, and its last reconciliation', () => {
    const now = Date.parse('2030-01-01T00:00:02Z');
    const views = peerViews(
      ['b', 'c'],
      { b: { heartbeat: heartbeat('b', { c1: 12, c2: 3 }), receivedAt: '2030-01-01T00:00:01.000Z' } },
      { c1: 10, c2: 5 },
      {
        b: {
          at: '2030-01-01T00:00:00.000Z',
          ok: true,
          collections: 2,
          rounds: 3,
          bytes: 900,
          sent: 1,
          received: 4,
          durationMs: 12,
        },
      },
      now,
    );
    expect(views).toEqual([
      {
        id: 'b',
        lastSeen: '2030-01-01T00:00:01.000Z',
        state: 'up',
        versions: { c1: { peer: 12, local: 10, difference: 2 }, c2: { peer: 3, local: 5, difference: -2 } },
        gossipSequence: 7,
        leases: ['upstream:hub/feed/c1'],
        lastReconciliation: '2030-01-01T00:00:00.000Z',
        reconciliation: { ok: true, sent: 1, received: 4, rounds: 3, bytes: 900 },
      },
      {
        id: 'c',
        lastSeen: null,
        state: 'never-seen',
        versions: { c1: { peer: null, local: 10, difference: null }, c2: { peer: null, local: 5, difference: null } },
        gossipSequence: null,
        leases: [],
        lastReconciliation: 'never',
        reconciliation: null,
      },
    ]);
  });

  it('refuses heartbeat payloads that miss fields or carry unknown ones', () => {
    const good = heartbeat('b', { c1: 1 });
    expect(parseHeartbeat(good)).toEqual(good);
    expect(parseHeartbeat({ ...good, node: undefined })).toBeUndefined();
    expect(parseHeartbeat({ ...good, extra: 1 })).toBeUndefined();
    expect(parseHeartbeat('{')).toBeUndefined();
  });
});

describe('received heartbeats', () => {
  let dir: string;
  const ids = {} as Record<'b' | 'c' | 'intruder', FederationIdentity>;
  let trust: PeerTrust;
  const now = Date.parse('2030-01-01T00:00:00.500Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-heartbeat-'));
    for (const name of ['b', 'c', 'intruder'] as const) {
      await initFederationIdentity(join(dir, name));
      ids[name] = await loadFederationIdentity(join(dir, name));
    }
    trust = await buildPeerTrust(
      [
        { nodeId: 'b', publicKey: ids.b.publicKeyPem },
        { nodeId: 'c', publicKey: ids.c.publicKeyPem },
      ],
      [],
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const context = (change: Partial<HeartbeatContext> = {}): HeartbeatContext => ({
    federation: 'f',
    peers: new Set(['b', 'c']),
    trust,
    subjectNode: 'b',
    ...change,
  });
  const bytes = (jws: string) => new TextEncoder().encode(jws);
  const signed = async (hb: Heartbeat, by: FederationIdentity = ids.b) => bytes(await signHeartbeat(hb, by));

  it("a peer's heartbeat signed with its key is accepted as it was sent", async () => {
    const hb = heartbeat('b', { c1: 3 });
    expect(await checkHeartbeat(await signed(hb), context(), now)).toEqual({ ok: true, heartbeat: hb });
  });

  it('an unsigned heartbeat, an unknown or revoked key, and a tampered payload are refused', async () => {
    const hb = heartbeat('b', { c1: 3 });
    const refusal = async (data: Uint8Array, ctx = context()) => {
      const checked = await checkHeartbeat(data, ctx, now);
      return checked.ok ? 'accepted' : checked.reason;
    };
    expect(await refusal(bytes(JSON.stringify(hb)))).toBe('malformed');
    expect(await refusal(await signed(hb, ids.intruder))).toBe('unknown-key');
    const revoked = await buildPeerTrust([{ nodeId: 'b', publicKey: ids.b.publicKeyPem }], [ids.b.keyId]);
    expect(await refusal(await signed(hb), context({ trust: revoked }))).toBe('revoked-key');
    const [header, , signature] = (await signHeartbeat(hb, ids.b)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...hb, versions: { c1: 999_999 } })).toString('base64url');
    expect(await refusal(bytes(`${header}.${forged}.${signature}`))).toBe('bad-signature');
  });

  it("a peer's key cannot speak for another node, and other federations and unknown nodes are refused", async () => {
    const reason = async (data: Uint8Array, ctx: HeartbeatContext) => {
      const checked = await checkHeartbeat(data, ctx, now);
      return checked.ok ? 'accepted' : checked.reason;
    };
    expect(await reason(await signed(heartbeat('c', {}), ids.b), context({ subjectNode: 'c' }))).toBe('wrong-node');
    expect(await reason(await signed(heartbeat('b', {})), context({ subjectNode: 'c' }))).toBe('wrong-node');
    expect(await reason(await signed({ ...heartbeat('b', {}), federation: 'other' }), context())).toBe('other-federation');
    expect(await reason(await signed(heartbeat('b', {})), context({ peers: new Set(['c']) }))).toBe('not-a-peer');
  });

  it('a replayed heartbeat (not newer than the last one recorded) and one far from now are refused', async () => {
    const hb = heartbeat('b', {});
    const replay = await checkHeartbeat(await signed(hb), context({ lastSentAt: hb.sentAt }), now);
    expect(replay).toMatchObject({ ok: false, reason: 'stale' });
    const newer = await checkHeartbeat(await signed(hb), context({ lastSentAt: '2029-12-31T23:59:59.000Z' }), now);
    expect(newer.ok).toBe(true);
    const late = await checkHeartbeat(await signed(hb), context(), now + 10 * 60_000);
    expect(late).toMatchObject({ ok: false, reason: 'stale' });
  });
});
