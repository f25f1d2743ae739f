/**
 * deploy/: the relay configurations the compose file mounts load as they are, the NATS cluster
 * configuration is one nats-server accepts, and every file the compose file mounts from the
 * repository exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { NATS_SERVER } from '../federation/nats-server.ts';
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
    expect(compose.services['relay-a']?.image).toBe('localhost/relay:latest');
  });
});
