/**
 * The node's federation key on a real file system: created owner-only, loaded back with a stable
 * key id, kept (never replaced) by a second init, refused when group or others can read it or
 * when it is not Ed25519; peers' keys accepted as PEM or JWK.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, importSPKI } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildPeerTrust,
  FederationIdentityError,
  initFederationIdentity,
  loadFederationIdentity,
  parsePeerKey,
  PRIVATE_KEY_FILE,
  PUBLIC_JWK_FILE,
  PUBLIC_KEY_FILE,
} from '../../src/federation/identity.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-federation-identity-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('initFederationIdentity', () => {
  it('writes an owner-only PKCS#8 private key and the public key as PEM and JWK, named by its thumbprint', async () => {
    const keys = join(dir, 'keys');
    const result = await initFederationIdentity(keys);
    expect(result.created).toBe(true);
    expect(result.path).toBe(join(keys, PRIVATE_KEY_FILE));
    expect(statSync(result.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(result.path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(keys, PUBLIC_KEY_FILE), 'utf8')).toBe(result.publicKeyPem);

    const independent = await calculateJwkThumbprint(
      await exportJWK(await importSPKI(result.publicKeyPem, 'EdDSA', { extractable: true })),
    );
    expect(result.keyId).toBe(independent);
    const jwk = JSON.parse(readFileSync(join(keys, PUBLIC_JWK_FILE), 'utf8'));
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: result.keyId });
    expect(jwk.d).toBeUndefined();
  });

  it('loads back a key pair that signs and verifies, with the same key id', async () => {
    const created = await initFederationIdentity(dir);
    const loaded = await loadFederationIdentity(dir);
    expect(loaded.keyId).toBe(created.keyId);
    const signature = sign(null, Buffer.from('hello'), loaded.privateKey);
    expect(verify(null, Buffer.from('hello'), loaded.publicKey, signature)).toBe(true);
  });

  it('keeps an existing key on a second init and writes missing public files again', async () => {
    const first = await initFederationIdentity(dir);
    unlinkSync(join(dir, PUBLIC_JWK_FILE));
    const second = await initFederationIdentity(dir);
    expect(second.created).toBe(false);
    expect(second.keyId).toBe(first.keyId);
    expect(existsSync(join(dir, PUBLIC_JWK_FILE))).toBe(true);
  });

  it('refuses a private key that group or others can read, naming the file and the fix', async () => {
    const { path } = await initFederationIdentity(dir);
    chmodSync(path, 0o640);
    const failure = loadFederationIdentity(dir);
    await expect(failure).rejects.toThrow(FederationIdentityError);
    await expect(loadFederationIdentity(dir)).rejects.toThrow(`${path} is accessible by group or others (mode 0640)`);
    await expect(loadFederationIdentity(dir)).rejects.toThrow(`chmod 600 ${path}`);
    await expect(initFederationIdentity(dir)).rejects.toThrow(/chmod 600/);
  });

  it('refuses a key that is not Ed25519', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, PRIVATE_KEY_FILE), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await expect(loadFederationIdentity(dir)).rejects.toThrow(/is ec key; an Ed25519 key is required/);
  });

  it('says how to create a missing key', async () => {
    await expect(loadFederationIdentity(dir)).rejects.toThrow(/no federation key at .*relay federation init/);
  });
});

describe('peer keys', () => {
  it('are read from PEM or JWK with the same key id', async () => {
    const { publicKeyPem, keyId } = await initFederationIdentity(dir);
    const jwk = readFileSync(join(dir, PUBLIC_JWK_FILE), 'utf8');
    expect((await parsePeerKey(publicKeyPem)).keyId).toBe(keyId);
    expect((await parsePeerKey(jwk)).keyId).toBe(keyId);
  });

  it('must be Ed25519 public keys', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(parsePeerKey(publicKey.export({ type: 'spki', format: 'pem' }).toString())).rejects.toThrow(
      /expected an Ed25519 public key, got ec/,
    );
    await expect(parsePeerKey('not a key')).rejects.toThrow(/expected an SPKI PEM/);
  });

  it('are refused when two nodes claim the same key, and a bad key names its peer', async () => {
    const { publicKeyPem } = await initFederationIdentity(dir);
    await expect(
      buildPeerTrust([
        { nodeId: 'node-b', publicKey: publicKeyPem },
        { nodeId: 'node-c', publicKey: publicKeyPem },
      ]),
    ).rejects.toThrow(/peers node-b and node-c have the same public key/);
    await expect(buildPeerTrust([{ nodeId: 'node-d', publicKey: '{}' }])).rejects.toThrow(/^peer node-d: /);
  });

  it('may be several per node while it rotates, and revoked by key id', async () => {
    const other = mkdtempSync(join(tmpdir(), 'relay-federation-identity-'));
    try {
      const first = await initFederationIdentity(dir);
      const second = await initFederationIdentity(other);
      const trust = await buildPeerTrust(
        [
          { nodeId: 'node-b', publicKey: first.publicKeyPem },
          { nodeId: 'node-b', publicKey: second.publicKeyPem },
        ],
        [first.keyId],
      );
      expect([...trust.peers.keys()].sort()).toEqual([first.keyId, second.keyId].sort());
      expect(trust.revoked.has(first.keyId)).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
