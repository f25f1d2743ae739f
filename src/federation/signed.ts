/**
 * Messages a node signs with its federation key (compact JWS, EdDSA, `kid` = the key's JWK
 * thumbprint) and the checks every receiver makes before reading one: the header names the
 * expected type, the key is trusted and not revoked, the signature verifies, the payload is
 * UTF-8 JSON. What the payload must then say (its schema, that it comes from the key's node)
 * is the caller's. Gossip envelopes (envelope.ts) make the same checks with their own rejection
 * reasons and limits; anti-entropy messages (recon-wire.ts) and heartbeats (membership.ts) use
 * these.
 */
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { PeerTrust, TrustedPeer } from './identity.ts';

export interface Signer {
  readonly privateKey: KeyObject;
  readonly keyId: string;
}

export async function signMessage(payload: unknown, type: string, signer: Signer): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.keyId, typ: type })
    .sign(signer.privateKey);
}

export type SignedRefusal = 'malformed' | 'revoked-key' | 'unknown-key' | 'bad-signature';

export type SignedMessage =
  | { readonly ok: true; readonly peer: TrustedPeer; readonly payload: unknown }
  | { readonly ok: false; readonly reason: SignedRefusal; readonly detail: string };

/** Checks a message's header, key and signature and parses its payload (not its schema). */
export async function openSignedMessage(jws: string, type: string, trust: PeerTrust): Promise<SignedMessage> {
  const refuse = (reason: SignedRefusal, detail: string): SignedMessage => ({ ok: false, reason, detail });
  let kid: string;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.alg !== 'EdDSA' || header.typ !== type || typeof header.kid !== 'string') throw new Error('header');
    kid = header.kid;
  } catch {
    return refuse('malformed', `not a signed message of type ${type} (compact JWS, EdDSA)`);
  }
  if (trust.revoked.has(kid)) return refuse('revoked-key', `key ${kid} is revoked`);
  const peer = trust.peers.get(kid);
  if (!peer) return refuse('unknown-key', `key ${kid} is not a trusted peer's`);
  let bytes: Uint8Array;
  try {
    ({ payload: bytes } = await compactVerify(jws, peer.publicKey, { algorithms: ['EdDSA'] }));
  } catch {
    return refuse('bad-signature', `signature by ${peer.nodeId}'s key does not verify`);
  }
  try {
    return { ok: true, peer, payload: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    return refuse('malformed', 'payload is not JSON');
  }
}
