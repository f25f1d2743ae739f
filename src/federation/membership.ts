/**
 * Membership: every node tells the federation how it is, every few seconds, on
 * `relay.<name>.heartbeat.<node>` (core NATS, not the stream: only the latest matters), and keeps
 * the latest heartbeat of each configured peer in its store, so `relay peers` (another process)
 * reads it. The pure part (`peerViews`) turns those records into what the command prints.
 *
 * Heartbeats are signed with the node's federation key like every other federation message
 * (signed.ts): a node holding a federation certificate but not a peer's key cannot report that
 * peer up, and a recorded heartbeat replayed later is refused (it must be newer than the last).
 */
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Store } from '../store/index.ts';
import { lastReconciliations, type PeerReconciliation } from './anti-entropy.ts';
import type { PeerTrust } from './identity.ts';
import { openSignedMessage, signMessage, type SignedRefusal, type Signer } from './signed.ts';

export const HEARTBEAT_TYPE = 'relay-heartbeat+jws';
/** a heartbeat is small; anything near NATS' payload limit is not one */
const MAX_HEARTBEAT_BYTES = 256 * 1024;

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

/**
 * The peer views from what a node recorded in its store: the peers' latest heartbeats and the
 * last reconciliation with each, against this store's counts of the mirror collections now.
 * `relay peers` (another process) and the admin console both show this.
 */
export function storedPeerViews(store: Store, peers: readonly string[], mirrors: readonly string[], now = Date.now()): PeerView[] {
  const local = Object.fromEntries(mirrors.map((c) => [c, store.index.count(c)]));
  const records = (store.resources.setting('federation-peers') ?? {}) as Record<string, PeerRecord>;
  return peerViews(peers, records, local, lastReconciliations(store), now);
}

function outcomeOf(r: PeerReconciliation): ReconciliationOutcome {
  const { ok, error, sent, received, rounds, bytes } = r;
  return error === undefined ? { ok, sent, received, rounds, bytes } : { ok, error, sent, received, rounds, bytes };
}

/** A heartbeat's payload checked against the schema; undefined when it is not one. */
export function parseHeartbeat(payload: unknown): Heartbeat | undefined {
  const parsed = heartbeatSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}

export function signHeartbeat(heartbeat: Heartbeat, signer: Signer): Promise<string> {
  return signMessage(heartbeat, HEARTBEAT_TYPE, signer);
}

export type HeartbeatRefusal = SignedRefusal | 'not-a-peer' | 'wrong-node' | 'other-federation' | 'stale';

export interface HeartbeatContext {
  readonly federation: string;
  /** configured peers' node ids */
  readonly peers: ReadonlySet<string>;
  readonly trust: PeerTrust;
  /** the node named by the subject it arrived on */
  readonly subjectNode: string;
  /** sentAt of the last heartbeat accepted from that node (a replay is not newer) */
  readonly lastSentAt?: string | undefined;
  /** how far sentAt may be from now (default 5 minutes) */
  readonly maxSkewMs?: number;
}

export type HeartbeatCheck =
  { readonly ok: true; readonly heartbeat: Heartbeat } | { readonly ok: false; readonly reason: HeartbeatRefusal; readonly detail: string };

/** Whether a received heartbeat is a configured peer's, signed by its key, fresh and for us. */
export async function checkHeartbeat(data: Uint8Array, context: HeartbeatContext, now = Date.now()): Promise<HeartbeatCheck> {
  const refuse = (reason: HeartbeatRefusal, detail: string): HeartbeatCheck => ({ ok: false, reason, detail });
  if (data.length > MAX_HEARTBEAT_BYTES) return refuse('malformed', `heartbeat of ${data.length} bytes`);
  const opened = await openSignedMessage(new TextDecoder().decode(data), HEARTBEAT_TYPE, context.trust);
  if (!opened.ok) return refuse(opened.reason, opened.detail);
  const heartbeat = parseHeartbeat(opened.payload);
  if (!heartbeat) return refuse('malformed', `heartbeat signed by ${opened.peer.nodeId} does not match the schema`);
  if (heartbeat.node !== opened.peer.nodeId || heartbeat.node !== context.subjectNode) {
    return refuse('wrong-node', `${opened.peer.nodeId}'s key signed a heartbeat of ${heartbeat.node} on ${context.subjectNode}'s subject`);
  }
  if (heartbeat.federation !== context.federation) return refuse('other-federation', `federation ${heartbeat.federation}`);
  if (!context.peers.has(heartbeat.node)) return refuse('not-a-peer', `${heartbeat.node} is not in federation.peers`);
  const sent = Date.parse(heartbeat.sentAt);
  if (Math.abs(now - sent) > (context.maxSkewMs ?? 300_000)) return refuse('stale', `sent ${heartbeat.sentAt}, too far from now`);
  if (context.lastSentAt !== undefined && sent <= Date.parse(context.lastSentAt)) {
    return refuse('stale', `sent ${heartbeat.sentAt}, not after the last one (${context.lastSentAt})`);
  }
  return { ok: true, heartbeat };
}

export interface MembershipSettings {
  readonly federation: string;
  readonly nodeId: string;
  readonly intervalMs: number;
  /** the collections whose version counts are announced (the gossiped mirrors) */
  readonly collections: readonly string[];
  /** configured peers: heartbeats from other node ids are ignored */
  readonly peers: readonly string[];
  /** this node's key: its heartbeats are signed */
  readonly identity: Signer;
  /** whose signed heartbeats are accepted */
  readonly trust: PeerTrust;
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
  private readonly refused = new Map<HeartbeatRefusal, number>();

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

  /** heartbeats dropped, by reason: unsigned or badly signed, not a configured peer, replayed … */
  counters(): { ignored: number; refused: Partial<Record<HeartbeatRefusal, number>> } {
    const refused = Object.fromEntries(this.refused);
    return { ignored: [...this.refused.values()].reduce((a, b) => a + b, 0), refused };
  }

  private beat(): void {
    const { federation, nodeId, identity } = this.settings;
    signHeartbeat(this.heartbeat(), identity)
      .then((jws) => this.deps.nc.publish(heartbeatSubject(federation, nodeId), jws))
      // disconnected or closing: the next beat tries again
      .catch((error: unknown) => this.deps.log.debug({ err: (error as Error).message }, 'heartbeat not sent'));
  }

  private received(subject: string, data: Uint8Array): void {
    const from = subject.slice(subject.lastIndexOf('.') + 1);
    if (from === this.settings.nodeId) return;
    const { resources } = this.deps.store;
    const { federation, trust } = this.settings;
    const last = (resources.setting('federation-peers') ?? {})[from]?.heartbeat as Heartbeat | undefined;
    void checkHeartbeat(data, { federation, trust, peers: this.peers, subjectNode: from, lastSentAt: last?.sentAt })
      .then((checked) => {
        if (!checked.ok) {
          this.refused.set(checked.reason, (this.refused.get(checked.reason) ?? 0) + 1);
          this.deps.log.debug({ from, reason: checked.reason, detail: checked.detail }, 'heartbeat refused');
          return;
        }
        // read again: another heartbeat may have been recorded while this one was verified
        const records = resources.setting('federation-peers') ?? {};
        const recorded = records[from]?.heartbeat as Heartbeat | undefined;
        if (recorded && Date.parse(recorded.sentAt) >= Date.parse(checked.heartbeat.sentAt)) return;
        resources.putSetting('federation-peers', {
          ...records,
          [from]: { heartbeat: checked.heartbeat, receivedAt: new Date().toISOString() },
        });
      })
      .catch((error: unknown) => this.deps.log.debug({ err: (error as Error).message }, 'heartbeat not recorded'));
  }
}
