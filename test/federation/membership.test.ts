/** What `relay peers` makes of the peers' recorded heartbeats (pure). */
import { describe, expect, it } from 'vitest';
import { parseHeartbeat, peerState, peerViews, type Heartbeat } from '../../src/federation/membership.ts';

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

  it('refuses heartbeats that are not JSON, miss fields or carry unknown ones', () => {
    const good = heartbeat('b', { c1: 1 });
    expect(parseHeartbeat(new TextEncoder().encode(JSON.stringify(good)))).toEqual(good);
    expect(parseHeartbeat(new TextEncoder().encode('{'))).toBeUndefined();
    expect(parseHeartbeat(new TextEncoder().encode(JSON.stringify({ ...good, node: undefined })))).toBeUndefined();
    expect(parseHeartbeat(new TextEncoder().encode(JSON.stringify({ ...good, extra: 1 })))).toBeUndefined();
  });
});
