/**
 * Anti-entropy: a node that was down or cut off past the gossip stream's retention converges
 * with no operator step. With each peer, for each mirror collection, this node runs a
 * reconciliation session (reconcile.ts) over the store's set of versions and tombstones
 * (store/federation-items.ts), by NATS request/reply on the peer's subject
 * `relay.<federation>.recon.<peer>`, in signed bounded messages (recon-wire.ts). Afterwards it
 * pushes the items the peer lacks and fetches those it lacks; what arrives goes through the
 * single ingest path with provenance `peer:<node>` (tombstones first, so a version and its
 * tombstone arriving together stay deleted). The store's set holds only what the egress policy
 * sends (federation/egress.ts `egressRule`), so what this node withholds is never a difference;
 * versions still cross only through `Gossip.sendable`.
 *
 * Rounds (every peer, every collection, one round at a time) run at start (once gossip has read
 * its backlog, or after a minute), every
 * `federation.reconcile.interval_seconds`, when the NATS connection comes back, when gossip sees
 * that messages it never received left the stream, and on demand (`reconcileNow`). The last
 * reconciliation with each peer is kept in the store (`lastReconciliations`).
 */
import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { Ingestor } from '../ingest/index.ts';
import type { Store } from '../store/index.ts';
import type { GossipTombstone, GossipVersion } from './envelope.ts';
import type { Gossip } from './gossip.ts';
import type { FederationIdentity, PeerTrust } from './identity.ts';
import type { ReconItem } from './items.ts';
import { answerEncoded, reconcileAsInitiator, ReconcileSession } from './reconcile.ts';
import { reconSubject, signRecon, verifyRecon, ReconWireError, type ReconPayload } from './recon-wire.ts';

export interface AntiEntropySettings {
  readonly federation: string;
  readonly nodeId: string;
  readonly identity: FederationIdentity;
  readonly trust: PeerTrust;
  /** mirror collections: the ones reconciled */
  readonly collections: ReadonlySet<string>;
  /** between periodic rounds */
  readonly intervalMs: number;
  /** how long one request waits for the peer's reply */
  readonly requestTimeoutMs?: number;
  /** largest reconciliation message (reconcile.ts frame limit) */
  readonly frameLimit?: number;
}

export interface AntiEntropyDeps {
  readonly nc: NatsConnection;
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly gossip: Gossip;
  readonly log: Logger;
}

/** The last reconciliation with one peer, as kept in the store (read by `relay peers`). */
export interface PeerReconciliation {
  /** when it ended, RFC 3339 */
  readonly at: string;
  readonly ok: boolean;
  /** why it failed (the peer unreachable, a refused message ...) */
  readonly error?: string;
  /** collections reconciled */
  readonly collections: number;
  /** request/reply exchanges of the reconciliation sessions (not counting the transfer) */
  readonly rounds: number;
  /** bytes of the reconciliation sessions' signed messages, both ways */
  readonly bytes: number;
  /** versions and tombstones sent to the peer, and received from it */
  readonly sent: number;
  readonly received: number;
  readonly durationMs: number;
}

/** The last reconciliation with each peer, by node id (empty before the first). */
export function lastReconciliations(store: Store): Record<string, PeerReconciliation> {
  return (store.resources.setting('recon-peers') ?? {}) as Record<string, PeerReconciliation>;
}

export interface AntiEntropyCounters {
  /** rounds finished (every peer tried) */
  readonly rounds: number;
  /** sessions with a peer over one collection, by outcome */
  readonly sessions: { readonly ok: number; readonly failed: number };
  /** sessions answered for peers */
  readonly answered: number;
  /** messages refused (unverified, out of order, unknown session) */
  readonly refused: number;
  readonly items: { readonly sent: number; readonly received: number };
}

/** what one transfer message carries at most (the signed message stays under NATS' 1 MiB) */
const CHUNK_ITEMS = 1000;
const CHUNK_BYTES = 600_000;
/** responder sessions kept at once, and how long an idle one is kept */
const MAX_SESSIONS = 64;
const SESSION_IDLE_MS = 120_000;
const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;
/** looks (every 500 ms) for gossip's backlog to be read before the first round: at most a minute */
const FIRST_ROUND_LOOKS = 120;
/** fetch replies of one session before it is abandoned */
const MAX_FETCHES = 10_000;
/** the store's item set is not this node's rule's: another process opened the store with other federation settings */
const STALE_SET =
  "this node's reconciliation set was changed by a process with other federation settings (relay commands must read the node's configuration): restart the node to rebuild it";

interface ResponderState {
  readonly peer: string;
  readonly collection: string;
  readonly session: ReconcileSession;
  n: number;
  found: ReconItem[];
  lastUsed: number;
}

interface Transfer {
  readonly versions: GossipVersion[];
  readonly tombstones: GossipTombstone[];
}

export class AntiEntropy {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** after a round in which some peer failed: the next try comes sooner than the period */
  private retryDelayMs = FIRST_RETRY_MS;
  private running = false;
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private readonly sessions = new Map<string, ResponderState>();
  /** session ids seen lately: a replayed first message does not open a session again */
  private readonly usedSessions = new Set<string>();
  private readonly counts = { rounds: 0, ok: 0, failed: 0, answered: 0, refused: 0, sent: 0, received: 0 };

  constructor(
    private readonly settings: AntiEntropySettings,
    private readonly deps: AntiEntropyDeps,
  ) {}

  /** Answers peers' sessions, and starts a first round now and the periodic ones. */
  start(): void {
    const { nc } = this.deps;
    this.running = true;
    this.subscription = nc.subscribe(reconSubject(this.settings.federation, this.settings.nodeId), {
      callback: (error, msg) => {
        if (!error) void this.serve(msg);
      },
    });
    this.timer = setInterval(() => void this.reconcileNow().catch(() => {}), this.settings.intervalMs);
    this.timer.unref();
    void this.followConnection();
    void this.firstRound();
  }

  /**
   * The first round waits (bounded) until gossip has read its backlog: what the stream still
   * holds comes cheaper from it, and fetching it twice would only make duplicates.
   */
  private async firstRound(): Promise<void> {
    for (let look = 0; look < FIRST_ROUND_LOOKS && this.running; look++) {
      const read = await this.deps.gossip.backlogRead().catch(() => false);
      if (read) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await this.reconcileNow().catch(() => {});
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = undefined;
    this.retry = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    await this.next?.catch(() => {});
    await this.current?.catch(() => {});
  }

  counters(): AntiEntropyCounters {
    const c = this.counts;
    return {
      rounds: c.rounds,
      sessions: { ok: c.ok, failed: c.failed },
      answered: c.answered,
      refused: c.refused,
      items: { sent: c.sent, received: c.received },
    };
  }

  /**
   * Runs a round with every peer (one at a time). Called while a round runs, it resolves after
   * another round that starts when that one ends, so what was stored before the call is covered.
   */
  reconcileNow(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (!this.current) {
      this.current = this.round().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    this.next ??= this.current
      .catch(() => {})
      .then(() => {
        this.next = undefined;
        return this.reconcileNow();
      });
    return this.next;
  }

  private peers(): string[] {
    const ids = new Set<string>();
    for (const peer of this.settings.trust.peers.values()) if (peer.nodeId !== this.settings.nodeId) ids.add(peer.nodeId);
    return [...ids].sort();
  }

  private async round(): Promise<void> {
    let failed = false;
    for (const peer of this.peers()) {
      if (!this.running) return;
      const record = await this.reconcileWith(peer);
      failed ||= !record.ok;
      const { store } = this.deps;
      store.transaction(() => store.resources.putSetting('recon-peers', { ...lastReconciliations(store), [peer]: record }));
    }
    this.counts.rounds++;
    this.scheduleRetry(failed);
  }

  /**
   * A peer that could not be reached (down, or the connection just back and routes not yet
   * up) is tried again sooner than the period: 2 s, doubling up to a minute.
   */
  private scheduleRetry(failed: boolean): void {
    if (!failed) {
      this.retryDelayMs = FIRST_RETRY_MS;
      return;
    }
    if (!this.running || this.retry) return;
    const delay = Math.min(this.retryDelayMs, this.settings.intervalMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.reconcileNow().catch(() => {});
    }, delay);
    this.retry.unref();
  }

  /** Every collection with one peer; never throws (the outcome says what failed). */
  async reconcileWith(peer: string): Promise<PeerReconciliation> {
    const started = Date.now();
    const total = { collections: 0, rounds: 0, bytes: 0, sent: 0, received: 0 };
    let error: string | undefined;
    for (const collection of [...this.settings.collections].sort()) {
      try {
        const r = await this.reconcileCollection(peer, collection);
        total.collections++;
        total.rounds += r.rounds;
        total.bytes += r.bytes;
        total.sent += r.sent;
        total.received += r.received;
        this.counts.ok++;
      } catch (e) {
        this.counts.failed++;
        error = (e as Error).message;
        this.deps.log.info({ peer, collection, err: error }, 'anti-entropy: reconciliation with a peer failed; the next round tries again');
        // the peer answered (it refused this collection): the others may still work; unreachable: stop here
        if (!(e instanceof ReconWireError)) break;
      }
    }
    if (total.sent + total.received > 0) this.deps.log.info({ peer, ...total }, 'anti-entropy: reconciled with a peer');
    return {
      at: new Date().toISOString(),
      ok: error === undefined,
      ...(error ? { error } : {}),
      ...total,
      durationMs: Date.now() - started,
    };
  }

  // ---- initiator ----------------------------------------------------------------------------

  private async reconcileCollection(
    peer: string,
    collection: string,
  ): Promise<{ rounds: number; bytes: number; sent: number; received: number }> {
    const { nc, store, identity } = { ...this.deps, identity: this.settings.identity };
    if (!store.reconItems.inForce()) throw new Error(STALE_SET);
    const session = randomBytes(16).toString('base64url');
    let n = 0;
    let bytes = 0;
    const call = async (kind: 'step' | 'push' | 'fetch', body: Partial<ReconPayload>): Promise<ReconPayload> => {
      n++;
      const jws = await signRecon(
        { ...this.header(peer, session, n, collection), kind, ...body },
        { privateKey: identity.privateKey, keyId: identity.keyId },
      );
      const m = await nc.request(reconSubject(this.settings.federation, peer), new TextEncoder().encode(jws), {
        timeout: this.settings.requestTimeoutMs ?? 10_000,
      });
      if (kind === 'step') bytes += jws.length + m.data.length;
      const reply = await verifyRecon(m.string(), this.check());
      if (reply.from !== peer || reply.session !== session || reply.n !== n) throw new ReconWireError(`${peer} replied out of turn`);
      if (reply.kind === 'error') throw new ReconWireError(`${peer} refused: ${reply.error ?? 'no reason given'}`);
      if (reply.kind !== 'reply') throw new ReconWireError(`${peer} replied with a ${reply.kind}`);
      return reply;
    };

    const recon = new ReconcileSession(store.reconItems.source(collection), this.options());
    const stats = await reconcileAsInitiator(recon, async (text) => {
      const reply = await call('step', { recon: text });
      if (reply.recon === undefined) throw new ReconWireError(`${peer} replied without a reconciliation message`);
      return reply.recon;
    });
    let sent = 0;
    const ours = recon.takeFound();
    for (let at = 0; at < ours.length;) {
      const { transfer, next } = this.chunk(collection, ours, at);
      at = next;
      if (transfer.versions.length + transfer.tombstones.length === 0) continue;
      await call('push', transfer);
      sent += transfer.versions.length + transfer.tombstones.length;
    }
    let received = 0;
    // The next fetch is asked for before this chunk is stored: the peer reads and signs the next
    // chunk while this node ingests (requests still go one at a time, in their numbered order).
    let next: Promise<ReconPayload> | undefined = call('fetch', {});
    for (let fetches = 1; next; fetches++) {
      const reply: ReconPayload = await next;
      next = reply.more && fetches < MAX_FETCHES ? call('fetch', {}) : undefined;
      if (next) {
        next.catch(() => {}); // awaited on the next turn; this keeps a failure during the ingest below from going unhandled
        await new Promise((resolve) => setImmediate(resolve)); // lets the request leave before the ingest holds the thread
      }
      received += this.take(peer, collection, reply);
    }
    this.counts.sent += sent;
    this.counts.received += received;
    return { rounds: stats.rounds, bytes, sent, received };
  }

  // ---- responder ----------------------------------------------------------------------------

  private async serve(msg: Msg): Promise<void> {
    let request: ReconPayload;
    try {
      request = await verifyRecon(msg.string(), this.check());
    } catch (error) {
      // unverified: no reply (the sender learns nothing); counted and logged
      this.counts.refused++;
      this.deps.log.warn({ err: (error as Error).message }, 'anti-entropy: message refused');
      return;
    }
    let reply: Partial<ReconPayload>;
    try {
      reply = this.handle(request);
    } catch (error) {
      reply = { kind: 'error', error: (error as Error).message };
    }
    try {
      const jws = await signRecon(
        { ...this.header(request.from, request.session, request.n, request.collection), kind: 'reply', ...reply },
        this.settings.identity,
      );
      msg.respond(new TextEncoder().encode(jws));
    } catch (error) {
      this.deps.log.error({ err: error }, 'anti-entropy: could not answer a peer');
    }
  }

  private handle(request: ReconPayload): Partial<ReconPayload> {
    this.expireSessions();
    if (!this.settings.collections.has(request.collection)) throw new ReconWireError('collection not federated here');
    if (!this.deps.store.reconItems.inForce()) throw new ReconWireError(STALE_SET);
    let state = this.sessions.get(request.session);
    if (request.kind === 'step' && request.n === 1) {
      if (state || this.usedSessions.has(request.session)) {
        this.counts.refused++;
        throw new ReconWireError('session already used');
      }
      if (this.sessions.size >= MAX_SESSIONS) throw new ReconWireError('too many sessions at once; try again later');
      const session = new ReconcileSession(this.deps.store.reconItems.source(request.collection), this.options());
      state = { peer: request.from, collection: request.collection, session, n: 0, found: [], lastUsed: Date.now() };
      this.sessions.set(request.session, state);
      this.usedSessions.add(request.session);
      if (this.usedSessions.size > 4 * MAX_SESSIONS * 16) this.usedSessions.delete(this.usedSessions.values().next().value as string);
      this.counts.answered++;
    }
    if (!state || state.peer !== request.from || state.collection !== request.collection || request.n !== state.n + 1) {
      this.counts.refused++;
      throw new ReconWireError('unknown session or message out of order');
    }
    state.n = request.n;
    state.lastUsed = Date.now();
    switch (request.kind) {
      case 'step': {
        if (request.recon === undefined) throw new ReconWireError('a step carries a reconciliation message');
        const answer = answerEncoded(state.session, request.recon);
        state.found.push(...state.session.takeFound());
        return { recon: answer };
      }
      case 'push':
        this.take(request.from, request.collection, request);
        return {};
      case 'fetch': {
        const { transfer, next } = this.chunk(request.collection, state.found, 0);
        state.found = state.found.slice(next);
        const more = state.found.length > 0;
        if (!more) this.sessions.delete(request.session);
        return { ...transfer, more };
      }
      default:
        throw new ReconWireError(`a ${request.kind} is not a request`);
    }
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.lastUsed > SESSION_IDLE_MS) this.sessions.delete(id);
  }

  // ---- transfer -----------------------------------------------------------------------------

  /** Items from `from` on, as one message's worth of versions (with their JSON) and tombstones. */
  private chunk(collection: string, items: readonly ReconItem[], from: number): { transfer: Transfer; next: number } {
    const { store } = this.deps;
    const transfer: Transfer = { versions: [], tombstones: [] };
    let bytes = 0;
    let at = from;
    for (; at < items.length && transfer.versions.length + transfer.tombstones.length < CHUNK_ITEMS; at++) {
      const item = items[at] as ReconItem;
      if (item.kind === 'tombstone') {
        transfer.tombstones.push({ collection, id: item.id, version: item.version });
        bytes += 120;
        continue;
      }
      const dateAdded = store.versions.held(collection, item.id).find(([k]) => k === item.version)?.[1];
      const version = dateAdded === undefined ? undefined : this.deps.gossip.sendable(collection, dateAdded);
      if (!version) continue;
      const size = JSON.stringify(version).length;
      if (size > CHUNK_BYTES) continue;
      if (bytes + size > CHUNK_BYTES && transfer.versions.length > 0) break;
      transfer.versions.push(version);
      bytes += size;
    }
    return { transfer, next: at };
  }

  /** A peer's versions and tombstones: tombstones first, then versions, by the single ingest path. */
  private take(peer: string, collection: string, message: ReconPayload): number {
    const tombstones = (message.tombstones ?? []).filter((t) => (t.collection ?? collection) === collection);
    const versions = (message.versions ?? []).filter((v) => (v.collection ?? collection) === collection);
    if (tombstones.length > 0) this.deps.gossip.applyTombstones(tombstones.map((t) => ({ ...t, collection })));
    const objects: unknown[] = [];
    for (const v of versions) {
      try {
        objects.push(JSON.parse(v.json));
      } catch {
        // malformed JSON from a trusted peer: skipped; ingest would reject it anyway
      }
    }
    if (objects.length > 0) this.deps.ingestor.ingest(collection, objects, { source: 'peer', detail: peer });
    return tombstones.length + versions.length;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private header(to: string, session: string, n: number, collection: string) {
    return {
      federation: this.settings.federation,
      from: this.settings.nodeId,
      to,
      session,
      n,
      sentAt: new Date().toISOString(),
      collection,
    };
  }

  private check() {
    return { federation: this.settings.federation, self: this.settings.nodeId, trust: this.settings.trust };
  }

  private options() {
    return this.settings.frameLimit === undefined ? {} : { frameLimit: this.settings.frameLimit };
  }

  /** A round when the connection to NATS comes back (a partition healed), until it closes. */
  private async followConnection(): Promise<void> {
    for await (const status of this.deps.nc.status()) {
      if (!this.running) break;
      if (status.type === 'reconnect') void this.reconcileNow().catch(() => {});
    }
  }
}
