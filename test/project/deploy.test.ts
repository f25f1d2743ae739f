/**
 * deploy/: the relay configurations the compose file mounts load as they are, the NATS cluster
 * configuration runs as a 3-server JetStream cluster with TLS routes on the certificates
 * docs/operations.md says to issue, and every file the compose file mounts from the repository
 * exists. (`npm run test:compose` runs the compose file itself in containers.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { connect } from 'nats';
import {
  freePorts,
  NATS_SERVER,
  startNatsServerWithConfig,
  untilJetStreamCluster,
  type RunningNatsServer,
} from '../federation/nats-server.ts';
import { REPO } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const DEPLOY = join(REPO, 'deploy');
const { dir, cleanup } = tempDir('relay-deploy-');
afterAll(() => cleanup());

describe('deploy/', () => {
  it('the relay nodes’ configurations load, listen on all interfaces and join the three NATS servers', () => {
    for (const node of ['relay-a', 'relay-b']) {
      const config = loadConfig(join(DEPLOY, node, 'relay.yaml'), {});
      expect(config.node.id).toBe(node);
      expect(config.listen).toBe('0.0.0.0:8443');
      expect(config.members).toEqual([]);
      expect(config.federation?.servers).toEqual(['tls://nats-1:4222', 'tls://nats-2:4222', 'tls://nats-3:4222']);
    }
  });

  it('nats.conf is valid for nats-server (JetStream, TLS for clients and routes)', async () => {
    const ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Federation CA');
    const server = await ca.issue('server', 'nats-1', { altNames: ['nats-1'] });
    const text = readFileSync(join(DEPLOY, 'nats', 'nats.conf'), 'utf8')
      .replaceAll('/etc/nats/certs/server.crt', server.certPath)
      .replaceAll('/etc/nats/certs/server.key', server.keyPath)
      .replaceAll('/etc/nats/certs/ca.crt', ca.caCertPath)
      .replaceAll('/data/jetstream', join(dir, 'jetstream'));
    expect(text).toMatch(/jetstream \{/);
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, text);
    const run = spawnSync(NATS_SERVER, ['-c', conf, '-t'], {
      env: { ...process.env, SERVER_NAME: 'nats-1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
  });

  it('nats.conf on three servers with `relay certs issue nats` certificates forms a JetStream cluster over TLS routes that a node certificate joins', async () => {
    const ca = await CertificateAuthority.init({ dir: join(dir, 'cluster-pki') }, 'Federation CA');
    const names = ['nats-1', 'nats-2', 'nats-3'];
    const routePorts = await freePorts(names.length);
    const servers: RunningNatsServer[] = [];
    try {
      for (const [i, name] of names.entries()) {
        // as docs/operations.md issues them, plus the loopback names the routes and the client use here
        const cert = await ca.issue('nats', name, { altNames: [name, '127.0.0.1', 'localhost'] });
        const text = readFileSync(join(DEPLOY, 'nats', 'nats.conf'), 'utf8')
          .replace('listen: 0.0.0.0:4222', 'listen: "127.0.0.1:-1"')
          .replace('http: 0.0.0.0:8222', 'http: "127.0.0.1:-1"')
          .replace('listen: 0.0.0.0:6222', `listen: "127.0.0.1:${routePorts[i]}"`)
          .replace(/nats-route:\/\/nats-(\d):6222/g, (_, n: string) => `nats-route://127.0.0.1:${routePorts[Number(n) - 1]}`)
          .replaceAll('/etc/nats/certs/server.crt', cert.certPath)
          .replaceAll('/etc/nats/certs/server.key', cert.keyPath)
          .replaceAll('/etc/nats/certs/ca.crt', ca.caCertPath)
          .replaceAll('/data/jetstream', join(dir, `jetstream-${name}`));
        expect(text).not.toMatch(/0\.0\.0\.0|nats-route:\/\/nats-/);
        servers.push(await startNatsServerWithConfig(text, { env: { SERVER_NAME: name }, clustered: true }));
      }
      await untilJetStreamCluster(servers, 60_000);

      const node = await ca.issue('node', 'relay-a');
      const nc = await connect({
        servers: servers.map((s) => s.url),
        tls: { certFile: node.certPath, keyFile: node.keyPath, caFile: ca.caCertPath },
        reconnect: false,
      });
      try {
        const stream = await (
          await nc.jetstreamManager()
        ).streams.add({ name: 'DEPLOY_CHECK', subjects: ['deploy.check'], num_replicas: 3 });
        expect(stream.config.num_replicas).toBe(3);
        expect((stream.cluster?.replicas ?? []).length).toBe(2);
      } finally {
        await nc.close();
      }
    } finally {
      await Promise.allSettled(servers.map((s) => s.stop()));
    }
  }, 120_000);

  it('compose.yaml has three NATS servers and two relay nodes, and what it mounts from here exists', () => {
    const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { image: string; volumes: string[] }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['nats-1', 'nats-2', 'nats-3', 'relay-a', 'relay-b']);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes) {
        const source = volume.split(':')[0] as string;
        // ./secrets and ./relay-*/federation are made by the operator (private keys)
        if (source.startsWith('./') && !source.startsWith('./secrets/'))
          expect(existsSync(join(DEPLOY, source)), `${name}: ${source}`).toBe(true);
      }
    }
    expect(compose.services['relay-a']?.image).toBe('${RELAY_IMAGE:-localhost/relay:latest}');
    expect(compose.services['nats-1']?.image).toBe('${NATS_IMAGE:-docker.io/library/nats:2.10}');
  });
});
