/**
 * How the versions a node stored are cut into gossip envelopes: per collection, at most
 * `maxItems` each, and small enough that the signed envelope stays under `maxBytes` (a compact
 * JWS is the base64url of the payload, 4/3 of its size, plus a header and a signature). Pure.
 */
import type { GossipVersion } from './envelope.ts';

export interface BatchLimits {
  readonly maxItems: number;
  /** largest signed envelope, in bytes */
  readonly maxBytes: number;
}

/** Bytes the JWS around a payload adds beyond its base64url: header (~100 bytes encoded) and signature (86). */
const JWS_OVERHEAD = 400;
/** what the envelope's own fields take in the payload, generously (federation, origin, seq, hops, sentAt) */
const ENVELOPE_FIELDS = 400;

/** Signed size of an envelope whose payload is `payloadBytes` long, an upper bound. */
export function signedSize(payloadBytes: number): number {
  return Math.ceil((payloadBytes * 4) / 3) + JWS_OVERHEAD;
}

export interface Batches {
  /** envelopes' worth of versions, each from one collection, in the order given */
  readonly batches: GossipVersion[][];
  /** versions too large for any envelope (sent only by anti-entropy, if ever) */
  readonly tooLarge: GossipVersion[];
}

export function batchVersions(versions: readonly GossipVersion[], limits: BatchLimits): Batches {
  const byCollection = new Map<string | undefined, GossipVersion[]>();
  for (const v of versions) {
    const list = byCollection.get(v.collection) ?? [];
    list.push(v);
    byCollection.set(v.collection, list);
  }
  const batches: GossipVersion[][] = [];
  const tooLarge: GossipVersion[] = [];
  for (const list of byCollection.values()) {
    let current: GossipVersion[] = [];
    let payload = ENVELOPE_FIELDS;
    for (const v of list) {
      // +1: the comma between entries
      const size = Buffer.byteLength(JSON.stringify(v)) + 1;
      if (signedSize(ENVELOPE_FIELDS + size) > limits.maxBytes) {
        tooLarge.push(v);
        continue;
      }
      if (current.length >= limits.maxItems || signedSize(payload + size) > limits.maxBytes) {
        batches.push(current);
        current = [];
        payload = ENVELOPE_FIELDS;
      }
      current.push(v);
      payload += size;
    }
    if (current.length > 0) batches.push(current);
  }
  return { batches, tooLarge };
}
