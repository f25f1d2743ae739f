/**
 * Composition root: builds a relay node from its configuration. The only module that knows all
 * the parts; everything else takes its collaborators as arguments.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { Authenticator, loadOrCreateTokenKeys } from './auth/index.ts';
import type { NatsConnection } from 'nats';
import { ConfigError, inDataDir, type RelayConfig } from './config/index.ts';
import { readersByMember } from './auth/readers.ts';
import { reconcileConfiguration, Reindexer } from './derive/index.ts';
import {
  AntiEntropy,
  connectFederation,
  egressRule,
  federationOptions,
  Gossip,
  Leases,
  loadGossipCredentials,
  Membership,
  storedPeerViews,
  type EgressPolicy,
} from './federation/index.ts';
import { parseDuration } from './config/upstreams.ts';
import { acceptedSpecVersions, Ingestor } from './ingest/index.ts';
import { nodePolicy } from './policy/index.ts';
import {
  CertificateAuthority,
  ensureDevCertificates,
  readCaBundle,
  readServerTls,
  revocationChecker,
  type TlsMaterial,
} from './pki/index.ts';
import { AuditRetention, RelayMetrics } from './ops/index.ts';
import { nowMicros } from './stix/time.ts';
import { Forwarder, forwardsUpstream, ShareBackProcessor, shareBackSettings, type ForwarderOptions } from './shareback/index.ts';
import { Store, type ReconRule } from './store/index.ts';
import { createTaxiiApp } from './taxii/server/app.ts';
import { storeReadError } from './taxii/server/health.ts';
import { answerClientError } from './taxii/server/transport.ts';
import { compareCursors, UpstreamManager, type UpstreamManagerOptions } from './upstream/index.ts';

export interface RelayNode {
  readonly config: RelayConfig;
  readonly store: Store;
  readonly ingestor: Ingestor;
  /** derives in the background what commits queued (backlog: `reindexer.backlog()`) */
  readonly reindexer: Reindexer;
  readonly log: Logger;
  /** https://host:port (the bound port, also when the config asked for port 0) */
  readonly baseUrl: string;
  readonly discoveryUrl: string;
  /** PEM of the CA that signed the server certificate, when the node minted it */
  readonly devCaPath: string | undefined;
  /** upstream subscriptions (none when the config has no `upstreams`); `status()` reports them */
  readonly upstreams: UpstreamManager;
  /** works through what members share into inboxes (backlog: `shareback.backlog()`) */
  readonly shareback: ShareBackProcessor;
  /** sends the outbox upstream, when an inbox has `forward_to` */
  readonly forwarder?: Forwarder | undefined;
  /** Prometheus metrics (served to admins at /metrics) */
  readonly metrics: RelayMetrics;
  /** the NATS connection to the federation (mutual TLS), when `federation` is configured */
  readonly federation: NatsConnection | undefined;
  /** gossip with the federation's other nodes (`counters()`), when `federation` is configured */
  readonly gossip: Gossip | undefined;
  /** upstream and forwarding leases in the federation's bucket (`held()`), when `federation` is configured */
  readonly leases: Leases | undefined;
  /** heartbeats to and from the peers (`relay peers`), when `federation` is configured */
  readonly membership: Membership | undefined;
  /** reconciliation with the federation's other nodes (`reconcileNow()`), when `federation` is configured */
  readonly antiEntropy: AntiEntropy | undefined;
  close(): Promise<void>;
}

export interface NodeOptions {
  /** poller hooks and client adjustments (tests record the waits the poller chooses) */
  readonly upstream?: Omit<UpstreamManagerOptions, 'store' | 'ingestor' | 'log'>;
  /** forwarder hooks and client adjustments (tests: shorter timeouts, settlement callbacks) */
  readonly forwarder?: Omit<ForwarderOptions, 'log'>;
}

export function createLogger(config: RelayConfig): Logger {
  return pino({
    level: config.logging.level,
    base: { node: config.node.id },
    // Never let credentials reach the log, whatever a caller passes in.
    redact: ['req.headers.authorization', 'headers.authorization', 'authorization', 'password', 'secret', 'token'],
  });
}

/**
 * Opens the store under the data directory (creating it), for the CLI and the node alike: with
 * the reconciliation rule of the configuration, so that every process writing versions (the node,
 * `relay import` ...) keeps the same item set.
 */
export function openStore(config: RelayConfig): Store {
  return inDataDir(config, (dir) => Store.openInDataDir(dir, { reconcile: reconRuleOf(config) }));
}

/** What the store's item set holds: what this node may send to its peers (none without `federation`). */
export function reconRuleOf(config: RelayConfig): ReconRule | undefined {
  if (!config.federation) return undefined;
  return egressRule(mirrorCollections(config), config.policy.default_tlp, egressPolicyOf(config.federation));
}

/** The mirror collections: the ones gossiped and reconciled (inboxes hold raw submissions; views store nothing). */
function mirrorCollections(config: RelayConfig): string[] {
  return config.api_roots.flatMap((r) => r.collections.filter((c) => c.kind === 'mirror').map((c) => c.id));
}

function egressPolicyOf(federation: NonNullable<RelayConfig['federation']>): EgressPolicy {
  return { allowRed: federation.egress.allow_red, allowAmberStrict: federation.egress.allow_amber_strict };
}

export async function startNode(config: RelayConfig, log: Logger = createLogger(config), options: NodeOptions = {}): Promise<RelayNode> {
  const store = openStore(config);
  try {
    const rebuilt = store.reconItems.rebuiltAtOpen();
    if (rebuilt && config.federation) {
      log.info(rebuilt, 'the reconciliation set was rebuilt at open (egress settings, mirror collections or default_tlp changed)');
    }
    const policy = nodePolicy(config);
    // what derivation reads or a member reads changed since the last start: queue the work
    const reconciled = reconcileConfiguration(store, policy, readersByMember(config));
    if (reconciled.rederiveAll) log.warn('the policy settings derivation reads changed: every object is derived again in the background');
    for (const member of reconciled.widened) log.info({ member }, "a member's reach changed: what it newly may receive is announced again");
    const reindexer = new Reindexer(store, policy, {
      itemsPerStep: config.reindexer.items_per_step,
      log: log.child({ part: 'reindexer' }),
    });
    const ingestor = new Ingestor(store, policy, acceptedSpecVersions(config), {
      reindexer,
      inlineItems: config.reindexer.inline_items,
      maxBacklog: config.reindexer.max_backlog,
    });
    // federated: only the holder of a subscription's (or forward target's) lease polls (forwards)
    let leases: Leases | undefined;
    let membership: Membership | undefined;
    // share-back: what inboxes accept is checked, reviewed, anonymized and sent on in the background
    // forwarding upstream: what the processor queues in the outbox is sent by the forwarder, nudged at once
    const forwarder = forwardsUpstream(config)
      ? new Forwarder(store, config, {
          ...options.forwarder,
          log: log.child({ part: 'forwarder' }),
          leaseFor: (target) => leases?.lease('forward', target),
        })
      : undefined;
    const shareback = new ShareBackProcessor(store, ingestor, shareBackSettings(config), {
      log: log.child({ part: 'shareback' }),
      onForward: forwarder ? () => forwarder.nudge() : undefined,
    });
    // the gossip key and the peers' keys are checked before anything listens
    const gossipCredentials = config.federation ? await loadGossipCredentials(config.federation) : undefined;
    const keys = await loadOrCreateTokenKeys(config.data_dir);
    const pki = CertificateAuthority.paths({ dir: config.pki.dir, caCert: config.pki.ca_cert, caKey: config.pki.ca_key });
    const authenticator = Authenticator.fromConfig(config, keys, revocationChecker(pki.dir));
    // Client certificates are requested (not required: members may use Basic or Bearer) when
    // some member is mapped to a certificate; they are verified against tls.client_ca, or the
    // node's own CA.
    const clientCaPath = config.tls.client_ca ?? (existsSync(pki.caCert) ? pki.caCert : undefined);
    if (authenticator.acceptsCertificates && !clientCaPath) {
      throw new ConfigError(
        'members are configured with client certificates but there is no CA to verify them: set tls.client_ca or run "relay certs init"',
      );
    }
    const clientCaKey = config.tls.client_ca ? 'tls.client_ca' : config.pki.ca_cert ? 'pki.ca_cert' : 'pki.dir';
    const clientCa = authenticator.acceptsCertificates && clientCaPath ? readCaBundle({ key: clientCaKey, path: clientCaPath }) : undefined;
    const upstreams = new UpstreamManager(config, {
      ...options.upstream,
      store,
      ingestor,
      log,
      leaseFor: (key) => leases?.lease('upstream', key, compareCursors),
    });
    // set once the node has joined the federation (below); the metrics read them when scraped
    let federation: NatsConnection | undefined;
    let gossip: Gossip | undefined;
    let antiEntropy: AntiEntropy | undefined;
    const metrics = nodeMetrics(
      store,
      reindexer,
      upstreams,
      shareback,
      config.federation && {
        counters: () => ({
          ...(gossip ? flatCounters(gossip.counters()) : {}),
          ...(antiEntropy ? flatCounters(antiEntropy.counters(), 'anti_entropy') : {}),
          ...(membership ? flatCounters(membership.counters(), 'heartbeats') : {}),
          // 0 when a process wrote under another egress rule: anti-entropy refuses until a restart rebuilds the set
          reconciliation_set_in_force: store.reconItems.inForce() ? 1 : 0,
        }),
        connected: () => federation !== undefined && !federation.isClosed(),
      },
    );
    ingestor.onVersionStored((v) => metrics.versionStored(v.provenance.source, v.collection));
    // /readyz reads the parts as they come up: federation starts after the server listens
    let federationState: 'connected' | 'connecting' | 'disconnected' | undefined = federationOptions(config) ? 'connecting' : undefined;
    const readiness = () => ({
      storeError: storeReadError(store),
      upstreams: upstreams.status().filter((s) => s.enabled),
      federation: federation?.isClosed() ? ('disconnected' as const) : federationState,
    });
    // what the admin console's /admin/status shows of the running parts
    const overview = {
      upstreams: () => upstreams.status(),
      federation: () =>
        config.federation && {
          name: config.federation.name,
          connection: federation?.isClosed() ? ('disconnected' as const) : (federationState ?? ('connecting' as const)),
          peers: storedPeerViews(store, [...new Set(config.federation.peers.map((p) => p.id))], mirrorCollections(config)),
          counters: {
            ...(gossip ? flatCounters(gossip.counters()) : {}),
            ...(antiEntropy ? flatCounters(antiEntropy.counters(), 'anti_entropy') : {}),
          },
        },
      backlog: () => ({ reindexer: reindexer.backlog(), shareback: shareback.backlog() }),
    };
    const app = createTaxiiApp({
      config,
      store,
      ingestor,
      authenticator,
      log,
      jwks: () => keys.jwks(),
      shareback,
      metrics,
      readiness,
      overview,
    });

    const [host, port] = splitListen(config.listen);
    let tls: TlsMaterial;
    let devCaPath: string | undefined;
    if (config.tls.cert && config.tls.key) {
      tls = readServerTls({ key: 'tls.cert', path: config.tls.cert }, { key: 'tls.key', path: config.tls.key });
    } else {
      const files = await ensureDevCertificates(config.tls.dev_certs_dir, [host]);
      tls = readServerTls({ key: 'tls.dev_certs_dir', path: files.certPath }, { key: 'tls.dev_certs_dir', path: files.keyPath });
      devCaPath = files.caPath;
    }

    const limits = config.limits;
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({
        fetch: app.fetch,
        hostname: host,
        port,
        createServer,
        serverOptions: {
          key: tls.key,
          cert: tls.cert,
          minVersion: 'TLSv1.2',
          // Hardening (config `limits`): request head size; a TLS handshake, a request head and a
          // whole request each get a deadline, checked every second, so slow clients are cut.
          maxHeaderSize: limits.max_header_bytes,
          handshakeTimeout: limits.handshake_timeout_seconds * 1000,
          connectionsCheckingInterval: 1000,
          ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
      }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    server.headersTimeout = limits.headers_timeout_seconds * 1000;
    server.requestTimeout = limits.request_timeout_seconds * 1000;
    server.keepAliveTimeout = limits.keep_alive_timeout_seconds * 1000;
    // Oversized heads, timeouts and unparseable HTTP get a TAXII error object, then the close.
    server.removeAllListeners('clientError');
    server.on('clientError', answerClientError);

    const address = server.address() as AddressInfo;
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const baseUrl = `https://${urlHost}:${address.port}`;
    log.info({ url: `${baseUrl}/taxii2/` }, 'relay node serving TAXII 2.1');

    const closeServer = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    // Federation (optional): a node that cannot join the NATS servers it is configured for does
    // not start; the error names the cause (certificate refused, unknown CA, ...).
    const federationConfig = federationOptions(config);
    if (federationConfig && config.federation && gossipCredentials) {
      try {
        federation = await connectFederation(federationConfig);
        log.info({ servers: federationConfig.servers }, 'connected to the federation over NATS (mutual TLS)');
        const mirrors = new Set(mirrorCollections(config));
        // after the store and the ingestor, before upstreams and share-back store anything
        gossip = new Gossip(
          {
            federation: config.federation.name,
            nodeId: config.node.id,
            ...gossipCredentials,
            egress: egressPolicyOf(config.federation),
            collections: mirrors,
            stream: {
              replicas: config.federation.stream.replicas,
              maxAgeHours: config.federation.stream.max_age_hours,
              duplicateWindowSeconds: config.federation.stream.duplicate_window_seconds,
            },
          },
          { nc: federation, store, ingestor, policy, log: log.child({ part: 'gossip' }) },
        );
        await gossip.start();
        leases = new Leases(
          {
            federation: config.federation.name,
            nodeId: config.node.id,
            ttlMs: parseDuration(config.federation.leases.ttl),
            replicas: config.federation.stream.replicas,
          },
          { nc: federation, log: log.child({ part: 'leases' }) },
        );
        await leases.open();
        const held = leases;
        membership = new Membership(
          {
            federation: config.federation.name,
            nodeId: config.node.id,
            intervalMs: parseDuration(config.federation.heartbeat.interval),
            collections: mirrorCollections(config),
            peers: config.federation.peers.map((p) => p.id),
            identity: gossipCredentials.identity,
            trust: gossipCredentials.trust,
          },
          { nc: federation, store, log: log.child({ part: 'membership' }), leasesHeld: () => held.held() },
        );
        membership.start();
        antiEntropy = new AntiEntropy(
          {
            federation: config.federation.name,
            nodeId: config.node.id,
            ...gossipCredentials,
            collections: mirrors,
            intervalMs: config.federation.reconcile.interval_seconds * 1000,
          },
          { nc: federation, store, ingestor, gossip, log: log.child({ part: 'anti-entropy' }) },
        );
        const reconcile = antiEntropy;
        gossip.whenMessagesMissed(() => void reconcile.reconcileNow());
        reconcile.start();
      } catch (error) {
        await antiEntropy?.stop();
        membership?.stop();
        await leases?.stop();
        await gossip?.stop();
        await federation?.close();
        await closeServer();
        throw error;
      }
      federationState = 'connected';
      void followConnection(federation, (state) => {
        federationState = state;
      });
    }

    upstreams.start();
    reindexer.start();
    shareback.start();
    forwarder?.start();
    const retention = new AuditRetention(store, config.audit.retention_days, log);
    retention.start();

    return {
      config,
      store,
      ingestor,
      reindexer,
      log,
      baseUrl,
      discoveryUrl: `${baseUrl}/taxii2/`,
      devCaPath,
      upstreams,
      shareback,
      forwarder,
      metrics,
      federation,
      gossip,
      leases,
      membership,
      antiEntropy,
      async close() {
        retention.stop();
        await shareback.stop();
        await forwarder?.stop();
        await upstreams.close();
        // released once nothing polls or forwards any more: a peer takes over at once
        await leases?.stop();
        membership?.stop();
        // after the parts that store versions: what they stored last is still published
        await antiEntropy?.stop();
        await gossip?.stop();
        await reindexer.stop();
        await federation?.close();
        await closeServer();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The node's metrics, with scrape-time figures read from the parts that own them. */
function nodeMetrics(
  store: Store,
  reindexer: Reindexer,
  upstreams: UpstreamManager,
  shareback: ShareBackProcessor,
  federation: { counters(): Record<string, number>; connected(): boolean } | undefined,
): RelayMetrics {
  return new RelayMetrics({
    ...(federation ? { federation: federation.counters, federationConnected: federation.connected } : {}),
    reindexer: () => reindexer.backlog(),
    upstreams: () =>
      upstreams.status().map((s) => ({
        upstream: s.upstream,
        remote: s.remote,
        state: s.state,
        lagSeconds: s.lagMs === null ? null : s.lagMs / 1000,
        quarantined: s.quarantined,
      })),
    reviews: () => {
      const now = nowMicros();
      let open = 0;
      let oldest: number | null = null;
      const settled: Record<string, number> = {};
      for (const item of store.shareback.listReviews()) {
        if (item.state === 'open') {
          open++;
          oldest = oldest === null ? item.openedAt : Math.min(oldest, item.openedAt);
        } else if (item.state !== 'decided') settled[item.state] = (settled[item.state] ?? 0) + 1;
      }
      return { open, oldestOpenSeconds: oldest === null ? null : (now - oldest) / 1e6, settled };
    },
    outbox: () => store.shareback.outboxCounts(),
    sharebackBacklog: () => shareback.backlog(),
  });
}

/** Gossip counters as metric names: { published: { envelopes: 3 } } -> { published_envelopes: 3 }. */
function flatCounters(counters: object, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(counters)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (typeof value === 'number') out[name] = value;
    else if (value && typeof value === 'object') Object.assign(out, flatCounters(value as object, name));
  }
  return out;
}

/** Reports the NATS connection going down and coming back (for /readyz) until it closes. */
async function followConnection(nc: NatsConnection, report: (state: 'connected' | 'disconnected') => void): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') report('disconnected');
    else if (status.type === 'reconnect') report('connected');
  }
}

function splitListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(listen.slice(colon + 1))];
}
