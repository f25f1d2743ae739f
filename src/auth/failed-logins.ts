/**
 * Failed-login limiter for password checks: token buckets per client address and per (address,
 * member id), consulted before any password is hashed.
 *
 * Each password check takes one token from both buckets and a correct password gives it back, so
 * only failures use up the allowance: `perAddress` (and `perAddressMember`) failures in a burst,
 * refilling evenly over `windowMs`. Once a bucket is empty the check is refused with the time
 * until its next token, without hashing. There is deliberately no per-member limit across
 * addresses: an attacker could then lock a member out everywhere. Memory is bounded: at most
 * `maxTracked` buckets, the least recently used forgotten first (a forgotten bucket is full).
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface FailedLoginLimits {
  /** failed logins one client address may make in a burst */
  readonly perAddress: number;
  /** failed logins at one member id from one address in a burst */
  readonly perAddressMember: number;
  /** time over which an empty bucket refills completely */
  readonly windowMs: number;
  /** buckets kept at most (least recently used evicted first) */
  readonly maxTracked: number;
}

/** A password check the limiter allowed; settle it with the check's outcome. */
export interface LoginAttempt {
  /** the password was right (or the check did not run): the attempt costs nothing */
  refund(): void;
  /** the password was wrong: the attempt stays counted; says whether a limit is now reached */
  fail(): { readonly exhausted: boolean };
}

export type Admission =
  | { readonly ok: true; readonly attempt: LoginAttempt }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly limit: 'address' | 'address-member' };

interface Bucket {
  tokens: number;
  at: number;
}

/** Member ids are short slugs; anything longer is a guess and needs no more to be told apart. */
const MAX_MEMBER_KEY = 128;

export class FailedLoginLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: FailedLoginLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a password check for `member` from `client` would be refused now (takes nothing). */
  blocked(client: string, member: string): Extract<Admission, { ok: false }> | undefined {
    const at = this.now();
    const address = this.level(addressKey(client), this.limits.perAddress, at);
    if (address < 1) return this.refusal(address, this.limits.perAddress, 'address');
    const pair = this.level(pairKey(client, member), this.limits.perAddressMember, at);
    if (pair < 1) return this.refusal(pair, this.limits.perAddressMember, 'address-member');
    return undefined;
  }

  /** Takes one attempt from the client's buckets, or says how long to wait. */
  admit(client: string, member: string): Admission {
    const refused = this.blocked(client, member);
    if (refused) return refused;
    const keys: Array<[string, number]> = [
      [addressKey(client), this.limits.perAddress],
      [pairKey(client, member), this.limits.perAddressMember],
    ];
    for (const [key, capacity] of keys) this.add(key, capacity, -1);
    let settled = false;
    return {
      ok: true,
      attempt: {
        refund: () => {
          if (settled) return;
          settled = true;
          for (const [key, capacity] of keys) this.add(key, capacity, +1);
        },
        fail: () => {
          settled = true;
          const at = this.now();
          return { exhausted: keys.some(([key, capacity]) => this.level(key, capacity, at) < 1) };
        },
      },
    };
  }

  /** Buckets currently tracked (for tests of the memory bound). */
  get tracked(): number {
    return this.buckets.size;
  }

  /** Tokens in a bucket now (a bucket not tracked is full). */
  private level(key: string, capacity: number, at: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return capacity;
    const refilled = bucket.tokens + ((at - bucket.at) * capacity) / this.limits.windowMs;
    return Math.min(capacity, refilled);
  }

  private add(key: string, capacity: number, delta: number): void {
    const at = this.now();
    const tokens = Math.min(capacity, this.level(key, capacity, at) + delta);
    // delete first so that re-inserting moves the key to the most recently used end
    this.buckets.delete(key);
    if (tokens >= capacity) return; // full: same as untracked
    while (this.buckets.size >= this.limits.maxTracked) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
    this.buckets.set(key, { tokens, at });
  }

  private refusal(tokens: number, capacity: number, limit: 'address' | 'address-member') {
    const waitMs = ((1 - tokens) * this.limits.windowMs) / capacity;
    return { ok: false as const, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), limit };
  }
}

function addressKey(client: string): string {
  return `a ${client}`;
}

function pairKey(client: string, member: string): string {
  return `m ${client} ${member.slice(0, MAX_MEMBER_KEY)}`;
}

/**
 * The unit a client is limited as: an IPv4 address (also when IPv4-mapped), or the /64 prefix of
 * an IPv6 address (one host usually holds a whole /64). Unknown addresses share one key.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped) return mapped[1] as string;
  if (isIPv4(plain)) return plain;
  if (!isIPv6(plain)) return 'unknown';
  return `${ipv6Groups(plain).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, without leading zeros. */
function ipv6Groups(address: string): string[] {
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['v4', 'v4'] : [g])));
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.map((g) => g.replace(/^0+(?=.)/, ''));
}
