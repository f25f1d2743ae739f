/**
 * All subscriptions of a node, built from the `upstreams` config section. node.ts starts it
 * with the node and closes it before the store.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/index.ts';
import { parseDuration, type UpstreamConfig } from '../config/upstreams.ts';
import type { Ingestor } from '../ingest/index.ts';
import type { Store } from '../store/index.ts';
import type { ClientOptions } from '../taxii/client/index.ts';
import { UpstreamConnection } from './connection.ts';
import { clientOptionsFor, timeoutsOf } from './credentials.ts';
import { readSubscriptionStatus, type SubscriptionStatus } from './status.ts';
import { Subscription, type CycleResult, type PollerHooks, type SubscriptionSpec } from './subscription.ts';
import type { PollLease } from './lease-gate.ts';

export interface UpstreamManagerOptions {
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  readonly hooks?: Partial<PollerHooks>;
  /** where password_env / token_env / passphrase_env are read (default process.env) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** adjusts the client options of every upstream (tests: shorter timeouts) */
  readonly clientOptions?: (name: string, options: ClientOptions) => ClientOptions;
  /** a subscription's lease when the node is federated (asked when its loop starts): only the holder polls */
  readonly leaseFor?: (key: string) => PollLease | undefined;
}

export const DEFAULT_POLL = {
  poll_interval: '5m',
  page_size: 1000,
  start: 'beginning',
  match_version_all: true,
  enabled: true,
} as const;

/** Abortable real-time sleep (the default for retry waits). */
export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The subscriptions a config defines, with the upstream defaults applied. */
export function subscriptionSpecs(config: RelayConfig): Array<SubscriptionSpec & { upstreamConfig: UpstreamConfig }> {
  const localId = (name: string) =>
    config.api_roots.flatMap((r) => r.collections).find((c) => c.id === name || c.alias === name)?.id ?? name;
  return config.upstreams.flatMap((u) =>
    u.collections.map((c) => {
      const pick = <K extends keyof typeof DEFAULT_POLL>(k: K) =>
        (c[k] ?? u.defaults[k] ?? DEFAULT_POLL[k]) as (typeof DEFAULT_POLL)[K] extends string ? string : (typeof DEFAULT_POLL)[K];
      const local = localId(c.local);
      return {
        key: `${u.name}/${c.remote}/${local}`,
        upstream: u.name,
        remote: c.remote,
        local,
        enabled: u.enabled && (pick('enabled') as boolean),
        pollIntervalMs: parseDuration(pick('poll_interval') as string),
        pageSize: pick('page_size') as number,
        start: pick('start') as string,
        matchVersionAll: pick('match_version_all') as boolean,
        backoff: {
          initialMs: parseDuration(u.backoff.initial),
          maxMs: parseDuration(u.backoff.max),
          authRetryMs: parseDuration(u.backoff.auth_retry),
          attempts: u.backoff.attempts_per_cycle,
        },
        upstreamConfig: u,
      };
    }),
  );
}

export class UpstreamManager {
  private readonly connections: UpstreamConnection[] = [];
  readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly config: RelayConfig,
    private readonly options: UpstreamManagerOptions,
  ) {
    const hooks: PollerHooks = {
      sleep: options.hooks?.sleep ?? realSleep,
      random: options.hooks?.random ?? Math.random,
      now: options.hooks?.now ?? Date.now,
      ...(options.hooks?.onWait ? { onWait: options.hooks.onWait } : {}),
    };
    const byName = new Map<string, UpstreamConnection>();
    for (const spec of subscriptionSpecs(config)) {
      const u = spec.upstreamConfig;
      let connection = byName.get(u.name);
      if (!connection) {
        connection = new UpstreamConnection(u.name, u.url, u.api_root, () => {
          const built = clientOptionsFor(u.name, { auth: u.auth, tls: u.tls, insecureHttp: u.insecure_http }, timeoutsOf(u), options.env);
          return options.clientOptions ? options.clientOptions(u.name, built) : built;
        });
        byName.set(u.name, connection);
        this.connections.push(connection);
      }
      const log = options.log.child({ upstream: u.name });
      this.subscriptions.push(new Subscription(spec, connection, options.store, options.ingestor, log, hooks, options.leaseFor));
    }
  }

  start(): void {
    for (const u of this.config.upstreams) {
      if (!u.insecure_http || !u.enabled) continue;
      const what = u.auth ? 'traffic and credentials' : 'traffic';
      this.options.log.warn(
        { upstream: u.name, url: u.url },
        `upstream "${u.name}" allows plain HTTP (insecure_http: true): its ${what} travel unencrypted and can be read or altered on the way; use https:// outside a lab`,
      );
    }
    for (const s of this.subscriptions) s.start();
  }

  /** Polls every enabled subscription (or those of one upstream) now; resolves when each cycle ends. */
  pollNow(upstream?: string): Promise<CycleResult[]> {
    return Promise.all(
      this.subscriptions.filter((s) => s.spec.enabled && (upstream === undefined || s.spec.upstream === upstream)).map((s) => s.pollNow()),
    );
  }

  /** The same view `relay upstreams` prints, for the node's status output. */
  status(now = Date.now()): SubscriptionStatus[] {
    return readSubscriptionStatus(this.config, this.options.store, now);
  }

  async close(): Promise<void> {
    const loops = this.subscriptions.map((s) => s.close()); // abort their signals, wake sleepers
    await Promise.all(this.connections.map((c) => c.close())); // cut requests still in flight
    await Promise.all(loops);
  }
}
