/**
 * Anti-entropy messages between two nodes, by NATS request/reply on `relay.<federation>.recon.<node>`:
 * compact JWS signed with the sender's gossip key (EdDSA, `kid`), checked like gossip envelopes
 * (envelope.ts): the key trusted and not revoked, the signature, the sender being the key's node,
 * the federation, the addressee being this node, and the time it was sent (within `maxSkewMs`).
 * A message belongs to a session (random id) and carries its number in it: the responder takes
 * each number once, in order, and the initiator takes only the reply to the number it sent, so a
 * message replayed later, or to another node, is refused.
 *
 *   step   a reconciliation message (reconcile.ts) for one collection; reply: the responder's
 *   push   versions and tombstones the responder lacks (found by the session); reply: counts
 *   fetch  "send what I lack"; reply: a chunk of versions and tombstones, `more` until done
 *   error  the reply when a request cannot be served (the text says why)
 */
import { z } from 'zod';
import { isIdentifier } from '../stix/validate.ts';
import type { GossipTombstone, GossipVersion } from './envelope.ts';
import type { PeerTrust } from './identity.ts';
import { openSignedMessage, signMessage, type Signer } from './signed.ts';

export const RECON_TYPE = 'relay-recon+jws';
/** NATS' default max_payload is 1 MiB: every message stays below it */
export const MAX_RECON_MESSAGE_BYTES = 1_000_000;

export type ReconKind = 'step' | 'push' | 'fetch' | 'reply' | 'error';

export interface ReconPayload {
  readonly federation: string;
  readonly from: string;
  readonly to: string;
  /** base64url, 16 random bytes: one per session and collection */
  readonly session: string;
  /** the message's number in its session, from 1; a reply carries the request's */
  readonly n: number;
  /** RFC 3339 */
  readonly sentAt: string;
  readonly kind: ReconKind;
  readonly collection: string;
  /** step: the encoded reconciliation message */
  readonly recon?: string | undefined;
  readonly versions?: readonly GossipVersion[] | undefined;
  readonly tombstones?: readonly GossipTombstone[] | undefined;
  /** fetch reply: more chunks follow */
  readonly more?: boolean | undefined;
  readonly error?: string | undefined;
}

export class ReconWireError extends Error {
  override readonly name = 'ReconWireError';
}

const VERSION_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const stixId = z
  .string()
  .max(300)
  .refine((v) => isIdentifier(v), 'expected a STIX id');
const versionKey = z.string().regex(VERSION_KEY, 'expected a version key');
const collection = z.string().min(1).max(200);

const payloadSchema = z.strictObject({
  federation: z.string().min(1).max(100),
  from: z.string().regex(NODE_ID),
  to: z.string().regex(NODE_ID),
  session: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'expected a session id'),
  n: z.number().int().min(1).max(1_000_000),
  sentAt: z.iso.datetime({ offset: true }),
  kind: z.enum(['step', 'push', 'fetch', 'reply', 'error']),
  collection,
  recon: z.string().max(MAX_RECON_MESSAGE_BYTES).optional(),
  versions: z
    .array(z.strictObject({ collection: collection.optional(), id: stixId, version: versionKey, json: z.string().min(2) }))
    .max(1000)
    .optional(),
  tombstones: z
    .array(z.strictObject({ collection: collection.optional(), id: stixId, version: versionKey }))
    .max(1000)
    .optional(),
  more: z.boolean().optional(),
  error: z.string().max(1000).optional(),
});

export async function signRecon(payload: ReconPayload, signer: Signer): Promise<string> {
  const jws = await signMessage(payload, RECON_TYPE, signer);
  if (jws.length > MAX_RECON_MESSAGE_BYTES) throw new ReconWireError(`anti-entropy message of ${jws.length} bytes is too large`);
  return jws;
}

export interface ReconCheck {
  readonly federation: string;
  readonly self: string;
  readonly trust: PeerTrust;
  /** how far a message's sentAt may be from now (default 5 minutes) */
  readonly maxSkewMs?: number;
}

/** Verifies a message addressed to this node; throws `ReconWireError` saying why it is refused. */
export async function verifyRecon(jws: string, check: ReconCheck, now = Date.now()): Promise<ReconPayload> {
  if (jws.length > MAX_RECON_MESSAGE_BYTES) throw new ReconWireError('message too large');
  const opened = await openSignedMessage(jws, RECON_TYPE, check.trust);
  if (!opened.ok) throw new ReconWireError(opened.reason === 'malformed' ? `not an anti-entropy message: ${opened.detail}` : opened.detail);
  const { peer, payload: parsed } = opened;
  const checked = payloadSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new ReconWireError(`malformed message at ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  const message = checked.data as ReconPayload;
  if (message.from !== peer.nodeId) throw new ReconWireError(`${peer.nodeId}'s key signed a message from ${message.from}`);
  if (message.federation !== check.federation) throw new ReconWireError(`message of federation ${message.federation}`);
  if (message.to !== check.self) throw new ReconWireError(`message addressed to ${message.to}`);
  const skew = Math.abs(now - Date.parse(message.sentAt));
  if (skew > (check.maxSkewMs ?? 300_000)) throw new ReconWireError(`message sent ${Math.round(skew / 1000)} s away from now`);
  return message;
}

export function reconSubject(federation: string, node: string): string {
  return `relay.${federation}.recon.${node}`;
}
