/**
 * Composition root: builds a relay node from its configuration. The only module that knows all
 * the parts; everything else takes its collaborators as arguments.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { Authenticator, loadOrCreateTokenKeys } from './auth/index.ts';
import { ConfigError, type RelayConfig } from './config/index.ts';
import { Ingestor } from './ingest/index.ts';
import { CertificateAuthority, ensureDevCertificates, readTls, revocationChecker, type TlsMaterial } from './pki/index.ts';
import { Store } from './store/index.ts';
import { createTaxiiApp } from './taxii/server/app.ts';
import { UpstreamManager, type UpstreamManagerOptions } from './upstream/index.ts';

export interface RelayNode {
  readonly config: RelayConfig;
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  /** https://host:port (the bound port, also when the config asked for port 0) */
  readonly baseUrl: string;
  readonly discoveryUrl: string;
  /** PEM of the CA that signed the server certificate, when the node minted it */
  readonly devCaPath: string | undefined;
  /** upstream subscriptions (none when the config has no `upstreams`); `status()` reports them */
  readonly upstreams: UpstreamManager;
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
  return Store.openInDataDir(config.data_dir);
}

export async function startNode(
  config: RelayConfig,
  log: Logger = createLogger(config),
  options: NodeOptions = {},
): Promise<RelayNode> {
  const store = openStore(config);
  try {
    const ingestor = new Ingestor(store);
    const keys = await loadOrCreateTokenKeys(config.data_dir);
    const pki = CertificateAuthority.paths({ dir: config.pki.dir as string, caCert: config.pki.ca_cert, caKey: config.pki.ca_key });
    const authenticator = Authenticator.fromConfig(config, keys, revocationChecker(pki.dir));
    // Client certificates are requested (not required: members may use Basic or Bearer) when
    // some member is mapped to a certificate; they are verified against tls.client_ca, or the
    // node's own CA.
    const clientCaPath = config.tls.client_ca ?? (existsSync(pki.caCert) ? pki.caCert : undefined);
    if (authenticator.acceptsCertificates && !clientCaPath) {
      throw new ConfigError('members are configured with client certificates but there is no CA to verify them: set tls.client_ca or run "relay certs init"');
    }
    const clientCa = authenticator.acceptsCertificates && clientCaPath ? readFileSync(clientCaPath, 'utf8') : undefined;
    const app = createTaxiiApp({ config, store, ingestor, authenticator, log, jwks: () => keys.jwks() });

    const [host, port] = splitListen(config.listen);
    let tls: TlsMaterial;
    let devCaPath: string | undefined;
    if (config.tls.cert && config.tls.key) {
      tls = readTls(config.tls.cert, config.tls.key);
    } else {
      const files = await ensureDevCertificates(config.tls.dev_certs_dir, [host]);
      tls = readTls(files.certPath, files.keyPath);
      devCaPath = files.caPath;
    }

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
          ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
      }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    server.headersTimeout = 20_000;
    server.requestTimeout = 120_000;
    server.keepAliveTimeout = 5_000;

    const address = server.address() as AddressInfo;
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const baseUrl = `https://${urlHost}:${address.port}`;
    log.info({ url: `${baseUrl}/taxii2/` }, 'relay node serving TAXII 2.1');

    const upstreams = new UpstreamManager(config, { ...options.upstream, store, ingestor, log });
    upstreams.start();

    return {
      config,
      store,
      ingestor,
      log,
      baseUrl,
      discoveryUrl: `${baseUrl}/taxii2/`,
      devCaPath,
      upstreams,
      async close() {
        await upstreams.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function splitListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(listen.slice(colon + 1))];
}
