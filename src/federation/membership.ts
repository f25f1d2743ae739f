/**
 * Membership: every node tells the federation how it is, every few seconds, on
 * `relay.<name>.heartbeat.<node>` (core NATS, not the stream: only the latest matters), and keeps
 * the latest heartbeat of each configured peer in its store, so `relay peers` (another process)
 * reads it. The pure part (`peerViews`) turns those records into what the command prints.
 */
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Store } from '../store/index.ts';
import type { PeerReconciliation } from './anti-entropy.ts';

export const heartbeatSubject = (federation: string, nodeId: string) => `relay.${federation}.heartbeat.${nodeId}`;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const heartbeatSchema = z.strictObject({
  v: z.literal(1),
  federation: z.string().max(64),
  node: z.string().regex(NODE_ID),
  sentAt: z.iso.datetime(),
  intervalMs: z.number().int().positive(),
  /** versions held per (mirror) collection */
  versions: z.record(z.string().max(200), z.number().int().nonnegative()),
  /** the sequence number of the last gossip envelope it signed */
  gossipSequence: z.number().int().nonnegative(),
  /** the leases it holds, "<kind>:<name>" */
  leases: z.array(z.string().max(1000)).max(10_000),
});

export type Heartbeat = z.infer<typeof heartbeatSchema>;

export interface PeerRecord {
  readonly heartbeat: Heartbeat;
  /** when this node received it (ISO) */
  readonly receivedAt: string;
}

export type PeerState = 'up' | 'stale' | 'down' | 'never-seen';

export interface PeerView {
  readonly id: string;
  readonly lastSeen: string | null;
  readonly state: PeerState;
  /** per collection: the peer's count (as of its heartbeat), ours (now), and peer minus ours */
  readonly versions: Record<string, { readonly peer: number | null; readonly local: number; readonly difference: number | null }>;
  readonly gossipSequence: number | null;
  readonly leases: readonly string[];
  /** ISO time of the last set reconciliation with that peer, or "never" */
  readonly lastReconciliation: string;
  /** how that reconciliation went (null before the first) */
  readonly reconciliation: ReconciliationOutcome | null;
}

/** The part of a peer's last reconciliation record `relay peers` shows. */
export interface ReconciliationOutcome {
  readonly ok: boolean;
  readonly error?: string;
  /** versions and tombstones sent to the peer, and received from it */
  readonly sent: number;
  readonly received: number;
  /** request/reply exchanges and signed bytes of the sessions */
  readonly rounds: number;
  readonly bytes: number;
}

/** Up while heartbeats arrive on time (3 intervals), stale up to 10 intervals, then down. */
export function peerState(lastSeenMs: number | null, intervalMs: number, now: number): PeerState {
  if (lastSeenMs === null) return 'never-seen';
  const age = now - lastSeenMs;
  if (age <= 3 * intervalMs) return 'up';
  if (age <= 10 * intervalMs) return 'stale';
  return 'down';
}

/** What `relay peers` shows for each configured peer. */
export function peerViews(
  peers: readonly string[],
  records: Readonly<Record<string, PeerRecord>>,
  local: Readonly<Record<string, number>>,
  reconciled: Readonly<Record<string, PeerReconciliation>>,
  now: number,
): PeerView[] {
  return peers.map((id) => {
    const record = records[id];
    const heartbeat = record?.heartbeat;
    const lastSeen = record ? Date.parse(record.receivedAt) : null;
    const last = reconciled[id];
    const collections = [...new Set([...Object.keys(local), ...Object.keys(heartbeat?.versions ?? {})])].sort();
    const versions = Object.fromEntries(
      collections.map((c) => {
        const peer = heartbeat ? (heartbeat.versions[c] ?? 0) : null;
        const mine = local[c] ?? 0;
        return [c, { peer, local: mine, difference: peer === null ? null : peer - mine }];
      }),
    );
    return {
      id,
      lastSeen: record?.receivedAt ?? null,
      state: peerState(lastSeen, heartbeat?.intervalMs ?? 5000, now),
      versions,
      gossipSequence: heartbeat?.gossipSequence ?? null,
      leases: heartbeat?.leases ?? [],
      lastReconciliation: last?.at ?? 'never',
      reconciliation: last ? outcomeOf(last) : null,
    };
  });
}

function outcomeOf(r: PeerReconciliation): ReconciliationOutcome {
  const { ok, error, sent, received, rounds, bytes } = r;
  return error === undefined ? { ok, sent, received, rounds, bytes } : { ok, error, sent, received, rounds, bytes };
}

/** Parses a heartbeat; undefined when it is not one (malformed, oversized). */
export function parseHeartbeat(data: Uint8Array): Heartbeat | undefined {
  if (data.length > 256 * 1024) return undefined;
  try {
    const parsed = heartbeatSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface MembershipSettings {
  readonly federation: string;
  readonly nodeId: string;
  readonly intervalMs: number;
  /** the collections whose version counts are announced (the gossiped mirrors) */
  readonly collections: readonly string[];
  /** configured peers: heartbeats from other node ids are ignored */
  readonly peers: readonly string[];
}

export interface MembershipDeps {
  readonly nc: NatsConnection;
  readonly store: Store;
  readonly log: Logger;
  /** the leases this node holds now */
  readonly leasesHeld: () => string[];
}

/** Sends this node's heartbeat every interval and records the peers'. */
export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private subscription: Subscription | undefined;
  private readonly peers: Set<string>;
  private ignored = 0;

  constructor(
    private readonly settings: MembershipSettings,
    private readonly deps: MembershipDeps,
  ) {
    this.peers = new Set(settings.peers);
  }

  start(): void {
    const { federation, intervalMs } = this.settings;
    this.subscription = this.deps.nc.subscribe(heartbeatSubject(federation, '*'), {
      callback: (error, message) => {
        if (!error) this.received(message.subject, message.data);
      },
    });
    this.beat();
    this.timer = setInterval(() => this.beat(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** This node's heartbeat now. */
  heartbeat(now = Date.now()): Heartbeat {
    const { store } = this.deps;
    return {
      v: 1,
      federation: this.settings.federation,
      node: this.settings.nodeId,
      sentAt: new Date(now).toISOString(),
      intervalMs: this.settings.intervalMs,
      versions: Object.fromEntries(this.settings.collections.map((c) => [c, store.index.count(c)])),
      gossipSequence: store.resources.setting('gossip-sequence') ?? 0,
      leases: this.deps.leasesHeld(),
    };
  }

  /** heartbeats dropped: not a configured peer, malformed, another federation */
  counters(): { ignored: number } {
    return { ignored: this.ignored };
  }

  private beat(): void {
    try {
      const { federation, nodeId } = this.settings;
      this.deps.nc.publish(heartbeatSubject(federation, nodeId), JSON.stringify(this.heartbeat()));
    } catch (error) {
      // disconnected or closing: the next beat tries again
      this.deps.log.debug({ err: (error as Error).message }, 'heartbeat not sent');
    }
  }

  private received(subject: string, data: Uint8Array): void {
    const heartbeat = parseHeartbeat(data);
    const from = subject.slice(subject.lastIndexOf('.') + 1);
    if (from === this.settings.nodeId) return;
    if (!heartbeat || heartbeat.node !== from || heartbeat.federation !== this.settings.federation || !this.peers.has(from)) {
      this.ignored++;
      return;
    }
    const { resources } = this.deps.store;
    try {
      const records = resources.setting('federation-peers') ?? {};
      resources.putSetting('federation-peers', { ...records, [from]: { heartbeat, receivedAt: new Date().toISOString() } });
    } catch (error) {
      this.deps.log.debug({ err: (error as Error).message }, 'heartbeat not recorded');
    }
  }
}
