/**
 * The node's federation identity: an Ed25519 key pair that signs its gossip envelopes, and the
 * public keys of the peers it trusts. Debian's nats-server 2.9 cannot check a certificate
 * revocation list, so peer identity at the gossip layer rests on these keys, not on TLS.
 *
 *   <dir>/federation.key       PKCS#8 PEM private key, owner-only (0600); refused otherwise
 *   <dir>/federation.pub.pem   SPKI PEM public key: what peers put in their trusted list
 *   <dir>/federation.jwk       the public key as a JWK with its key id (`kid`)
 *
 * A key id is the key's RFC 7638 JWK thumbprint (SHA-256, base64url): stable, derived from the
 * key alone, and what envelopes name in their `kid` header and revocation lists name.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';

export const PRIVATE_KEY_FILE = 'federation.key';
export const PUBLIC_KEY_FILE = 'federation.pub.pem';
export const PUBLIC_JWK_FILE = 'federation.jwk';

export class FederationIdentityError extends Error {
  override readonly name = 'FederationIdentityError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface FederationIdentity {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key */
  readonly keyId: string;
  /** the private key file */
  readonly path: string;
}

export interface InitResult {
  readonly publicKeyPem: string;
  readonly keyId: string;
  /** the private key file */
  readonly path: string;
  /** false when the directory already held a key, which is kept */
  readonly created: boolean;
}

/** The public key files written beside a key file: `<name>.pub.pem` and `<name>.jwk` (`federation.key` → `federation.pub.pem`). */
export function publicKeyFiles(keyPath: string): { pem: string; jwk: string } {
  const stem = join(dirname(keyPath), basename(keyPath).replace(/\.key$/, ''));
  return { pem: `${stem}.pub.pem`, jwk: `${stem}.jwk` };
}

/**
 * Creates the node's key pair in `dir` (for `relay federation init`). A key already there is kept
 * and reported, never replaced: peers trust it by its public key, and a new key would lock the
 * node out until every peer trusts the new one. Missing public key files are written again.
 */
export async function initFederationIdentity(dir: string): Promise<InitResult> {
  return initFederationKey(join(dir, PRIVATE_KEY_FILE));
}

/** `initFederationIdentity` for a key file by its path (`federation.key_file`); the public files go beside it. */
export async function initFederationKey(path: string): Promise<InitResult> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      // 'wx': never overwrite a key another process wrote meanwhile
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
      created = true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new FederationIdentityError(`cannot write the federation key ${path}: ${(cause as Error).message}`, { cause });
      }
    }
  }
  const identity = await loadFederationKey(path);
  const files = publicKeyFiles(path);
  if (created || !existsSync(files.pem)) writeFileSync(files.pem, identity.publicKeyPem);
  if (created || !existsSync(files.jwk)) {
    writeFileSync(files.jwk, `${JSON.stringify({ ...identity.publicJwk, kid: identity.keyId }, null, 2)}\n`);
  }
  return { publicKeyPem: identity.publicKeyPem, keyId: identity.keyId, path, created };
}

/** Loads the node's key from `dir`, refusing a key file that group or others can access. */
export async function loadFederationIdentity(dir: string): Promise<FederationIdentity> {
  return loadFederationKey(join(dir, PRIVATE_KEY_FILE));
}

/** `loadFederationIdentity` for a key file by its path. */
export async function loadFederationKey(path: string): Promise<FederationIdentity> {
  let text: string;
  try {
    checkOwnerOnly(path);
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if (cause instanceof FederationIdentityError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FederationIdentityError(`no federation key at ${path}: create one with \`relay federation init\``, { cause });
    }
    throw new FederationIdentityError(`cannot read the federation key ${path}: ${(cause as Error).message}`, { cause });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (cause) {
    throw new FederationIdentityError(`the federation key ${path} is not a PEM private key`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new FederationIdentityError(
      `the federation key ${path} is ${privateKey.asymmetricKeyType ?? 'not an asymmetric'} key; an Ed25519 key is required`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk,
    keyId: await calculateJwkThumbprint(publicJwk, 'sha256'),
    path,
  };
}

function checkOwnerOnly(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new FederationIdentityError(
      `the federation key ${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); make it owner-only: chmod 600 ${path}`,
    );
  }
}

/** A peer's public key, given as SPKI PEM or as a JWK (JSON), with its key id. */
export async function parsePeerKey(text: string): Promise<{ publicKey: KeyObject; keyId: string }> {
  let publicKey: KeyObject;
  try {
    const trimmed = text.trim();
    publicKey = trimmed.startsWith('{')
      ? createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
      : createPublicKey(trimmed);
  } catch (cause) {
    throw new FederationIdentityError('not a public key: expected an SPKI PEM ("-----BEGIN PUBLIC KEY-----") or a JWK', { cause });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new FederationIdentityError(`expected an Ed25519 public key, got ${publicKey.asymmetricKeyType ?? 'another kind of key'}`);
  }
  return { publicKey, keyId: await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256') };
}

export interface TrustedPeer {
  readonly nodeId: string;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/** Who may sign gossip: trusted peer keys by key id, and revoked key ids (refused even if listed). */
export interface PeerTrust {
  readonly peers: ReadonlyMap<string, TrustedPeer>;
  readonly revoked: ReadonlySet<string>;
}

/**
 * Builds the trust list from configured peers (a node may have several keys while it rotates)
 * and revoked key ids. The same key under two node ids is refused: a signature must name one
 * origin.
 */
export async function buildPeerTrust(
  peers: ReadonlyArray<{ readonly nodeId: string; readonly publicKey: string }>,
  revokedKeyIds: readonly string[] = [],
): Promise<PeerTrust> {
  const byKey = new Map<string, TrustedPeer>();
  for (const peer of peers) {
    let parsed: { publicKey: KeyObject; keyId: string };
    try {
      parsed = await parsePeerKey(peer.publicKey);
    } catch (cause) {
      throw new FederationIdentityError(`peer ${peer.nodeId}: ${(cause as Error).message}`, { cause });
    }
    const other = byKey.get(parsed.keyId);
    if (other && other.nodeId !== peer.nodeId) {
      throw new FederationIdentityError(`peers ${other.nodeId} and ${peer.nodeId} have the same public key (key id ${parsed.keyId})`);
    }
    byKey.set(parsed.keyId, { nodeId: peer.nodeId, ...parsed });
  }
  return { peers: byKey, revoked: new Set(revokedKeyIds) };
}
