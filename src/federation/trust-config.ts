/**
 * The node's gossip identity and trust list from the `federation` section: its own key
 * (`federation.key_file`), the peers' public keys (`federation.peers`) and the revoked key ids.
 * Every failure is a ConfigError naming the key, the file and the fix.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type RelayConfig } from '../config/index.ts';
import { buildPeerTrust, FederationIdentityError, loadFederationKey, type FederationIdentity, type PeerTrust } from './identity.ts';

export type FederationSection = NonNullable<RelayConfig['federation']>;

export interface GossipCredentials {
  readonly identity: FederationIdentity;
  readonly trust: PeerTrust;
}

export async function loadGossipCredentials(federation: FederationSection): Promise<GossipCredentials> {
  const keyFile = federation.key_file;
  if (keyFile === undefined) throw new ConfigError('federation.key_file: not resolved (load the configuration with loadConfig)');
  let identity: FederationIdentity;
  try {
    identity = await loadFederationKey(keyFile);
  } catch (cause) {
    throw new ConfigError(`federation.key_file: ${(cause as Error).message}`, [], { cause });
  }
  const peers = federation.peers.map((peer, i) => {
    if (peer.public_key !== undefined) return { nodeId: peer.id, publicKey: peer.public_key };
    const file = peer.public_key_file as string;
    try {
      return { nodeId: peer.id, publicKey: readFileSync(file, 'utf8') };
    } catch (cause) {
      throw new ConfigError(
        `federation.peers[${i}].public_key_file: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); ` +
          `copy the federation.pub.pem that \`relay federation init\` wrote on ${peer.id}`,
        [],
        { cause },
      );
    }
  });
  let trust: PeerTrust;
  try {
    trust = await buildPeerTrust(peers, federation.revoked_keys);
  } catch (cause) {
    const message = cause instanceof FederationIdentityError ? cause.message : String(cause);
    throw new ConfigError(
      `federation.peers: ${message}; give each peer the public key \`relay federation init\` printed on it (SPKI PEM or JWK)`,
      [],
      { cause },
    );
  }
  if (trust.peers.has(identity.keyId)) {
    throw new ConfigError(`federation.peers: this node's own key (${identity.keyId}) is listed for a peer; list only the peers' keys`);
  }
  if (trust.revoked.has(identity.keyId)) {
    throw new ConfigError(
      `federation.revoked_keys: this node's own key ${identity.keyId} is revoked; create a new key (move ${keyFile} away, run \`relay federation init\`) and give its public key to the peers`,
    );
  }
  return { identity, trust };
}
