/**
 * The node and its federation section, with a real nats-server requiring client certificates:
 * a node configured with its node certificate joins at start, can publish and receive, and
 * leaves at close; a node whose certificate the server refuses does not start, says why, and
 * leaves nothing open (its data directory can be opened again at once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringCodec } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { FederationConnectionError } from '../../src/federation/connection.ts';
import { startNode } from '../../src/node.ts';
import { initFederationKey } from '../../src/federation/identity.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { startTestNode, testConfigData } from '../support/node.ts';
import { startNatsServer, type RunningNatsServer } from './nats-server.ts';

let dir: string;
let ca: CertificateAuthority;
let nats: RunningNatsServer | undefined;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-federation-node-'));
  ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Federation CA');
  const server = await ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
  nats = await startNatsServer({ certFile: server.certPath, keyFile: server.keyPath, caFile: ca.caCertPath, verify: true }, 15_000, {
    jetstream: true,
  });
  keyFile = (await initFederationKey(join(dir, 'keys', 'federation.key'))).path;
}, 60_000);

afterAll(async () => {
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a node with a federation section', () => {
  it('connects at start with its node certificate, carries messages, and disconnects at close', async () => {
    const cert = await ca.issue('node', 'relay-a');
    const t = await startTestNode((data) => {
      data.node.id = 'relay-a';
      data.federation = {
        servers: [nats?.url],
        tls: { cert: cert.certPath, key: cert.keyPath, ca: ca.caCertPath },
        name: 'isac',
        key_file: keyFile,
      };
    });
    let closed = false;
    try {
      const nc = t.node.federation;
      expect(nc).toBeDefined();
      if (!nc) return;
      const sc = StringCodec();
      const sub = nc.subscribe('relay.test.node', { max: 1 });
      nc.publish('relay.test.node', sc.encode('hello'));
      let received = '';
      for await (const m of sub) received = sc.decode(m.data);
      expect(received).toBe('hello');
      const connz = (await (await fetch(`${nats?.monitorUrl}/connz`)).json()) as { connections: Array<{ name?: string }> };
      expect(connz.connections.some((c) => c.name === 'relay-a')).toBe(true);
      await t.close();
      closed = true;
      expect(nc.isClosed()).toBe(true);
    } finally {
      if (!closed) await t.close();
    }
  });

  it('a node whose certificate the NATS server refuses does not start, names the cause and leaves nothing open', async () => {
    const foreignCa = await CertificateAuthority.init({ dir: join(dir, 'foreign') }, 'Other CA');
    const foreign = await foreignCa.issue('node', 'relay-b');
    const nodeDir = mkdtempSync(join(tmpdir(), 'relay-federation-refused-'));
    try {
      const data = testConfigData(join(nodeDir, 'data'), join(nodeDir, 'certs'));
      data.federation = {
        servers: [nats?.url],
        tls: { cert: foreign.certPath, key: foreign.keyPath, ca: ca.caCertPath },
        connect_timeout_seconds: 3,
        name: 'isac',
        key_file: keyFile,
      };
      const config = parseConfig(data);
      const error = await startNode(config, pino({ level: 'silent' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FederationConnectionError);
      expect((error as FederationConnectionError).reason).toBe('certificate-refused');
      // the store was closed and the port released: the same data directory starts a node again
      const again = await startNode({ ...config, federation: undefined }, pino({ level: 'silent' }));
      await again.close();
    } finally {
      rmSync(nodeDir, { recursive: true, force: true });
    }
  });

  it('a node without a federation section has no NATS connection', async () => {
    const t = await startTestNode();
    try {
      expect(t.node.federation).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
