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
import { connectFederation, federationOptions } from './federation/index.ts';
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
import { ShareBackProcessor, shareBackSettings } from './shareback/index.ts';
import { Store } from './store/index.ts';
import { createTaxiiApp } from './taxii/server/app.ts';
import { storeReadError } from './taxii/server/health.ts';
import { answerClientError } from './taxii/server/transport.ts';
import { UpstreamManager, type UpstreamManagerOptions } from './upstream/index.ts';

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
  /** the NATS connection to the federation (mutual TLS), when `federation` is configured */
  readonly federation: NatsConnection | undefined;
  close(): Promise<void>;
}

export interface NodeOptions {
  /** poller hooks and client adjustments (tests record the waits the poller chooses) */
  readonly upstream?: Omit<UpstreamManagerOptions, 'store' | 'ingestor' | 'log'>;
}

export function createLogger(config: RelayConfig): Logger {
  return pino({
    level: config.logging.level,
    base: { node: config.node.id },
    // Never let credentials reach the log, whatever a caller passes in.
    redact: ['req.headers.authorization', 'headers.authorization', 'authorization', 'password', 'secret', 'token'],
  });
}

/** Opens the store under the data directory (creating it), for the CLI and the node alike. */
export function openStore(config: RelayConfig): Store {
  return inDataDir(config, (dir) => Store.openInDataDir(dir));
}

export async function startNode(config: RelayConfig, log: Logger = createLogger(config), options: NodeOptions = {}): Promise<RelayNode> {
  const store = openStore(config);
  try {
    const policy = nodePolicy(config);
    // what derivation reads or a member reads changed since the last start: queue the work
    const reconciled = reconcileConfiguration(store, policy, readersByMember(config));
    if (reconciled.rederiveAll) log.warn('the policy settings derivation reads changed: every object is derived again in the background');
    for (const member of reconciled.widened) log.info({ member }, "a member's reach changed: what it newly may receive is announced again");
    const reindexer = new Reindexer(store, policy, { itemsPerStep: config.reindexer.items_per_step });
    const ingestor = new Ingestor(store, policy, acceptedSpecVersions(config), {
      reindexer,
      inlineItems: config.reindexer.inline_items,
      maxBacklog: config.reindexer.max_backlog,
    });
    // share-back: what inboxes accept is checked, reviewed, anonymized and sent on in the background
    const shareback = new ShareBackProcessor(store, ingestor, shareBackSettings(config), { log: log.child({ part: 'shareback' }) });
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
    // /readyz reads the parts as they come up: federation and upstreams start after the server listens.
    const started: { upstreams?: UpstreamManager } = {};
    let federationState: 'connected' | 'connecting' | 'disconnected' | undefined = federationOptions(config) ? 'connecting' : undefined;
    let federationConnection: NatsConnection | undefined;
    const readiness = () => ({
      storeError: storeReadError(store),
      upstreams: (started.upstreams?.status() ?? []).filter((s) => s.enabled),
      federation: federationConnection?.isClosed() ? 'disconnected' : federationState,
    });
    const app = createTaxiiApp({ config, store, ingestor, authenticator, log, jwks: () => keys.jwks(), shareback, readiness });

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
    let federation: NatsConnection | undefined;
    if (federationConfig) {
      try {
        federation = await connectFederation(federationConfig);
      } catch (error) {
        await closeServer();
        throw error;
      }
      log.info({ servers: federationConfig.servers }, 'connected to the federation over NATS (mutual TLS)');
      federationConnection = federation;
      federationState = 'connected';
      void followConnection(federation, (state) => {
        federationState = state;
      });
    }

    const upstreams = new UpstreamManager(config, { ...options.upstream, store, ingestor, log });
    started.upstreams = upstreams;
    upstreams.start();
    reindexer.start();
    shareback.start();

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
      federation,
      async close() {
        await shareback.stop();
        await upstreams.close();
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
