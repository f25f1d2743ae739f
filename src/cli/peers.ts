/** `relay peers`: the federation's other nodes as this node last heard them (heartbeats in the store). */
import type { RelayConfig } from '../config/index.ts';
import { storedPeerViews, type PeerView } from '../federation/membership.ts';
import { CliError } from './errors.ts';
import { openStore } from './store.ts';

/** Reads the peers' latest heartbeats the running node recorded and compares them with this store. */
export async function readPeers(config: RelayConfig, now = Date.now()): Promise<PeerView[]> {
  const federation = config.federation;
  if (!federation) throw new CliError('relay peers: this node is not federated (no `federation` section in the configuration)');
  const store = openStore(config);
  try {
    const mirrors = config.api_roots.flatMap((r) => r.collections.filter((c) => c.kind === 'mirror').map((c) => c.id));
    return storedPeerViews(
      store,
      federation.peers.map((p) => p.id),
      mirrors,
      now,
    );
  } finally {
    await store.close();
  }
}

const signed = (n: number | null) => (n === null ? '?' : n > 0 ? `+${n}` : String(n));

function outcome(p: PeerView): string {
  const r = p.reconciliation;
  if (!r) return '';
  if (!r.ok) return ` failed: ${r.error ?? 'unknown error'}`;
  return ` ok (received ${r.received}, sent ${r.sent}, ${r.rounds} rounds, ${r.bytes} bytes)`;
}

export function formatPeers(peers: readonly PeerView[]): string {
  if (peers.length === 0) return 'no peers configured (federation.peers)';
  const lines: string[] = [];
  for (const p of peers) {
    lines.push(`${p.id}  ${p.state}  last seen ${p.lastSeen ?? 'never'}  last reconciliation ${p.lastReconciliation}${outcome(p)}`);
    for (const [collection, v] of Object.entries(p.versions)) {
      const relation = v.difference === null ? '' : v.difference === 0 ? ' (same)' : v.difference > 0 ? ' (ahead)' : ' (behind)';
      lines.push(`  ${collection}: ${v.peer ?? '?'} versions, here ${v.local}, ${signed(v.difference)}${relation}`);
    }
    if (p.leases.length > 0) lines.push(`  leases: ${p.leases.join(', ')}`);
  }
  return lines.join('\n');
}

export async function runPeers(config: RelayConfig, json: boolean): Promise<number> {
  const peers = await readPeers(config);
  console.log(json ? JSON.stringify(peers, null, 2) : formatPeers(peers));
  return 0;
}
