/**
 * Anti-entropy: range-based set reconciliation (the negentropy family, see
 * https://logperiodic.com/rbsr.html and nostr-tools' nip77.ts) between two nodes' sets of items
 * (versions and tombstones, `items.ts`), by request/reply in messages of bounded size. At the end
 * each side knows exactly which of its items the other lacks, and sends them.
 *
 * Ranges are prefixes of the item hash (`item-source.ts`), so they split evenly, name themselves
 * in a few hex digits and match a store's cached bucket sums. A session goes:
 *
 *   initiator: fingerprint of everything.                      equal: the peer answers nothing.
 *   a side that finds a range differs answers, by its own count of items there:
 *     0..2 items          its item list (salted 8-byte ids)
 *     up to `sumLimit`    its count and the sum of its salted ids mod 2^64: if the range differs by
 *                         one item, the sum difference is that item's id, and the other side
 *                         resolves it at once (or asks for it by id)
 *     more                fingerprints of its 16 sub-ranges (256 when the range is large)
 *   after a failed sum decode (two or more differences): item list up to `listLimit`, else split.
 *   a side that receives an item list knows its own items the peer lacks and names the peer's
 *   items it lacks.
 *
 * Fingerprints are SHA-256 of a per-session random salt, the range's count and its hash sum mod
 * 2^256, truncated to 8 bytes: the salt makes each comparison of differing ranges a fresh 2^-64
 * chance of a false match, so a miss in one session is found by the next. Ids and sums of single
 * items are salted the same way. The hash sum under the salt is the same in every session (as in
 * negentropy): someone able to place tens of thousands of chosen item ids on one node could craft
 * two different ranges with equal sums; the worst that does is hide a difference from
 * anti-entropy (gossip still carries it). Nothing here vouches for data: what is transferred
 * afterwards is signed and validated like any gossip.
 *
 * Cost (measured in test/federation/reconcile.test.ts on 1,000,000 items): identical sets take one
 * round trip of about a hundred bytes; 1,000 scattered differences a few round trips and roughly
 * 120 bytes per difference.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ITEM_HASH_BYTES, type HashedItem, type ReconItem } from './items.ts';
import { HASH_HEX_DIGITS, isHashPrefix, type ItemSource } from './item-source.ts';

/** Version of the message format and of the item hash; both sides must speak the same. */
export const RECONCILE_PROTOCOL = 1;

export const DEFAULT_FRAME_LIMIT = 65_536;
export const MIN_FRAME_LIMIT = 4_096;
export const DEFAULT_SUM_LIMIT = 512;
export const DEFAULT_LIST_LIMIT = 32;
/** initiator messages per session before it is abandoned as not converging */
export const DEFAULT_MAX_ROUNDS = 10_000;

const SALT_BYTES = 16;
const FP_BYTES = 8;
const ID_BYTES = 8;
/** ranges with at most this many items are always answered with their list: as small as a sum, and final */
const DIRECT_LIST = 2;
/** longest id list in one entry (so that every single answer fits the smallest frame) */
const MAX_LIST_IDS = 256;

/**
 * One unit of a message, an array for compactness: `[kind, range prefix, ...]`.
 * - `f` fingerprint of one range
 * - `p` fingerprints of the 2^k sub-ranges (k = 4 or 8 bits, one or two more hex digits), in order
 * - `s` count and salted id sum of a range (sent when small)
 * - `d` "you hold exactly one item here that I lack: this id"
 * - `i` the sender's complete list of salted ids in a range
 * - `n` ids from the receiver's list that the sender lacks
 * Binary values are base64url.
 */
export type Entry =
  | readonly ['f', string, string]
  | readonly ['p', string, 4 | 8, string]
  | readonly ['s', string, number, string]
  | readonly ['d', string, string]
  | readonly ['i', string, string]
  | readonly ['n', string, string];

export interface ReconcileMessage {
  readonly v: typeof RECONCILE_PROTOCOL;
  /** the session's salt: in the initiator's first message only */
  readonly salt?: string;
  readonly e: readonly Entry[];
  /** the sender has more to say: the other side replies even if it has nothing */
  readonly more?: true;
}

export interface ReconcileOptions {
  /** largest encoded message in bytes (default 64 KiB, at least 4 KiB) */
  readonly frameLimit?: number;
  /** a differing range with at most this many items is first answered with its count and sum */
  readonly sumLimit?: number;
  /** after a failed sum decode, a range with at most this many items is answered with its list */
  readonly listLimit?: number;
}

export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
}

const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'expected base64url')
    .refine((s) => Buffer.from(s, 'base64url').length === bytes, `expected ${bytes} bytes`);
const idList = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'expected base64url')
  .refine((s) => Buffer.from(s, 'base64url').length % ID_BYTES === 0, `expected a multiple of ${ID_BYTES} bytes`)
  .refine((s) => Buffer.from(s, 'base64url').length <= MAX_LIST_IDS * ID_BYTES, `at most ${MAX_LIST_IDS} ids`);
const prefix = z.string().refine(isHashPrefix, 'expected a hash prefix (0 to 64 lowercase hex digits)');

const entrySchema = z.union([
  z.tuple([z.literal('f'), prefix, base64url(FP_BYTES)]),
  z
    .tuple([z.literal('p'), prefix, z.union([z.literal(4), z.literal(8)]), z.string()])
    .refine(([, p, k]) => p.length + k / 4 <= HASH_HEX_DIGITS, 'split beyond the hash length')
    .refine(([, , k, fps]) => Buffer.from(fps, 'base64url').length === 2 ** k * FP_BYTES, 'one fingerprint per sub-range'),
  z.tuple([
    z.literal('s'),
    prefix,
    z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 32),
    base64url(ID_BYTES),
  ]),
  z.tuple([z.literal('d'), prefix, base64url(ID_BYTES)]),
  z.tuple([z.literal('i'), prefix, idList]),
  z.tuple([z.literal('n'), prefix, idList]),
]);

const messageSchema = z.strictObject({
  v: z.literal(RECONCILE_PROTOCOL),
  salt: base64url(SALT_BYTES).optional(),
  e: z.array(entrySchema),
  more: z.literal(true).optional(),
});

export function encodeMessage(message: ReconcileMessage): string {
  return JSON.stringify(message);
}

/** Parses and checks a peer's message; anything else is a `ReconcileError` saying what is wrong. */
export function decodeMessage(text: string, frameLimit = DEFAULT_FRAME_LIMIT): ReconcileMessage {
  const bytes = Buffer.byteLength(text);
  if (bytes > frameLimit) throw new ReconcileError(`reconciliation message of ${bytes} bytes exceeds the frame limit of ${frameLimit}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ReconcileError('reconciliation message is not JSON');
  }
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== RECONCILE_PROTOCOL) {
    throw new ReconcileError(
      `unsupported reconciliation protocol version ${JSON.stringify(value.v)} (this node speaks ${RECONCILE_PROTOCOL})`,
    );
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ReconcileError(`malformed reconciliation message at ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as ReconcileMessage;
}

/** What a side has been asked to look at, one range at a time (entries of `p` become one each). */
type Work =
  | { readonly kind: 'compare'; readonly prefix: string; readonly fp: Buffer }
  | { readonly kind: 'sum'; readonly prefix: string; readonly count: number; readonly sum: bigint }
  | { readonly kind: 'decode'; readonly prefix: string; readonly id: bigint }
  | { readonly kind: 'list'; readonly prefix: string; readonly ids: readonly bigint[] }
  | { readonly kind: 'need'; readonly prefix: string; readonly ids: readonly bigint[] };

interface Outcome {
  readonly entries: readonly Entry[];
  readonly found: readonly HashedItem[];
}

const NOTHING: Outcome = { entries: [], found: [] };
const U64 = (n: bigint) => BigInt.asUintN(64, n);
const HEX = '0123456789abcdef';

function idBytes(ids: readonly bigint[]): string {
  const buf = Buffer.alloc(ids.length * ID_BYTES);
  ids.forEach((id, i) => buf.writeBigUInt64BE(id, i * ID_BYTES));
  return buf.toString('base64url');
}

function readIds(text: string): bigint[] {
  const buf = Buffer.from(text, 'base64url');
  const ids: bigint[] = [];
  for (let at = 0; at < buf.length; at += ID_BYTES) ids.push(buf.readBigUInt64BE(at));
  return ids;
}

function subPrefixes(prefix: string, bits: 4 | 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < 2 ** bits; i++) out.push(bits === 4 ? prefix + HEX[i] : prefix + (HEX[i >> 4] as string) + (HEX[i & 15] as string));
  return out;
}

/**
 * One side of one reconciliation session over an `ItemSource`. The initiator calls `open()` and
 * then `continue(reply)` until it returns null; the responder calls `answer(message)` for each
 * message and always replies. Either side collects its items the peer lacks with `takeFound()`.
 * Except for the salt, the state is a queue of ranges still to answer, so a side can be dropped
 * at any point; a new session starts over.
 */
export class ReconcileSession {
  readonly frameLimit: number;
  private readonly sumLimit: number;
  private readonly listLimit: number;
  private salt: Buffer | undefined;
  private role: 'initiator' | 'responder' | undefined;
  private pending: Work[] = [];
  private head = 0;
  private found: HashedItem[] = [];
  private foundTotal = 0;

  constructor(
    private readonly source: ItemSource,
    options: ReconcileOptions = {},
  ) {
    this.frameLimit = options.frameLimit ?? DEFAULT_FRAME_LIMIT;
    this.sumLimit = options.sumLimit ?? DEFAULT_SUM_LIMIT;
    this.listLimit = options.listLimit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(this.frameLimit) || this.frameLimit < MIN_FRAME_LIMIT) {
      throw new ReconcileError(`frame limit must be an integer of at least ${MIN_FRAME_LIMIT} bytes`);
    }
    if (!Number.isInteger(this.sumLimit) || this.sumLimit < DIRECT_LIST)
      throw new ReconcileError(`sum limit must be an integer of at least ${DIRECT_LIST}`);
    if (!Number.isInteger(this.listLimit) || this.listLimit < DIRECT_LIST || this.listLimit > MAX_LIST_IDS) {
      throw new ReconcileError(`list limit must be an integer from ${DIRECT_LIST} to ${MAX_LIST_IDS}`);
    }
  }

  /** Initiator: the first message. The salt is random unless given (tests). */
  open(salt: Buffer = randomBytes(SALT_BYTES)): ReconcileMessage {
    if (this.role) throw new ReconcileError('session already started');
    if (salt.length !== SALT_BYTES) throw new ReconcileError(`salt must be ${SALT_BYTES} bytes`);
    this.role = 'initiator';
    this.salt = salt;
    return { v: RECONCILE_PROTOCOL, salt: salt.toString('base64url'), e: [['f', '', this.fingerprint('').toString('base64url')]] };
  }

  /** Responder: takes the initiator's message and returns the reply. */
  answer(message: ReconcileMessage): ReconcileMessage {
    if (this.role === 'initiator') throw new ReconcileError('the initiator continues, it does not answer');
    if (!this.role) {
      if (!message.salt) throw new ReconcileError("the session's first message carries no salt");
      this.role = 'responder';
      this.salt = Buffer.from(message.salt, 'base64url');
    }
    this.enqueue(message.e);
    return this.emit();
  }

  /** Initiator: takes the responder's reply; returns the next message, or null when both are done. */
  continue(reply: ReconcileMessage): ReconcileMessage | null {
    if (this.role !== 'initiator') throw new ReconcileError('only the initiator continues a session');
    this.enqueue(reply.e);
    const next = this.emit();
    return next.e.length === 0 && !next.more && !reply.more ? null : next;
  }

  /** Items of this side that the peer lacks, found since the last call. */
  takeFound(): ReconItem[] {
    const items = this.found.map((f) => f.item);
    this.found = [];
    return items;
  }

  /** How many items of this side the peer lacks, found so far in this session. */
  get foundCount(): number {
    return this.foundTotal;
  }

  private enqueue(entries: readonly Entry[]): void {
    for (const entry of entries) {
      switch (entry[0]) {
        case 'f':
          this.pending.push({ kind: 'compare', prefix: entry[1], fp: Buffer.from(entry[2], 'base64url') });
          break;
        case 'p': {
          const fps = Buffer.from(entry[3], 'base64url');
          subPrefixes(entry[1], entry[2]).forEach((sub, i) =>
            this.pending.push({ kind: 'compare', prefix: sub, fp: fps.subarray(i * FP_BYTES, (i + 1) * FP_BYTES) }),
          );
          break;
        }
        case 's':
          this.pending.push({ kind: 'sum', prefix: entry[1], count: entry[2], sum: Buffer.from(entry[3], 'base64url').readBigUInt64BE(0) });
          break;
        case 'd':
          this.pending.push({ kind: 'decode', prefix: entry[1], id: Buffer.from(entry[2], 'base64url').readBigUInt64BE(0) });
          break;
        case 'i':
          this.pending.push({ kind: 'list', prefix: entry[1], ids: readIds(entry[2]) });
          break;
        case 'n':
          this.pending.push({ kind: 'need', prefix: entry[1], ids: readIds(entry[2]) });
          break;
      }
    }
  }

  /** Answers queued work until the frame is full; what does not fit waits for the next message. */
  private emit(): ReconcileMessage {
    const entries: Entry[] = [];
    let size = encodeMessage({ v: RECONCILE_PROTOCOL, e: [], more: true }).length;
    while (this.head < this.pending.length) {
      const outcome = this.answerWork(this.pending[this.head] as Work);
      const added = outcome.entries.reduce((n, e) => n + JSON.stringify(e).length + 1, 0);
      if (size + added > this.frameLimit) {
        if (entries.length === 0) throw new ReconcileError('a single answer exceeds the frame limit');
        break;
      }
      this.head++;
      size += added;
      entries.push(...outcome.entries);
      this.found.push(...outcome.found);
      this.foundTotal += outcome.found.length;
    }
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    const more = this.head < this.pending.length;
    return more ? { v: RECONCILE_PROTOCOL, e: entries, more: true } : { v: RECONCILE_PROTOCOL, e: entries };
  }

  private answerWork(work: Work): Outcome {
    switch (work.kind) {
      case 'compare':
        return this.fingerprint(work.prefix).equals(work.fp) ? NOTHING : this.differs(work.prefix, true);
      case 'sum':
        return this.decodeSum(work);
      case 'decode': {
        const { count } = this.source.summarize(work.prefix);
        if (count <= this.sumLimit + 1) {
          const match = this.saltedEntries(work.prefix).find((e) => e.id === work.id);
          if (match) return { entries: [], found: [match.entry] };
        }
        return this.differs(work.prefix, false);
      }
      case 'list': {
        const theirs = new Set(work.ids);
        if (theirs.size === 0) return { entries: [], found: [...this.source.entries(work.prefix)] };
        const found: HashedItem[] = [];
        for (const { entry, id } of this.saltedEntries(work.prefix)) {
          if (!theirs.delete(id)) found.push(entry);
        }
        return { entries: theirs.size > 0 ? [['n', work.prefix, idBytes([...theirs])]] : [], found };
      }
      case 'need': {
        const wanted = new Set(work.ids);
        return {
          entries: [],
          found: this.saltedEntries(work.prefix)
            .filter((e) => wanted.has(e.id))
            .map((e) => e.entry),
        };
      }
    }
  }

  /**
   * The peer sent its count and id sum for a small range that differs. If the counts differ by
   * one, the sums differ by exactly the extra item's id when that is the only difference: ours
   * (we found it) or theirs (we ask for it by id). Otherwise, or when the id is not here, the
   * range has several differences and is listed or split.
   */
  private decodeSum(work: Extract<Work, { kind: 'sum' }>): Outcome {
    const { count } = this.source.summarize(work.prefix);
    // A peer's sum is only worth decoding for a small range (it sends sums only for those).
    if (count > this.sumLimit + 1) return this.differs(work.prefix, false);
    if (count === work.count + 1) {
      const ours = this.saltedEntries(work.prefix);
      const extra = U64(ours.reduce((s, e) => s + e.id, 0n) - work.sum);
      const match = ours.find((e) => e.id === extra);
      if (match) return { entries: [], found: [match.entry] };
    } else if (count + 1 === work.count) {
      const sum = this.saltedEntries(work.prefix).reduce((s, e) => s + e.id, 0n);
      return { entries: [['d', work.prefix, idBytes([U64(work.sum - sum)])]], found: [] };
    }
    return this.differs(work.prefix, false);
  }

  /** Our answer for a range known to differ, chosen by how many items we hold there. */
  private differs(prefix: string, sumAllowed: boolean): Outcome {
    const { count } = this.source.summarize(prefix);
    if (count <= DIRECT_LIST || (!sumAllowed && count <= this.listLimit) || prefix.length >= HASH_HEX_DIGITS) {
      return { entries: [['i', prefix, idBytes(this.saltedEntries(prefix).map((e) => e.id))]], found: [] };
    }
    if (sumAllowed && count <= this.sumLimit) {
      const sum = U64(this.saltedEntries(prefix).reduce((s, e) => s + e.id, 0n));
      return { entries: [['s', prefix, count, idBytes([sum])]], found: [] };
    }
    const bits: 4 | 8 = count > 16 * this.sumLimit && prefix.length + 2 <= HASH_HEX_DIGITS ? 8 : 4;
    const fps = Buffer.concat(subPrefixes(prefix, bits).map((sub) => this.fingerprint(sub)));
    return { entries: [['p', prefix, bits, fps.toString('base64url')]], found: [] };
  }

  private fingerprint(prefix: string): Buffer {
    const { count, sum } = this.source.summarize(prefix);
    const counted = Buffer.alloc(8);
    counted.writeBigUInt64BE(BigInt(count));
    return createHash('sha256')
      .update(this.requireSalt())
      .update('f')
      .update(counted)
      .update(Buffer.from(sum.toString(16).padStart(64, '0'), 'hex'))
      .digest()
      .subarray(0, FP_BYTES);
  }

  /** Our items in a range with their salted ids: SHA-256(salt, "g", item hash), first 8 bytes. */
  private saltedEntries(prefix: string): Array<{ entry: HashedItem; id: bigint }> {
    const input = Buffer.alloc(SALT_BYTES + 1 + ITEM_HASH_BYTES);
    this.requireSalt().copy(input);
    input[SALT_BYTES] = 0x67; // "g"
    return Array.from(this.source.entries(prefix), (entry) => {
      entry.hash.copy(input, SALT_BYTES + 1);
      return { entry, id: hash('sha256', input, 'buffer').readBigUInt64BE(0) };
    });
  }

  private requireSalt(): Buffer {
    if (!this.salt) throw new ReconcileError('session not started');
    return this.salt;
  }
}

export interface ReconcileStats {
  /** request/reply exchanges */
  readonly rounds: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly largestMessage: number;
}

/**
 * Runs a session as initiator over any request/reply transport: `request` delivers one encoded
 * message to the peer's responder and returns its encoded reply. Every message is checked
 * against the frame limit both ways; a session that has not finished after `maxRounds`
 * exchanges is abandoned with a `ReconcileError`.
 */
export async function reconcileAsInitiator(
  session: ReconcileSession,
  request: (message: string) => Promise<string>,
  options: { maxRounds?: number; salt?: Buffer } = {},
): Promise<ReconcileStats> {
  const { frameLimit } = session;
  const maxRounds = options.maxRounds ?? DEFAULT_MAX_ROUNDS;
  let rounds = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  let largestMessage = 0;
  let message: ReconcileMessage | null = session.open(options.salt);
  while (message) {
    if (rounds >= maxRounds) throw new ReconcileError(`reconciliation did not finish in ${maxRounds} rounds`);
    const text = encodeMessage(message);
    const size = Buffer.byteLength(text);
    if (size > frameLimit) throw new ReconcileError(`outgoing message of ${size} bytes exceeds the frame limit of ${frameLimit}`);
    const replyText = await request(text);
    const replySize = Buffer.byteLength(replyText);
    rounds++;
    bytesSent += size;
    bytesReceived += replySize;
    largestMessage = Math.max(largestMessage, size, replySize);
    message = session.continue(decodeMessage(replyText, frameLimit));
  }
  return { rounds, bytesSent, bytesReceived, largestMessage };
}

/** The responder's half of `reconcileAsInitiator`: one encoded message in, the encoded reply out. */
export function answerEncoded(session: ReconcileSession, message: string): string {
  return encodeMessage(session.answer(decodeMessage(message, session.frameLimit)));
}
