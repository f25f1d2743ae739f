/**
 * Reconciliation cost at sizes real stores cannot be filled to on the benchmark machine: two
 * in-memory reconciliation sets (`MemoryItemSource`, the same `ItemSource` interface the store's
 * set implements) reconciled through the real session code (reconcile.ts), every message wrapped
 * and signed as anti-entropy sends it (recon-wire.ts: compact JWS, Ed25519, the same header
 * fields) and verified by the receiver. Bytes are counted as `PeerReconciliation.bytes` counts
 * them: the signed `step` messages, both ways.
 *
 * Anti-entropy follows every session with `fetch` exchanges (one when nothing is missing) and
 * `push` exchanges for what the peer lacks; those carry the versions and are counted apart.
 */
import { randomBytes } from 'node:crypto';
import type { FederationIdentity, PeerTrust } from '../src/federation/identity.ts';
import type { MemoryItemSource } from '../src/federation/item-source.ts';
import type { ReconItem } from '../src/federation/items.ts';
import { answerEncoded, reconcileAsInitiator, ReconcileSession } from '../src/federation/reconcile.ts';
import { signRecon, verifyRecon, type ReconPayload } from '../src/federation/recon-wire.ts';
import { Prng } from './prng.ts';

export interface SignedSide {
  readonly nodeId: string;
  readonly identity: FederationIdentity;
}

export interface SignedReconciliation {
  /** step exchanges (request/reply) of the session: `PeerReconciliation.rounds` */
  readonly rounds: number;
  /** bytes of the signed step messages both ways: `PeerReconciliation.bytes` */
  readonly bytes: number;
  /** bytes of the reconciliation messages inside them (before signing) */
  readonly reconBytes: number;
  readonly largestMessage: number;
  /** fetch exchanges that would follow, and the bytes of their signed framing without the versions they carry */
  readonly fetches: number;
  readonly fetchFramingBytes: number;
  /** items each side found the other lacks */
  readonly initiatorFound: number;
  readonly responderFound: number;
  readonly ms: number;
}

const FEDERATION = 'bench';
/** anti-entropy's chunk of one transfer message (anti-entropy.ts CHUNK_ITEMS) */
const CHUNK_ITEMS = 500;

function trustOf(side: SignedSide): PeerTrust {
  return {
    peers: new Map([[side.identity.keyId, { nodeId: side.nodeId, publicKey: side.identity.publicKey, keyId: side.identity.keyId }]]),
    revoked: new Set(),
  };
}

/**
 * One reconciliation of `collection` between the initiator's and the responder's sets, over
 * signed messages (no network: the responder answers in this process).
 */
export async function reconcileSigned(
  initiator: { side: SignedSide; source: MemoryItemSource },
  responder: { side: SignedSide; source: MemoryItemSource },
  collection: string,
): Promise<SignedReconciliation> {
  const session = randomBytes(16).toString('base64url');
  const a = new ReconcileSession(initiator.source);
  const b = new ReconcileSession(responder.source);
  const toResponder = { federation: FEDERATION, self: responder.side.nodeId, trust: trustOf(initiator.side) };
  const toInitiator = { federation: FEDERATION, self: initiator.side.nodeId, trust: trustOf(responder.side) };
  const header = (from: SignedSide, to: SignedSide, n: number) => ({
    federation: FEDERATION,
    from: from.nodeId,
    to: to.nodeId,
    session,
    n,
    sentAt: new Date().toISOString(),
    collection,
  });
  let n = 0;
  let bytes = 0;
  let reconBytes = 0;
  let largest = 0;
  /** one signed exchange as anti-entropy makes it; returns the verified reply */
  const exchange = async (body: Partial<ReconPayload> & { kind: 'step' | 'fetch' }, answer: (r: ReconPayload) => Partial<ReconPayload>) => {
    n++;
    const request = await signRecon({ ...header(initiator.side, responder.side, n), ...body }, initiator.side.identity);
    const received = await verifyRecon(request, toResponder);
    const reply = await signRecon(
      { ...header(responder.side, initiator.side, n), kind: 'reply', ...answer(received) },
      responder.side.identity,
    );
    largest = Math.max(largest, request.length, reply.length);
    return { request, reply, payload: await verifyRecon(reply, toInitiator) };
  };

  const t0 = performance.now();
  const stats = await reconcileAsInitiator(a, async (text) => {
    const { request, reply, payload } = await exchange({ kind: 'step', recon: text }, (r) => ({
      recon: answerEncoded(b, r.recon as string),
    }));
    bytes += request.length + reply.length;
    reconBytes += Buffer.byteLength(text) + Buffer.byteLength(payload.recon as string);
    return payload.recon as string;
  });
  const ms = performance.now() - t0;
  const initiatorFound = a.takeFound().length;
  const responderFound = b.takeFound().length;

  // the fetches that follow: one per chunk of what the responder found, at least one; framing only
  let fetches = 0;
  let fetchFramingBytes = 0;
  for (let left = responderFound; fetches === 0 || left > 0; left -= CHUNK_ITEMS) {
    const more = left > CHUNK_ITEMS;
    const { request, reply } = await exchange({ kind: 'fetch' }, () => ({ versions: [], tombstones: [], more }));
    fetches++;
    fetchFramingBytes += request.length + reply.length;
  }
  return {
    rounds: stats.rounds,
    bytes,
    reconBytes,
    largestMessage: largest,
    fetches,
    fetchFramingBytes,
    initiatorFound,
    responderFound,
    ms,
  };
}

/** `count` version items with random STIX ids and version keys (deterministic for a seed). */
export function versionItems(count: number, seed: number): ReconItem[] {
  const prng = new Prng(seed);
  const base = Date.UTC(2024, 0, 1);
  const items: ReconItem[] = new Array<ReconItem>(count);
  for (let i = 0; i < count; i++) {
    const at = new Date(base + prng.int(0, 600 * 86_400_000))
      .toISOString()
      .replace('Z', `${String(prng.int(0, 999_999)).padStart(6, '0')}Z`);
    items[i] = { kind: 'version', id: `indicator--${prng.uuid()}`, version: at };
  }
  return items;
}

/** `count` distinct indexes below `size`, chosen at random (deterministic for a seed). */
export function scatteredIndexes(size: number, count: number, seed: number): Set<number> {
  if (count > size) throw new Error(`cannot choose ${count} of ${size}`);
  const prng = new Prng(seed);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(prng.int(0, size - 1));
  return chosen;
}

/**
 * Bytes a reconciliation spends per differing item, beyond what comparing equal sets costs:
 * (bytes of the session with the differences − bytes of the no-op session over the same set)
 * ÷ the number of differences. Transfers of the versions themselves are in neither.
 */
export function bytesPerDifference(diffBytes: number, noopBytes: number, differences: number): number | null {
  if (differences <= 0) return null;
  return (diffBytes - noopBytes) / differences;
}
