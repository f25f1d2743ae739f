/**
 * The node's Prometheus metrics (prom-client, text format). Counters move where things happen
 * (ingest, pages, requests, logins); gauges are read from their owners when scraped (backlog,
 * upstream lag, review queue, outbox, federation), so they cannot drift from the state they
 * describe. One registry per node: tests run several nodes in one process.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface UpstreamFigure {
  readonly upstream: string;
  readonly remote: string;
  readonly state: string;
  /** seconds since it was last caught up; null: never */
  readonly lagSeconds: number | null;
  readonly quarantined: number;
}

export interface ReviewQueueFigure {
  readonly open: number;
  /** age of the oldest open item (s); null when none is open */
  readonly oldestOpenSeconds: number | null;
  /** settled items per outcome (approved, rejected, superseded, failed) */
  readonly settled: Readonly<Record<string, number>>;
}

/** Where scrape-time figures come from (the node wires its parts in). */
export interface MetricSources {
  readonly reindexer: () => { readonly items: number; readonly oldestAgeMs: number | null };
  readonly upstreams: () => readonly UpstreamFigure[];
  readonly reviews: () => ReviewQueueFigure;
  readonly outbox: () => Readonly<Record<string, number>>;
  readonly sharebackBacklog: () => { readonly submissions: number };
  /** gossip figures when federated: counters by name (published, received, rejected_<reason> …) */
  readonly federation?: () => Readonly<Record<string, number>>;
  readonly federationConnected?: () => boolean;
}

/** Seconds buckets for request latency: 1 ms … 30 s. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly ingested: Counter<'source' | 'collection'>;
  private readonly served: Counter<'member' | 'collection'>;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method'>;
  private readonly loginFailures: Counter<'reason'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.ingested = new Counter({
      name: 'relay_objects_ingested_total',
      help: 'object versions stored, by source (upstream, taxii, import, shareback, peer) and collection',
      labelNames: ['source', 'collection'],
      registers,
    });
    this.served = new Counter({
      name: 'relay_objects_served_total',
      help: 'objects served to members in pages, by member and collection',
      labelNames: ['member', 'collection'],
      registers,
    });
    this.requests = new Counter({
      name: 'relay_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'relay_http_request_duration_seconds',
      help: 'time to the response head, by route pattern and method',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.loginFailures = new Counter({
      name: 'relay_auth_failures_total',
      help: 'refused authentications, by reason (unauthorized, too-many-failures, busy)',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'relay_reindexer_backlog_items',
      help: 'objects queued for derivation',
      registers,
      collect() {
        this.set(sources.reindexer().items);
      },
    });
    new Gauge({
      name: 'relay_reindexer_oldest_item_age_seconds',
      help: 'how long the oldest queued item has waited (0 when none)',
      registers,
      collect() {
        this.set((sources.reindexer().oldestAgeMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'relay_upstream_lag_seconds',
      help: 'seconds since the subscription was last caught up (-1: never)',
      labelNames: ['upstream', 'remote'],
      registers,
      collect() {
        this.reset();
        for (const u of sources.upstreams()) this.set({ upstream: u.upstream, remote: u.remote }, u.lagSeconds ?? -1);
      },
    });
    new Gauge({
      name: 'relay_upstream_state',
      help: '1 for the state each subscription is in (idle, polling, backing-off, failing, auth-failed …)',
      labelNames: ['upstream', 'remote', 'state'],
      registers,
      collect() {
        this.reset();
        for (const u of sources.upstreams()) this.set({ upstream: u.upstream, remote: u.remote, state: u.state }, 1);
      },
    });
    new Gauge({
      name: 'relay_upstream_quarantined',
      help: 'objects and pages a subscription set aside as invalid',
      labelNames: ['upstream', 'remote'],
      registers,
      collect() {
        this.reset();
        for (const u of sources.upstreams()) this.set({ upstream: u.upstream, remote: u.remote }, u.quarantined);
      },
    });
    new Gauge({
      name: 'relay_review_queue_open',
      help: 'share-back review items waiting for a reviewer',
      registers,
      collect() {
        this.set(sources.reviews().open);
      },
    });
    new Gauge({
      name: 'relay_review_queue_oldest_seconds',
      help: 'age of the oldest open review item (0 when none)',
      registers,
      collect() {
        this.set(sources.reviews().oldestOpenSeconds ?? 0);
      },
    });
    new Gauge({
      name: 'relay_reviews_settled',
      help: 'share-back review items settled, by outcome (approved, rejected, superseded, failed)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const [outcome, n] of Object.entries(sources.reviews().settled)) this.set({ outcome }, n);
      },
    });
    new Gauge({
      name: 'relay_outbox_entries',
      help: 'share-back outbox entries by state (pending, sent, failed)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(sources.outbox())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'relay_shareback_submissions_waiting',
      help: 'accepted share-back submissions not yet processed',
      registers,
      collect() {
        this.set(sources.sharebackBacklog().submissions);
      },
    });
    if (sources.federation) {
      const federation = sources.federation;
      new Gauge({
        name: 'relay_federation_events',
        help: 'gossip and reconciliation figures since start, by name',
        labelNames: ['name'],
        registers,
        collect() {
          this.reset();
          for (const [name, n] of Object.entries(federation())) this.set({ name }, n);
        },
      });
    }
    if (sources.federationConnected) {
      const connected = sources.federationConnected;
      new Gauge({
        name: 'relay_federation_connected',
        help: '1 while the node is connected to its NATS servers',
        registers,
        collect() {
          this.set(connected() ? 1 : 0);
        },
      });
    }
  }

  versionStored(source: string, collection: string): void {
    this.ingested.inc({ source, collection });
  }

  pageServed(member: string, collection: string, objects: number): void {
    this.served.inc({ member, collection }, objects);
  }

  requestAnswered(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  authRefused(reason: string): void {
    this.loginFailures.inc({ reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
