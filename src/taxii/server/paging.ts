/**
 * `next` tokens [T §3.5]: an opaque, tamper-proof resume position.
 *
 * Format: base64url( 0x01 | position (u64 BE, microseconds) | HMAC-SHA256 ), 41 bytes, 55 chars.
 * The HMAC (key: the node secret) covers the version byte, the position and the binding:
 * member id, endpoint, API root, collection id, object id (for one-object endpoints) and the
 * canonical form of the query's other content-selecting parameters (not `limit`, not `next`).
 * A token from another member, another endpoint/collection or other filters fails the check
 * and is refused with 400, so a token can never widen what a query may see. Tokens do not
 * expire: they carry a position, not a snapshot.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Micros } from '../../stix/time.ts';
import { badRequest } from './errors.ts';

export interface TokenBinding {
  readonly member: string;
  readonly endpoint: string;
  readonly apiRoot: string;
  readonly collection: string;
  readonly objectId?: string;
  /** canonicalQuery(query) */
  readonly query: string;
}

const VERSION = 1;
const MAC_BYTES = 32;
const TOKEN_BYTES = 1 + 8 + MAC_BYTES;

function mac(secret: Uint8Array, head: Buffer, binding: TokenBinding): Buffer {
  const h = createHmac('sha256', secret);
  h.update(head);
  // length-prefixed fields: no two different bindings serialize to the same bytes
  for (const field of [binding.member, binding.endpoint, binding.apiRoot, binding.collection, binding.objectId ?? '', binding.query]) {
    const bytes = Buffer.from(field, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len);
    h.update(bytes);
  }
  return h.digest();
}

export function encodeNext(secret: Uint8Array, binding: TokenBinding, position: Micros): string {
  const head = Buffer.alloc(9);
  head.writeUInt8(VERSION, 0);
  head.writeBigUInt64BE(BigInt(position), 1);
  return Buffer.concat([head, mac(secret, head, binding)]).toString('base64url');
}

/** Returns the position a token resumes after; throws a 400 TaxiiError for any bad token. */
export function decodeNext(secret: Uint8Array, binding: TokenBinding, token: string): Micros {
  const invalid = () =>
    badRequest(
      "'next' is not valid for this query: repeat the query with the same parameters, or start again without 'next'",
      'invalid-next',
    );
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== TOKEN_BYTES || raw.readUInt8(0) !== VERSION) throw invalid();
  const head = raw.subarray(0, 9);
  const expected = mac(secret, head, binding);
  if (!timingSafeEqual(expected, raw.subarray(9))) throw invalid();
  const position = raw.readBigUInt64BE(1);
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid();
  return Number(position);
}
