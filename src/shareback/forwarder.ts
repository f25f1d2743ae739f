/**
 * The forwarder: sends what share-back queued in the outbox (store/shareback.ts) to each
 * target's upstream collection, exactly once per (id, version).
 *
 * Per target it posts batches of up to `batch_size` pending entries in one envelope, notes the
 * upstream's status id on the entries as soon as the POST returns, follows that status resource
 * every `status_poll` until it is complete (or `status_timeout` passes) and settles each entry
 * from it: sent, failed with the upstream's message, or retried. Transient trouble (429, 5xx,
 * timeouts, broken connections) backs the target off exponentially, honouring Retry-After;
 * 401/403 and a collection that is missing or not writable pause the target for the upstream's
 * `auth_retry` with an error in the log; 400/413/415/422 split the batch until the one refused
 * object is found and failed.
 *
 * Exactly once: an entry leaves the outbox's pending set only when the upstream's status says
 * what became of it. A restarted forwarder first follows the statuses noted on pending entries
 * instead of posting them again. The one window left, a crash between the POST and noting its
 * status, leads to posting the same (id, version) again, which a TAXII server stores once (an
 * object version is identified by id and `modified`): no object is lost, none is duplicated.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/index.ts';
import { parseDuration, type UpstreamConfig } from '../config/upstreams.ts';
import type { OutboxEntry, OutboxOutcome, OutboxTarget, Store } from '../store/index.ts';
import {
  isAuthFailure,
  isTransient,
  TaxiiHttpError,
  TaxiiPlainHttpError,
  TaxiiProtocolError,
  TaxiiTlsError,
  type ClientOptions,
  type RemoteStatus,
} from '../taxii/client/index.ts';
import { clientOptionsFor, realSleep, timeoutsOf, UpstreamConfigError, UpstreamConnection } from '../upstream/index.ts';
import { backoffDelay, CONTENT_REFUSALS, envelopeOf, outcomesFrom, type BackoffSettings } from './forwarding.ts';

export interface ForwarderOptions {
  readonly log: Logger;
  /** where the upstreams' password_env / token_env / passphrase_env are read (default process.env) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** adjusts each upstream's client options (tests: shorter timeouts) */
  readonly clientOptions?: (name: string, options: ClientOptions) => ClientOptions;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  /** how often the outbox is looked at when nobody nudges (entries another process queued); default 5 s */
  readonly idlePollMs?: number;
  /** told when entries settle for good (the bench measures arrival latency with it) */
  readonly onSettled?: (entries: readonly OutboxEntry[], state: 'sent' | 'failed') => void;
  /**
   * a target's lease when the node is federated (federation/leases.ts): one node of the
   * federation forwards to a target at a time; a node contends only while it has entries for it
   */
  readonly leaseFor?: (target: string) => ForwardLease | undefined;
}

/** One node forwards to a target at a time: the holder of its lease. */
export interface ForwardLease {
  /** whether this node contends for the lease (given up when its outbox has nothing left for the target) */
  wanted: boolean;
  held(): AbortSignal | undefined;
}

/** How soon a target whose lease another node holds is looked at again. */
const LEASE_RETRY_MS = 1000;

/** What one pass did. */
export interface ForwardPass {
  readonly sent: number;
  readonly failed: number;
  /** entries tried and left pending (to be tried again after the target's backoff) */
  readonly retried: number;
  /** POST requests made */
  readonly requests: number;
  /** until the earliest target that backs off may be tried again (Infinity: none waits) */
  readonly waitMs: number;
}

interface Tally {
  sent: number;
  failed: number;
  retried: number;
  requests: number;
  waitMs: number;
}

/** One target, resolved for this pass. */
interface Route {
  readonly target: OutboxTarget;
  readonly connection: UpstreamConnection;
  readonly apiRootUrl: string;
  readonly collectionId: string;
  readonly maxContentLength: number;
}

/** A target cannot be served now: its entries stay pending, the target waits. */
class TargetTrouble extends Error {
  override readonly name = 'TargetTrouble';
}

const DEFAULT_IDLE_POLL_MS = 5000;
const MAX_ROUNDS_PER_PASS = 100_000;

const targetKey = (t: OutboxTarget) => `${t.upstream}\u0000${t.collection}`;

export class Forwarder {
  private readonly batchSize: number;
  private readonly statusPollMs: number;
  private readonly statusTimeoutMs: number;
  private readonly connections = new Map<string, UpstreamConnection>();
  private readonly backoffs = new Map<string, { failures: number; notBefore: number }>();
  /** statuses this process noted or already followed: entries still pending under them are posted again */
  private readonly followed = new Set<string>();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private passing: Promise<ForwardPass> | undefined;
  private stopped = false;
  private nudged = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: Pick<RelayConfig, 'upstreams' | 'shareback'>,
    private readonly options: ForwarderOptions,
  ) {
    const f = config.shareback.forwarder;
    this.batchSize = f.batch_size;
    this.statusPollMs = parseDuration(f.status_poll);
    this.statusTimeoutMs = parseDuration(f.status_timeout);
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Forwards in the background until stop(): at once, on each nudge, and every idle poll. */
  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Something was queued: look at the outbox now (or right after the pass under way). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Stops the loop, aborts requests and waits in flight (entries stay pending), closes connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop?.catch(() => undefined);
    await this.passing?.catch(() => undefined);
    this.loop = undefined;
    await Promise.all([...this.connections.values()].map((c) => c.close()));
    this.connections.clear();
  }

  /**
   * One pass over every target with pending entries that is not backing off: each is forwarded
   * until nothing it had pending is left untried. Concurrent callers share the pass under way.
   */
  pass(): Promise<ForwardPass> {
    this.passing ??= this.passOnce().finally(() => (this.passing = undefined));
    return this.passing;
  }

  private async run(): Promise<void> {
    const idle = this.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS;
    while (!this.stopped) {
      this.nudged = false;
      let waitMs = idle;
      try {
        waitMs = Math.min(idle, (await this.pass()).waitMs);
      } catch (error) {
        if (this.stopped) break;
        this.options.log.error({ error: (error as Error).message }, 'the forwarder failed a pass; it tries again');
      }
      if (this.stopped) break;
      if (this.nudged) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, waitMs));
        const wake = () => done();
        this.wake = wake;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.wake = undefined;
    }
  }

  private async passOnce(): Promise<ForwardPass> {
    this.store.refresh();
    const tally: Tally = { sent: 0, failed: 0, retried: 0, requests: 0, waitMs: Infinity };
    for (const target of this.store.shareback.pendingTargets()) {
      if (this.stopped) break;
      const backoff = this.backoffs.get(targetKey(target));
      const now = this.now();
      if (backoff && backoff.notBefore > now) {
        tally.waitMs = Math.min(tally.waitMs, backoff.notBefore - now);
        continue;
      }
      const lease = this.options.leaseFor?.(`${target.upstream}/${target.collection}`);
      if (lease) {
        lease.wanted = true;
        if (!lease.held()) {
          tally.waitMs = Math.min(tally.waitMs, LEASE_RETRY_MS);
          continue;
        }
      }
      await this.forwardTarget(target, tally);
      // nothing left here for that target: let another node's forwarder have it
      if (lease && this.store.shareback.pendingFor(target, 1).length === 0) lease.wanted = false;
      const after = this.backoffs.get(targetKey(target));
      if (after && after.notBefore > this.now()) tally.waitMs = Math.min(tally.waitMs, after.notBefore - this.now());
    }
    return { ...tally };
  }

  private async forwardTarget(target: OutboxTarget, tally: Tally): Promise<void> {
    const upstream = this.config.upstreams.find((u) => u.name === target.upstream);
    const attempted = new Set<number>();
    const retriedBefore = tally.retried;
    let round: OutboxEntry[] = [];
    try {
      if (!upstream) throw new TargetTrouble(`upstream "${target.upstream}" is not configured (any more): its entries wait`);
      const connection = this.connection(upstream);
      const resolved = await connection.resolveCollection(target.collection, 'write');
      const route: Route = { target, connection, ...resolved };
      for (let i = 0; i < MAX_ROUNDS_PER_PASS && !this.stopped; i++) {
        round = this.store.shareback
          .pendingFor(target, attempted.size + this.batchSize)
          .filter((e) => !attempted.has(e.seq))
          .slice(0, this.batchSize);
        if (round.length === 0) break;
        for (const e of round) attempted.add(e.seq);
        // entries an earlier process posted: follow their status rather than post them again
        const resumed = new Map<string, OutboxEntry[]>();
        const fresh: OutboxEntry[] = [];
        for (const e of round) {
          if (e.upstreamStatus !== undefined && !this.followed.has(e.upstreamStatus)) {
            resumed.set(e.upstreamStatus, [...(resumed.get(e.upstreamStatus) ?? []), e]);
          } else fresh.push(e);
        }
        for (const [statusId, entries] of resumed) {
          this.followed.add(statusId);
          this.options.log.info(
            { upstream: target.upstream, collection: target.collection, status: statusId, objects: entries.length },
            'following the status of a batch posted before a restart',
          );
          await this.follow(route, statusId, entries, tally);
        }
        if (fresh.length > 0) await this.send(route, fresh, tally);
      }
    } catch (error) {
      if (this.stopped) return;
      this.targetFailed(target, upstream, error, round, tally);
      return;
    }
    if (tally.retried > retriedBefore) this.backOff(target, {});
    else this.backoffs.delete(targetKey(target));
  }

  /** Posts one batch (split while the upstream refuses its content) and follows its status. */
  private async send(route: Route, entries: readonly OutboxEntry[], tally: Tally): Promise<void> {
    const body = envelopeOf(entries);
    const bytes = Buffer.byteLength(body);
    if (bytes > route.maxContentLength) {
      if (entries.length === 1) {
        const message = `${bytes} bytes: larger than the upstream's max_content_length (${route.maxContentLength})`;
        return this.settle(entries, () => ({ state: 'failed', message }), tally);
      }
      return this.sendHalves(route, entries, tally);
    }
    const { target } = route;
    this.options.log.info(
      { upstream: target.upstream, collection: target.collection, objects: entries.length, bytes },
      'forwarding a batch',
    );
    let status: RemoteStatus;
    try {
      tally.requests++;
      status = await route.connection.client().addEnvelope(route.apiRootUrl, route.collectionId, body, this.abort.signal);
    } catch (error) {
      if (error instanceof TaxiiHttpError && CONTENT_REFUSALS.has(error.status)) {
        if (entries.length > 1) return this.sendHalves(route, entries, tally);
        const message = `refused by the upstream: HTTP ${error.status}${error.title ? ` ${error.title}` : ''}${error.description ? `: ${error.description}` : ''}`;
        return this.settle(entries, () => ({ state: 'failed', message }), tally);
      }
      throw error;
    }
    // noted at once: a forwarder restarted from here follows this status instead of posting again
    this.store.shareback.noteUpstreamStatus(
      entries.map((e) => e.seq),
      status.id,
    );
    this.followed.add(status.id);
    await this.follow(route, status.id, entries, tally, status);
  }

  private async sendHalves(route: Route, entries: readonly OutboxEntry[], tally: Tally): Promise<void> {
    const middle = Math.ceil(entries.length / 2);
    await this.send(route, entries.slice(0, middle), tally);
    await this.send(route, entries.slice(middle), tally);
  }

  /** Reads the status until it settles every entry of the batch, or status_timeout passes. */
  private async follow(route: Route, statusId: string, entries: readonly OutboxEntry[], tally: Tally, first?: RemoteStatus): Promise<void> {
    const deadline = this.now() + this.statusTimeoutMs;
    let waiting = entries;
    let status = first;
    let lastProblem = '';
    while (true) {
      if (!status) {
        try {
          status = await route.connection.client().status(route.apiRootUrl, statusId, this.abort.signal);
        } catch (error) {
          if (this.stopped) throw error;
          if (error instanceof TaxiiHttpError && error.status === 404) {
            const message = `the upstream no longer has status ${statusId} (HTTP 404): sent again`;
            return this.settle(waiting, () => ({ state: 'retry', message }), tally);
          }
          if (!isTransient(error) || isAuthFailure(error)) throw error;
          lastProblem = `; last error: ${(error as Error).message}`;
        }
      }
      if (status) {
        const outcomes = outcomesFrom(status, waiting);
        this.settle(
          waiting.filter((e) => outcomes.get(e.seq) !== undefined),
          (e) => outcomes.get(e.seq) as OutboxOutcome,
          tally,
        );
        waiting = waiting.filter((e) => outcomes.get(e.seq) === undefined);
        if (waiting.length === 0) return;
      }
      if (this.now() >= deadline) {
        const message = `still pending at the upstream after ${this.config.shareback.forwarder.status_timeout} (status ${statusId})${lastProblem}: sent again`;
        return this.settle(waiting, () => ({ state: 'retry', message, upstreamStatus: statusId }), tally);
      }
      status = undefined;
      await this.sleep(this.statusPollMs, this.abort.signal);
      if (this.stopped) throw new TargetTrouble('stopped');
    }
  }

  /** Records outcomes in one transaction and counts them. */
  private settle(entries: readonly OutboxEntry[], outcomeOf: (e: OutboxEntry) => OutboxOutcome, tally: Tally): void {
    if (entries.length === 0) return;
    const settled: Record<'sent' | 'failed', OutboxEntry[]> = { sent: [], failed: [] };
    this.store.transaction(() => {
      for (const e of entries) {
        const outcome = outcomeOf(e);
        this.store.shareback.settleOutbox(e.seq, outcome);
        if (outcome.state === 'retry') tally.retried++;
        else settled[outcome.state].push(e);
      }
    });
    tally.sent += settled.sent.length;
    tally.failed += settled.failed.length;
    for (const e of settled.failed) {
      const message = this.store.shareback.outboxEntry(e.seq)?.lastError;
      this.options.log.warn(
        { upstream: e.upstream, collection: e.collection, id: e.id, version: e.version, message },
        'the upstream refused an object',
      );
    }
    for (const state of ['sent', 'failed'] as const) if (settled[state].length > 0) this.options.onSettled?.(settled[state], state);
  }

  /** The target cannot be served now: its unsettled entries record the error, the target waits. */
  private targetFailed(
    target: OutboxTarget,
    upstream: UpstreamConfig | undefined,
    error: unknown,
    round: readonly OutboxEntry[],
    tally: Tally,
  ): void {
    const message = (error as Error)?.message ?? String(error);
    this.store.refresh();
    // the entries in hand record the error (the next batch's, when none was taken yet): `relay outbox` shows it
    const shown = round.length > 0 ? round : this.store.shareback.pendingFor(target, this.batchSize);
    const unsettled = shown.filter((e) => this.store.shareback.outboxEntry(e.seq)?.state === 'pending');
    this.settle(unsettled, () => ({ state: 'retry', message }), tally);
    const needsOperator =
      error instanceof TargetTrouble ||
      isAuthFailure(error) ||
      error instanceof UpstreamConfigError ||
      error instanceof TaxiiTlsError ||
      error instanceof TaxiiPlainHttpError ||
      (error instanceof TaxiiProtocolError && error.kind === 'resource') ||
      (error instanceof TaxiiHttpError && error.status === 404);
    if (error instanceof TaxiiHttpError && error.status === 404) this.connections.get(target.upstream)?.invalidate();
    const retryAfterMs = error instanceof TaxiiHttpError ? error.retryAfterMs : undefined;
    const delay = this.backOff(target, { needsOperator, retryAfterMs }, upstream);
    const where = { upstream: target.upstream, collection: target.collection, error: message, retryInMs: delay };
    if (needsOperator) {
      const what = isAuthFailure(error) ? 'refused our credentials' : 'cannot take what we forward';
      this.options.log.error(where, `upstream "${target.upstream}" ${what}; forwarding to it waits (pending entries are kept)`);
    } else {
      this.options.log.warn(where, `forwarding to upstream "${target.upstream}" failed for now; it is tried again`);
    }
  }

  private backOff(
    target: OutboxTarget,
    how: { needsOperator?: boolean; retryAfterMs?: number | undefined },
    upstream = this.config.upstreams.find((u) => u.name === target.upstream),
  ): number {
    const key = targetKey(target);
    const failures = (this.backoffs.get(key)?.failures ?? 0) + 1;
    const delay = backoffDelay(failures, backoffSettings(upstream), this.random, how);
    this.backoffs.set(key, { failures, notBefore: this.now() + delay });
    return delay;
  }

  private connection(u: UpstreamConfig): UpstreamConnection {
    let connection = this.connections.get(u.name);
    if (!connection) {
      connection = new UpstreamConnection(u.name, u.url, u.api_root, () => {
        const built = clientOptionsFor(
          u.name,
          { auth: u.auth, tls: u.tls, insecureHttp: u.insecure_http },
          timeoutsOf(u),
          this.options.env,
        );
        return this.options.clientOptions ? this.options.clientOptions(u.name, built) : built;
      });
      this.connections.set(u.name, connection);
    }
    return connection;
  }
}

const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 1000, maxMs: 300_000, authRetryMs: 1_800_000 };

function backoffSettings(upstream: UpstreamConfig | undefined): BackoffSettings {
  if (!upstream) return DEFAULT_BACKOFF;
  return {
    initialMs: parseDuration(upstream.backoff.initial),
    maxMs: parseDuration(upstream.backoff.max),
    authRetryMs: parseDuration(upstream.backoff.auth_retry),
  };
}

/** Whether a configuration forwards anything upstream (a node builds a forwarder only then). */
export function forwardsUpstream(config: Pick<RelayConfig, 'api_roots'>): boolean {
  return config.api_roots.some((r) => r.collections.some((c) => c.kind === 'inbox' && c.forward_to !== undefined));
}
