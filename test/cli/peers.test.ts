/** What `relay peers` prints for each peer (the text form; `--json` prints the views as they are). */
import { describe, expect, it } from 'vitest';
import { formatPeers } from '../../src/cli/peers.ts';
import type { PeerView } from '../../src/federation/membership.ts';

const view = (change: Partial<PeerView>): PeerView => ({
  id: 'relay-b',
  lastSeen: '2030-01-01T00:00:01.000Z',
  state: 'up',
  versions: { shared: { peer: 12, local: 10, difference: 2 } },
  gossipSequence: 7,
  leases: [],
  lastReconciliation: 'never',
  reconciliation: null,
  ...change,
});

describe('relay peers (text)', () => {
  it('shows a peer never reconciled with as "never" and its counts ahead', () => {
    expect(formatPeers([view({})])).toBe(
      ['relay-b  up  last seen 2030-01-01T00:00:01.000Z  last reconciliation never', '  shared: 12 versions, here 10, +2 (ahead)'].join(
        '\n',
      ),
    );
  });

  it('shows what the last reconciliation moved, or why it failed', () => {
    const ok = view({
      lastReconciliation: '2030-01-01T00:00:00.000Z',
      reconciliation: { ok: true, sent: 1, received: 4, rounds: 3, bytes: 900 },
    });
    const failed = view({
      id: 'relay-c',
      state: 'down',
      versions: {},
      lastReconciliation: '2030-01-01T00:00:00.000Z',
      reconciliation: { ok: false, error: 'no reply from relay-c', sent: 0, received: 0, rounds: 0, bytes: 0 },
    });
    const lines = formatPeers([ok, failed]).split('\n');
    expect(lines[0]).toBe(
      'relay-b  up  last seen 2030-01-01T00:00:01.000Z  last reconciliation 2030-01-01T00:00:00.000Z ok (received 4, sent 1, 3 rounds, 900 bytes)',
    );
    expect(lines[2]).toBe(
      'relay-c  down  last seen 2030-01-01T00:00:01.000Z  last reconciliation 2030-01-01T00:00:00.000Z failed: no reply from relay-c',
    );
  });

  it('says so when no peer is configured', () => {
    expect(formatPeers([])).toBe('no peers configured (federation.peers)');
  });
});
