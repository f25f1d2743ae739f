/**
 * Federation connection over mutual TLS against real nats-server processes, with certificates
 * minted by the project's PKI: a server certificate (SAN 127.0.0.1, localhost) and node
 * certificates (`relay certs issue node NAME` equivalents).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringCodec, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { connectFederation, federationOptions } from '../../src/federation/index.ts';
import { FederationConnectionError, type FederationOptions } from '../../src/federation/connection.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { testConfigData } from '../support/node.ts';
import { startNatsServer, type RunningNatsServer } from './nats-server.ts';

interface Issued {
  certPath: string;
  keyPath: string;
}

let dir: string;
let ca: CertificateAuthority;
let foreignCa: CertificateAuthority;
const certs = {} as Record<'node1' | 'node2' | 'expired' | 'foreign' | 'serverByForeign', Issued>;
let secure: RunningNatsServer; // TLS, client certificates required and verified against `ca`
let foreignServer: RunningNatsServer; // TLS with a server certificate from another CA
let plain: RunningNatsServer; // no TLS at all
const servers: RunningNatsServer[] = [];
const connections: NatsConnection[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-federation-'));
  ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Federation CA');
  foreignCa = await CertificateAuthority.init({ dir: join(dir, 'foreign') }, 'Some other CA');
  const server = await ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
  certs.node1 = await ca.issue('node', 'node-1');
  certs.node2 = await ca.issue('node', 'node-2');
  certs.expired = await ca.issue('node', 'node-expired', { days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) });
  certs.foreign = await foreignCa.issue('node', 'node-1');
  certs.serverByForeign = await foreignCa.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });

  secure = await startNatsServer({ certFile: server.certPath, keyFile: server.keyPath, caFile: ca.caCertPath, verify: true });
  servers.push(secure);
  foreignServer = await startNatsServer({
    certFile: certs.serverByForeign.certPath,
    keyFile: certs.serverByForeign.keyPath,
    caFile: ca.caCertPath,
    verify: true,
  });
  servers.push(foreignServer);
  plain = await startNatsServer();
  servers.push(plain);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(connections.map((c) => c.close()));
  await Promise.allSettled(servers.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function options(server: RunningNatsServer, nodeId: string, cert: Issued | undefined, caPath = ca.caCertPath): FederationOptions {
  return {
    servers: [server.url],
    nodeId,
    tls: { ...(cert ? { cert: cert.certPath, key: cert.keyPath } : {}), ca: caPath },
    timeoutMs: 3_000,
  };
}

async function refusal(o: FederationOptions): Promise<FederationConnectionError> {
  try {
    const nc = await connectFederation(o);
    connections.push(nc);
  } catch (error) {
    expect(error).toBeInstanceOf(FederationConnectionError);
    return error as FederationConnectionError;
  }
  throw new Error('the connection was expected to be refused');
}

describe('federation connection over mutual TLS', () => {
  it('two nodes with valid node certificates connect and complete a publish/subscribe round trip', async () => {
    const a = await connectFederation(options(secure, 'node-1', certs.node1));
    connections.push(a);
    const b = await connectFederation(options(secure, 'node-2', certs.node2));
    connections.push(b);
    expect(a.info?.tls_required).toBe(true);

    const sc = StringCodec();
    const subject = 'relay.test.roundtrip';
    // b answers requests on the subject; a asks (request/reply is a publish plus a subscription).
    const sub = b.subscribe(subject, { max: 1 });
    const served = (async () => {
      for await (const m of sub) m.respond(sc.encode(`pong:${sc.decode(m.data)}`));
    })();
    await b.flush();
    const reply = await a.request(subject, sc.encode('ping'), { timeout: 5_000 });
    expect(sc.decode(reply.data)).toBe('pong:ping');
    await served;
  });

  it('the server sees the node id as the connection name, over TLS', async () => {
    const nc = await connectFederation(options(secure, 'node-1', certs.node1));
    connections.push(nc);
    await nc.flush();
    const res = await fetch(`${secure.monitorUrl}/connz`);
    const connz = (await res.json()) as { connections: Array<{ name?: string; tls_version?: string }> };
    const named = connz.connections.filter((c) => c.name === 'node-1');
    expect(named.length).toBeGreaterThan(0);
    expect(named.every((c) => typeof c.tls_version === 'string' && c.tls_version.startsWith('1.'))).toBe(true);
  });

  it('without a client certificate the node is refused, and the error says so', async () => {
    const error = await refusal(options(secure, 'node-1', undefined));
    expect(error.reason).toBe('certificate-refused');
    expect(error.message).toMatch(/refused this node's client certificate/);
    expect(error.message).toMatch(/presented no client certificate/);
    expect(error.cause).toBeDefined();
  });

  it('a node certificate from another CA is refused as a certificate refusal', async () => {
    const error = await refusal(options(secure, 'node-1', certs.foreign));
    expect(error.reason).toBe('certificate-refused');
    expect(error.message).toMatch(/refused this node's client certificate/);
    expect(error.message).not.toMatch(/presented no client certificate/);
  });

  it('an expired node certificate is refused', async () => {
    const error = await refusal(options(secure, 'node-expired', certs.expired));
    expect(error.reason).toBe('certificate-refused');
  });

  it('a NATS server whose certificate is not from the configured CA is not trusted (unknown CA)', async () => {
    const error = await refusal(options(foreignServer, 'node-1', certs.node1));
    expect(error.reason).toBe('unknown-server-ca');
    expect(error.message).toMatch(/unknown CA/);
  });

  it('a NATS server without TLS is refused: federation never runs in clear text', async () => {
    const error = await refusal(options(plain, 'node-1', certs.node1));
    expect(error.reason).toBe('tls-not-offered');
    expect(error.message).toMatch(/does not offer TLS/);
  });

  it('no server listening: connection refused', async () => {
    const gone = await startNatsServer();
    await gone.stop(); // its port is now closed
    const error = await refusal(options(gone, 'node-1', certs.node1));
    expect(error.reason).toBe('connection-refused');
    expect(error.message).toContain(gone.url);
  });

  it('a key that does not belong to the certificate is named before any connection is tried', async () => {
    const error = await refusal({
      ...options(secure, 'node-1', undefined),
      tls: { cert: certs.node1.certPath, key: certs.node2.keyPath, ca: ca.caCertPath },
    });
    expect(error.reason).toBe('certificate-files');
    const missing = await refusal({
      ...options(secure, 'node-1', undefined),
      tls: { cert: join(dir, 'nope.crt'), key: certs.node1.keyPath, ca: ca.caCertPath },
    });
    expect(missing.reason).toBe('certificate-files');
    expect(missing.message).toMatch(/nope\.crt/);
  });
});

describe('federation configuration', () => {
  const base = () => testConfigData('/tmp/relay-data', '/tmp/relay-certs');

  it('is absent by default: the embedded node has no NATS', () => {
    const config = parseConfig(base());
    expect(config.federation).toBeUndefined();
    expect(federationOptions(config)).toBeUndefined();
  });

  it('parses servers and TLS files, resolves relative paths, and names the node', () => {
    const data = base();
    data.federation = {
      servers: ['nats://127.0.0.1:4222', 'tls://nats.example.org:4443'],
      tls: { cert: 'n.crt', key: 'n.key', ca: '/etc/ca.crt' },
      name: 'isac',
    };
    const config = parseConfig(data);
    const o = federationOptions(config);
    expect(o?.servers).toEqual(['nats://127.0.0.1:4222', 'tls://nats.example.org:4443']);
    expect(o?.nodeId).toBe('test-node');
    expect(o?.tls.cert).toBe(join(process.cwd(), 'n.crt'));
    expect(o?.tls.ca).toBe('/etc/ca.crt');
    expect(o?.timeoutMs).toBe(10_000);
  });

  it('refuses bad server URLs, missing TLS files and unknown keys with the key path', () => {
    const data = base();
    data.federation = { servers: ['http://x:1', 'nats://h:99999'], tls: { cert: 'a', ca: 'c' }, gossip: true };
    let message = '';
    try {
      parseConfig(data);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/federation\.servers\[0\]: expected a NATS server URL/);
    expect(message).toMatch(/federation\.servers\[1\]: port must be at most 65535/);
    expect(message).toMatch(/federation\.tls\.key/);
    expect(message).toMatch(/federation\.gossip: unknown key/);
    const empty = base();
    empty.federation = { servers: [], tls: { cert: 'a', key: 'b', ca: 'c' }, name: 'isac' };
    expect(() => parseConfig(empty)).toThrow(/federation\.servers: list at least one NATS server/);
  });

  it('connects with the options built from the configuration', async () => {
    const data = base();
    data.node = { ...(data.node as object), id: 'node-from-config' };
    data.federation = {
      servers: [secure.url],
      tls: { cert: certs.node1.certPath, key: certs.node1.keyPath, ca: ca.caCertPath },
      name: 'isac',
    };
    const nc = await connectFederation(federationOptions(parseConfig(data)) as FederationOptions);
    connections.push(nc);
    expect(nc.isClosed()).toBe(false);
    await nc.close();
    expect(nc.isClosed()).toBe(true);
  });
});
