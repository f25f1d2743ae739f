/**
 * The node's connection to the federation's NATS servers, always over mutual TLS: the node
 * presents its node certificate (`relay certs issue node NAME`) and verifies the servers
 * against the configured CA. A connection that cannot be made fails with a
 * `FederationConnectionError` whose `reason` names the cause in words an operator can act on
 * (certificate refused, unknown CA, connection refused, ...); the underlying error is its
 * `cause`. Gossip, anti-entropy and leases (later) use the returned `NatsConnection`.
 */
import { readFileSync } from 'node:fs';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type TLSSocket } from 'node:tls';
import { connect, type NatsConnection } from 'nats';
import type { RelayConfig } from '../config/index.ts';

export interface FederationTlsFiles {
  /**
   * PEM certificate (chain) of this node, issued for client and server use. The configuration
   * always sets it; without one, a NATS server that verifies clients refuses the node.
   */
  readonly cert?: string | undefined;
  /** PEM private key of that certificate */
  readonly key?: string | undefined;
  /** PEM CA bundle the NATS servers' certificates must chain to */
  readonly ca: string;
}

export interface FederationOptions {
  /** nats://host:port or tls://host:port URLs, tried in order */
  readonly servers: readonly string[];
  /** this node's id: the NATS connection name */
  readonly nodeId: string;
  readonly tls: FederationTlsFiles;
  /** how long one connection attempt may take, in milliseconds (default 10 000) */
  readonly timeoutMs?: number;
}

export type FederationFailure =
  | 'certificate-files'
  | 'certificate-refused'
  | 'unknown-server-ca'
  | 'server-name-mismatch'
  | 'server-certificate-expired'
  | 'tls-not-offered'
  | 'connection-refused'
  | 'timeout'
  | 'not-authorized'
  | 'other';

const EXPLANATIONS: Record<FederationFailure, string> = {
  'certificate-files': 'the node certificate, key or CA files cannot be used',
  'certificate-refused':
    "the NATS server refused this node's client certificate (it must be issued by a CA the server trusts, e.g. `relay certs issue node NAME`, and be neither expired nor revoked)",
  'unknown-server-ca': "the NATS server's certificate is not issued by the CA in federation.tls.ca (unknown CA)",
  'server-name-mismatch': "the NATS server's certificate does not name the host in the server URL",
  'server-certificate-expired': "the NATS server's certificate has expired or is not yet valid",
  'tls-not-offered': 'the NATS server does not offer TLS; federation connects only over TLS',
  'connection-refused': 'connection refused: no NATS server is listening at that address',
  timeout: 'the NATS server did not answer in time',
  'not-authorized': 'the NATS server does not authorize this node',
  other: 'the connection to the NATS server failed',
};

export class FederationConnectionError extends Error {
  override readonly name = 'FederationConnectionError';
  constructor(
    /** what went wrong, as a stable keyword */
    readonly reason: FederationFailure,
    /** the servers that were tried */
    readonly servers: readonly string[],
    options?: { cause?: unknown; detail?: string },
  ) {
    const detail = options?.detail ?? describeCause(options?.cause);
    super(`federation: cannot connect to ${servers.join(', ')}: ${EXPLANATIONS[reason]}${detail ? ` [${detail}]` : ''}`, {
      cause: options?.cause,
    });
  }
}

/** The federation options from the node configuration, or undefined when NATS is not configured. */
export function federationOptions(config: RelayConfig): FederationOptions | undefined {
  const f = config.federation;
  if (!f) return undefined;
  return {
    servers: f.servers,
    nodeId: config.node.id,
    tls: f.tls,
    timeoutMs: f.connect_timeout_seconds * 1000,
  };
}

/** Connects to the federation's NATS servers over mutual TLS; throws FederationConnectionError. */
export async function connectFederation(options: FederationOptions): Promise<NatsConnection> {
  const servers = [...options.servers];
  const { cert, key, ca } = options.tls;
  if ((cert === undefined) !== (key === undefined)) {
    throw new FederationConnectionError('certificate-files', servers, { detail: 'set both the certificate and its key, or neither' });
  }
  let material: { cert?: string; key?: string; ca: string };
  try {
    material = {
      ...(cert !== undefined && key !== undefined ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : {}),
      ca: readFileSync(ca, 'utf8'),
    };
    // Fails here, with a clear cause, on malformed PEM or a key that does not match the certificate.
    createSecureContext(material);
  } catch (cause) {
    throw new FederationConnectionError('certificate-files', servers, { cause });
  }
  try {
    return await connect({
      servers,
      name: options.nodeId,
      tls: material,
      timeout: options.timeoutMs ?? 10_000,
      // After the first connection, keep reconnecting (same TLS identity) for as long as the node runs.
      maxReconnectAttempts: -1,
    });
  } catch (error) {
    // nats.js can miss a TLS 1.3 alert sent after the handshake (a refused client certificate
    // then looks like a timeout): look at each server ourselves to name the cause.
    let cause: unknown = error;
    if (classify(error) === 'timeout' || classify(error) === 'other') {
      for (const server of servers) {
        const found = await probe(server, material, Math.min(options.timeoutMs ?? 10_000, 5_000));
        if (found !== undefined && classify(found) !== 'other') {
          cause = found;
          break;
        }
      }
    }
    const reason = classify(cause);
    const detail =
      reason === 'certificate-refused' && material.cert === undefined
        ? `this node presented no client certificate; ${describeCause(cause)}`
        : undefined;
    throw new FederationConnectionError(reason, servers, { cause, ...(detail ? { detail } : {}) });
  }
}

/**
 * Opens one connection the way a NATS client does (INFO in clear text, then TLS with our
 * certificate, then CONNECT + PING) and returns the error that ends it, or undefined when the
 * server answers PONG or the attempt runs out of time.
 */
export function probe(
  server: string,
  material: { cert?: string; key?: string; ca: string },
  timeoutMs: number,
): Promise<Error | undefined> {
  const url = new URL(server.replace(/^tls:/, 'nats:'));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 4222);
  return new Promise((resolve) => {
    const socket = new Socket();
    let tlsSocket: TLSSocket | undefined;
    let settled = false;
    const done = (result: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tlsSocket?.destroy();
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('error', (e) => done(e));
    let info = '';
    const onInfo = (chunk: Buffer) => {
      info += chunk.toString('latin1');
      if (info.length > 64 * 1024) return done(undefined);
      if (!info.includes('\r\n')) return;
      socket.off('data', onInfo);
      if (!/"tls_(required|available)"\s*:\s*true/.test(info)) {
        return done(Object.assign(new Error('the server does not offer TLS'), { code: 'SERVER_OPT_NA' }));
      }
      tlsSocket = tlsConnect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ...material, rejectUnauthorized: true });
      tlsSocket.once('error', (e) => done(e));
      tlsSocket.once('secureConnect', () => {
        tlsSocket?.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":true,"name":"relay-probe"}\r\nPING\r\n');
      });
      let reply = '';
      tlsSocket.on('data', (d: Buffer) => {
        reply += d.toString('latin1');
        if (/PONG\r\n/.test(reply)) done(undefined);
        const err = /-ERR '([^']*)'/.exec(reply);
        if (err)
          done(Object.assign(new Error(err[1]), { code: /authoriz/i.test(err[1] ?? '') ? 'AUTHORIZATION_VIOLATION' : 'PROTOCOL_ERROR' }));
      });
    };
    socket.on('data', onInfo);
    socket.connect(port, host);
  });
}

/** Names the cause of a failed connection from the TLS / socket / NATS error codes. */
export function classify(error: unknown): FederationFailure {
  const e = error as { code?: unknown; message?: unknown; chainedError?: { code?: unknown } } | undefined;
  const code = String(e?.code ?? '');
  const chained = String(e?.chainedError?.code ?? '');
  if (
    /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/.test(
      code,
    )
  ) {
    return 'certificate-refused';
  }
  if (
    /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED)$/.test(
      code,
    )
  ) {
    return 'unknown-server-ca';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'server-name-mismatch';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'server-certificate-expired';
  if (code === 'SERVER_OPT_NA') return 'tls-not-offered';
  if (code === 'CONNECTION_REFUSED' || code === 'ECONNREFUSED' || chained === 'ECONNREFUSED') return 'connection-refused';
  if (code === 'TIMEOUT' || code === 'ETIMEDOUT' || chained === 'ETIMEDOUT') return 'timeout';
  if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED') return 'not-authorized';
  return 'other';
}

function describeCause(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  const e = cause as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  // OpenSSL messages carry source paths; keep the readable part.
  const message =
    typeof e.message === 'string' ? e.message.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, '').replace(/:\.\.\/deps\/.*$/s, '') : '';
  return [code, message && message !== code ? message : ''].filter(Boolean).join(': ');
}
