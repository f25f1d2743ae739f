/**
 * Gossip envelopes: the versions (or tombstones) a node newly stored, signed by that node as a
 * compact JWS (jose, EdDSA over Ed25519, `kid` = the signer's key id), and their checks on
 * receipt. The signer is the origin: a node that passes on versions it received from a peer
 * signs a new envelope of its own with `hops` one more than it received, so nothing unsigned is
 * ever trusted and a version cannot travel more than `maxHops` nodes. Loops also die out because
 * a node publishes only versions it newly stored: a re-delivered version is a duplicate (the
 * store's `(id, version)` check) and is not published again.
 *
 * Receivers check, in this order, and count every rejection by reason: size; JWS form and
 * header; the key (not ours, not revoked, trusted); the signature; the payload's schema and
 * bounds; that the payload's origin is the key's node; the federation name; the hop limit; and
 * last the replay window (per origin: the highest contiguous sequence number plus the numbers
 * seen above it, bounded). The window is recorded only for envelopes that pass every other check.
 *
 * JetStream de-duplicates publishes by `Nats-Msg-Id` (`messageId`) only within the stream's
 * `duplicate_window` (2 minutes by default): a node that publishes again after a longer outage
 * relies on the replay window here, and re-delivered versions on the store's `(id, version)`
 * duplicate check, which keeps their `date_added`.
 */
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { isIdentifier } from '../stix/validate.ts';
import type { PeerTrust, TrustedPeer } from './identity.ts';

export const ENVELOPE_TYPE = 'relay-gossip+jws';

export interface GossipVersion {
  /** the origin's collection id (federated collections share ids) */
  readonly collection?: string | undefined;
  readonly id: string;
  /** version key (`stix/time.ts`) */
  readonly version: string;
  /** the version's JSON text as the origin stored it */
  readonly json: string;
}

export interface GossipTombstone {
  readonly collection?: string | undefined;
  readonly id: string;
  readonly version: string;
}

export interface GossipEnvelope {
  /** the federation's name: envelopes of another federation on the same servers are not for us */
  readonly federation: string;
  /** node id of the signer */
  readonly origin: string;
  /** the origin's sequence number, from 1, one per envelope, never reused */
  readonly seq: number;
  /** how many federation nodes the content passed through before the origin (0: its own sources) */
  readonly hops: number;
  /** RFC 3339 */
  readonly sentAt: string;
  readonly versions: readonly GossipVersion[];
  readonly tombstones: readonly GossipTombstone[];
}

export interface EnvelopeLimits {
  /** largest compact JWS accepted, in bytes (below NATS' default max_payload of 1 MiB) */
  readonly maxBytes: number;
  /** versions plus tombstones in one envelope */
  readonly maxItems: number;
  /** highest `hops` accepted */
  readonly maxHops: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = { maxBytes: 1_000_000, maxItems: 1000, maxHops: 4 };

export type RejectionReason =
  | 'too-large'
  /** not a compact JWS, wrong algorithm or header, or a payload outside the schema and bounds */
  | 'malformed'
  /** our own envelope, echoed back by the stream: dropped, not an attack */
  | 'from-self'
  | 'revoked-key'
  | 'unknown-key'
  /** the signature does not verify: tampered header, payload or signature */
  | 'bad-signature'
  /** a trusted key signed for another node */
  | 'wrong-origin'
  /** another federation's envelope */
  | 'not-for-us'
  | 'hop-limit'
  /** sequence number already seen, or older than the replay window can tell */
  | 'replay';

export const REJECTION_REASONS: readonly RejectionReason[] = [
  'too-large',
  'malformed',
  'from-self',
  'revoked-key',
  'unknown-key',
  'bad-signature',
  'wrong-origin',
  'not-for-us',
  'hop-limit',
  'replay',
];

export type VerifyOutcome =
  | { readonly ok: true; readonly envelope: GossipEnvelope; readonly peer: TrustedPeer }
  | { readonly ok: false; readonly reason: RejectionReason; readonly detail: string };

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VERSION_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

function envelopeSchema(limits: EnvelopeLimits) {
  const id = z
    .string()
    .max(300)
    .refine((v) => isIdentifier(v), 'expected a STIX id <type>--<UUID>');
  const version = z.string().regex(VERSION_KEY, 'expected a version key (nine fractional digits, Z)');
  const collection = z.string().min(1).max(200).optional();
  return z
    .strictObject({
      federation: z.string().min(1).max(100),
      origin: z.string().regex(NODE_ID, 'expected a node id'),
      seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      hops: z.number().int().nonnegative().max(1000),
      sentAt: z.iso.datetime({ offset: true }),
      versions: z.array(z.strictObject({ collection, id, version, json: z.string().min(2) })).max(limits.maxItems),
      tombstones: z.array(z.strictObject({ collection, id, version })).max(limits.maxItems),
    })
    .refine((e) => e.versions.length + e.tombstones.length > 0, 'an envelope carries at least one version or tombstone')
    .refine((e) => e.versions.length + e.tombstones.length <= limits.maxItems, `at most ${limits.maxItems} items per envelope`);
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || 'envelope'}: ${issue?.message ?? 'invalid'}`;
}

/** The `Nats-Msg-Id` for publishing an envelope, so JetStream drops a re-publish within its window. */
export function messageId(envelope: Pick<GossipEnvelope, 'origin' | 'seq'>): string {
  return `${envelope.origin}:${envelope.seq}`;
}

/** Signs an envelope with the node's key; refuses one this node itself would reject as malformed. */
export async function signEnvelope(
  envelope: GossipEnvelope,
  signer: { readonly privateKey: KeyObject; readonly keyId: string },
  limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS,
): Promise<string> {
  const checked = envelopeSchema(limits).safeParse(envelope);
  if (!checked.success) throw new Error(`not a valid gossip envelope: ${firstIssue(checked.error)}`);
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(envelope)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.keyId, typ: ENVELOPE_TYPE })
    .sign(signer.privateKey);
  if (jws.length > limits.maxBytes) throw new Error(`signed envelope of ${jws.length} bytes exceeds ${limits.maxBytes}: send fewer items`);
  return jws;
}

/** Per origin: every seq <= floor is closed (seen, or given up by the window); `seen` the ones above it. */
export interface ReplayState {
  readonly origins: Readonly<Record<string, { readonly floor: number; readonly seen: readonly number[] }>>;
}

/**
 * Which sequence numbers each origin's envelopes have used. Accepts every number once, in any
 * order, as long as it is above the origin's floor; remembers at most `window` numbers above the
 * floor, and when more arrive raises the floor past the oldest (numbers skipped over are then
 * refused: anti-entropy brings their versions). Its state is plain JSON for the store to keep.
 */
export class ReplayWindow {
  private readonly origins = new Map<string, { floor: number; seen: Set<number> }>();

  constructor(
    readonly window = 4096,
    state?: ReplayState,
  ) {
    if (!Number.isInteger(window) || window < 1) throw new Error('the replay window must hold at least one sequence number');
    for (const [origin, { floor, seen }] of Object.entries(state?.origins ?? {})) {
      this.origins.set(origin, { floor, seen: new Set(seen.filter((s) => s > floor)) });
    }
  }

  seen(origin: string, seq: number): boolean {
    const o = this.origins.get(origin);
    return o !== undefined && (seq <= o.floor || o.seen.has(seq));
  }

  /** Records `seq` as seen; call only after `seen` said no and every other check passed. */
  record(origin: string, seq: number): void {
    let o = this.origins.get(origin);
    if (!o) {
      o = { floor: 0, seen: new Set() };
      this.origins.set(origin, o);
    }
    if (seq <= o.floor) return;
    o.seen.add(seq);
    while (o.seen.delete(o.floor + 1)) o.floor++;
    if (o.seen.size > this.window) {
      const ascending = [...o.seen].sort((a, b) => a - b);
      o.floor = ascending[o.seen.size - this.window - 1] as number;
      for (const s of ascending) if (s <= o.floor) o.seen.delete(s);
      while (o.seen.delete(o.floor + 1)) o.floor++;
    }
  }

  state(): ReplayState {
    const origins: Record<string, { floor: number; seen: number[] }> = {};
    for (const [origin, { floor, seen }] of this.origins) origins[origin] = { floor, seen: [...seen].sort((a, b) => a - b) };
    return { origins };
  }
}

export interface VerifierOptions {
  readonly federation: string;
  /** this node: its own envelopes come back from the stream and are dropped */
  readonly self: { readonly nodeId: string; readonly keyId: string };
  readonly trust: PeerTrust;
  readonly limits?: Partial<EnvelopeLimits>;
  readonly replay?: ReplayWindow;
}

/** Checks received envelopes and counts what it accepts and rejects, by reason. */
export class EnvelopeVerifier {
  private trust: PeerTrust;
  private readonly limits: EnvelopeLimits;
  private readonly schema: ReturnType<typeof envelopeSchema>;
  readonly replay: ReplayWindow;
  private readonly counts = new Map<RejectionReason | 'accepted', number>();

  constructor(private readonly options: VerifierOptions) {
    this.trust = options.trust;
    this.limits = { ...DEFAULT_ENVELOPE_LIMITS, ...options.limits };
    this.schema = envelopeSchema(this.limits);
    this.replay = options.replay ?? new ReplayWindow();
  }

  /** Replaces the trusted and revoked keys (configuration reloaded). */
  setTrust(trust: PeerTrust): void {
    this.trust = trust;
  }

  /** accepted envelopes and rejections by reason, since this verifier was made */
  counters(): Record<RejectionReason | 'accepted', number> {
    const out = { accepted: this.counts.get('accepted') ?? 0 } as Record<RejectionReason | 'accepted', number>;
    for (const reason of REJECTION_REASONS) out[reason] = this.counts.get(reason) ?? 0;
    return out;
  }

  async verify(jws: string): Promise<VerifyOutcome> {
    const outcome = await this.check(jws);
    const key = outcome.ok ? 'accepted' : outcome.reason;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return outcome;
  }

  private async check(jws: string): Promise<VerifyOutcome> {
    const reject = (reason: RejectionReason, detail: string): VerifyOutcome => ({ ok: false, reason, detail });
    const bytes = Buffer.byteLength(jws);
    if (bytes > this.limits.maxBytes) return reject('too-large', `envelope of ${bytes} bytes exceeds ${this.limits.maxBytes}`);
    let kid: string;
    try {
      const header = decodeProtectedHeader(jws);
      if (header.alg !== 'EdDSA') return reject('malformed', `algorithm ${String(header.alg)}, expected EdDSA`);
      if (header.typ !== ENVELOPE_TYPE) return reject('malformed', `type ${String(header.typ)}, expected ${ENVELOPE_TYPE}`);
      if (typeof header.kid !== 'string') return reject('malformed', 'no key id (kid) in the header');
      if (jws.split('.').length !== 3) return reject('malformed', 'not a compact JWS');
      kid = header.kid;
    } catch {
      return reject('malformed', 'not a compact JWS');
    }
    if (kid === this.options.self.keyId) return reject('from-self', 'signed by this node');
    if (this.trust.revoked.has(kid)) return reject('revoked-key', `key ${kid} is revoked`);
    const peer = this.trust.peers.get(kid);
    if (!peer) return reject('unknown-key', `key ${kid} is not a trusted peer's`);

    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(jws, peer.publicKey, { algorithms: ['EdDSA'] }));
    } catch {
      return reject('bad-signature', `signature by ${peer.nodeId}'s key ${kid} does not verify`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      return reject('malformed', `payload signed by ${peer.nodeId} is not JSON`);
    }
    const checked = this.schema.safeParse(parsed);
    if (!checked.success) return reject('malformed', `payload signed by ${peer.nodeId}: ${firstIssue(checked.error)}`);
    const envelope = checked.data as GossipEnvelope;
    if (envelope.origin !== peer.nodeId) return reject('wrong-origin', `${peer.nodeId}'s key signed an envelope of ${envelope.origin}`);
    if (envelope.federation !== this.options.federation) return reject('not-for-us', `federation ${envelope.federation}`);
    if (envelope.hops > this.limits.maxHops) return reject('hop-limit', `${envelope.hops} hops, at most ${this.limits.maxHops}`);
    // No await between the replay check and recording it: two copies verified at once cannot both pass.
    if (this.replay.seen(envelope.origin, envelope.seq))
      return reject('replay', `${envelope.origin} sequence ${envelope.seq} already seen`);
    this.replay.record(envelope.origin, envelope.seq);
    return { ok: true, envelope, peer };
  }
}
