/**
 * The gossip part of the `federation` section: the federation name, this node's key file, trusted
 * peers and revoked keys; `relay federation init` writing the key owner-only and printing what
 * peers need; and the errors an operator sees for a missing, exposed or mislisted key.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { initFederationKey } from '../../src/federation/identity.ts';
import { loadGossipCredentials } from '../../src/federation/trust-config.ts';
import { testConfigData } from '../support/node.ts';
import { runRelay } from '../support/processes.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-federation-trust-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TLS = { cert: 'n.crt', key: 'n.key', ca: 'ca.crt' };

function configWith(federation: Record<string, unknown>, nodeId = 'relay-a') {
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  data.node = { ...(data.node as object), id: nodeId };
  data.federation = { servers: ['nats://127.0.0.1:4222'], tls: TLS, ...federation };
  return parseConfig(data);
}

function problems(federation: Record<string, unknown>, nodeId?: string): string {
  try {
    configWith(federation, nodeId);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the configuration was expected to be refused');
}

describe('the federation section', () => {
  it('defaults the key file under the data directory, egress closed and one stream replica', () => {
    const config = configWith({ name: 'isac-eu' });
    const f = config.federation;
    expect(f?.name).toBe('isac-eu');
    expect(f?.key_file).toBe(join(dir, 'data', 'federation', 'federation.key'));
    expect(f?.peers).toEqual([]);
    expect(f?.revoked_keys).toEqual([]);
    expect(f?.egress).toEqual({ allow_red: false, allow_amber_strict: false });
    expect(f?.stream).toEqual({ replicas: 1, max_age_hours: 168, duplicate_window_seconds: 120 });
  });

  it('refuses a missing or unusable federation name, a peer without (or with two) keys, a bad key id and the node listed as its own peer', () => {
    expect(problems({})).toMatch(/federation\.name: name the federation/);
    expect(problems({ name: 'isac.eu' })).toMatch(/federation\.name: expected letters, digits/);
    const message = problems({
      name: 'isac',
      peers: [{ id: 'relay-b' }, { id: 'relay-c', public_key: 'x', public_key_file: 'y' }, { id: 'relay-a', public_key: 'x' }],
      revoked_keys: ['not-a-thumbprint'],
    });
    expect(message).toMatch(/federation\.peers\[0\]: give the peer's key as public_key \(inline\) or public_key_file, exactly one/);
    expect(message).toMatch(/federation\.peers\[1\]: give the peer's key/);
    expect(message).toMatch(/federation\.peers\[2\]\.id: this is the node itself/);
    expect(message).toMatch(/federation\.revoked_keys\[0\]: expected a key id/);
    expect(problems({ name: 'isac' }, 'node~with~tilde')).toMatch(/node\.id: a federated node id/);
  });
});

describe('gossip credentials from the configuration', () => {
  it('loads the key and the peers (inline PEM, a JWK file) with revoked key ids', async () => {
    const own = await initFederationKey(join(dir, 'a', 'federation.key'));
    const b = await initFederationKey(join(dir, 'b', 'node-b.key'));
    const c = await initFederationKey(join(dir, 'c', 'federation.key'));
    const config = configWith({
      name: 'isac',
      key_file: own.path,
      peers: [
        { id: 'relay-b', public_key: b.publicKeyPem },
        { id: 'relay-c', public_key_file: join(dir, 'c', 'federation.jwk') },
      ],
      revoked_keys: [c.keyId],
    });
    const { identity, trust } = await loadGossipCredentials(config.federation as NonNullable<typeof config.federation>);
    expect(identity.keyId).toBe(own.keyId);
    expect(trust.peers.get(b.keyId)?.nodeId).toBe('relay-b');
    expect(trust.peers.get(c.keyId)?.nodeId).toBe('relay-c');
    expect(trust.revoked.has(c.keyId)).toBe(true);
    expect(readFileSync(join(dir, 'b', 'node-b.pub.pem'), 'utf8')).toBe(b.publicKeyPem);
  });

  it('names the key and the fix: no key yet, a key others can read, an unreadable peer file, a peer key that is not one, our own key as a peer', async () => {
    const fed = (f: Record<string, unknown>) =>
      configWith({ name: 'isac', ...f }).federation as NonNullable<ReturnType<typeof configWith>['federation']>;
    const missing = join(dir, 'none', 'federation.key');
    await expect(loadGossipCredentials(fed({ key_file: missing }))).rejects.toThrow(
      new RegExp(`federation\\.key_file: no federation key at ${missing}: create one with \`relay federation init\``),
    );
    const exposed = await initFederationKey(join(dir, 'exposed', 'federation.key'));
    chmodSync(exposed.path, 0o644);
    const error = await loadGossipCredentials(fed({ key_file: exposed.path })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /federation\.key_file: .* is accessible by group or others \(mode 0644\); make it owner-only: chmod 600/,
    );
    chmodSync(exposed.path, 0o600);
    await expect(
      loadGossipCredentials(fed({ key_file: exposed.path, peers: [{ id: 'relay-b', public_key_file: join(dir, 'nope.pem') }] })),
    ).rejects.toThrow(/federation\.peers\[0\]\.public_key_file: cannot read .*nope\.pem \(ENOENT\); copy the federation\.pub\.pem/);
    await expect(loadGossipCredentials(fed({ key_file: exposed.path, peers: [{ id: 'relay-b', public_key: 'hello' }] }))).rejects.toThrow(
      /federation\.peers: peer relay-b: not a public key.*relay federation init/,
    );
    await expect(
      loadGossipCredentials(fed({ key_file: exposed.path, peers: [{ id: 'relay-b', public_key: exposed.publicKeyPem }] })),
    ).rejects.toThrow(/this node's own key .* is listed for a peer/);
  });
});

describe('relay federation init', () => {
  it('creates an owner-only key, prints the key id and public key, and keeps the key when run again', async () => {
    const configPath = join(dir, 'relay.yaml');
    writeFileSync(
      configPath,
      stringify({ node: { id: 'relay-x', title: 'X' }, data_dir: join(dir, 'x-data'), api_roots: [{ path: 'isac', title: 'ISAC' }] }),
    );
    const first = await runRelay(['federation', 'init', '--config', configPath]);
    expect(first.code).toBe(0);
    const keyFile = join(dir, 'x-data', 'federation', 'federation.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.stdout).toMatch(/federation key created/);
    expect(first.stdout).toMatch(/key id \(thumbprint\): [A-Za-z0-9_-]{43}/);
    expect(first.stdout).toContain(readFileSync(join(dir, 'x-data', 'federation', 'federation.pub.pem'), 'utf8').trim());
    expect(first.stdout).toMatch(/- id: relay-x/);
    const again = await runRelay(['federation', 'init', '--config', configPath, '--json']);
    expect(again.code).toBe(0);
    const printed = JSON.parse(again.stdout) as { created: boolean; keyId: string };
    expect(printed.created).toBe(false);
    expect(first.stdout).toContain(printed.keyId);
  });
});
