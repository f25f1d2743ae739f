/**
 * Leases over a JetStream key-value bucket: work that must be done once per federation (polling
 * an upstream subscription, forwarding to a share-back target) is done by the node that holds
 * its lease. One bucket per federation, `relay_<name>_leases`, whose bucket-wide TTL is the lease
 * TTL (Debian's nats-server 2.9 has no per-key TTL): an entry its holder stops renewing ages out
 * and another node's `create` then succeeds.
 *
 * - Taking a lease is `create` (the key must be absent: "expected last subject sequence 0"),
 *   renewing is `update` with the revision last written: JetStream refuses either when another
 *   node wrote in between, so two nodes never both believe they hold it.
 * - Renewal runs every ttl/3. A holder whose renewals fail (or are refused) for ttl/2 gives the
 *   lease up at once, before the entry can age out and a successor start: its `signal` aborts.
 * - A lease may carry a shared value in a separate key (`cursor.<kind>.<name>`): the holder writes
 *   it after each step and again with every renewal (the bucket TTL would age it out too); every
 *   other node reads it with each tick and remembers the latest, so a successor has it even when
 *   the holder died and its entries aged out together.
 * - `stop()` deletes the leases held (with their revision), so a successor need not wait a TTL.
 */
import type { KV, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { retryJetStreamSetUp } from './jetstream-setup.ts';

export const leaseBucketName = (federation: string) => `relay_${federation}_leases`;

export type LeaseKind = 'upstream' | 'forward';

/** KV keys allow [-/_=.a-zA-Z0-9]: names (subscription keys, targets) are base64url-encoded. */
const keyPart = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
export const leaseKey = (kind: LeaseKind, name: string) => `lease.${kind}.${keyPart(name)}`;
export const sharedKey = (kind: LeaseKind, name: string) => `cursor.${kind}.${keyPart(name)}`;

/** What a lease entry holds (JSON). */
export interface LeaseRecord {
  readonly holder: string;
  /** when this holder took the lease (ISO) */
  readonly since: string;
  readonly renewedAt: string;
}

export interface LeaseSettings {
  readonly federation: string;
  readonly nodeId: string;
  readonly ttlMs: number;
  /** JetStream replicas of the bucket (3 on a 3-server cluster) */
  readonly replicas: number;
}

export interface LeaseDeps {
  readonly nc: NatsConnection;
  readonly log: Logger;
}

export class LeaseError extends Error {
  override readonly name = 'LeaseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (value: unknown) => encoder.encode(JSON.stringify(value));

function decode(value: Uint8Array | undefined): unknown {
  if (!value || value.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(value)) as unknown;
  } catch {
    return undefined;
  }
}

/** One lease: held or not by this node, and the latest shared value seen or written. */
export class Lease {
  private revision = 0;
  private since = '';
  private lastRenewSentAt = 0;
  private lost: AbortController | undefined;
  private readonly waiters = new Set<() => void>();
  private latest: unknown;
  /** whether this node contends for the lease (a forwarder wants it only while it has work) */
  wanted = true;

  constructor(
    readonly kind: LeaseKind,
    readonly name: string,
    /** which of two shared values is further along (positive: a ahead of b) */
    private readonly compare: (a: unknown, b: unknown) => number,
    /** writes the shared value to the bucket (Leases: serialized, latest wins) */
    private readonly publish: (lease: Lease) => void,
  ) {}

  get key(): string {
    return leaseKey(this.kind, this.name);
  }

  /** While this node holds the lease: a signal that aborts the moment it is lost; else undefined. */
  held(): AbortSignal | undefined {
    return this.lost?.signal;
  }

  /** Resolves once this node holds the lease, or when `signal` aborts. */
  whenHeld(signal: AbortSignal): Promise<void> {
    if (this.lost || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The latest shared value this node knows (written by itself or read from the bucket). */
  shared(): unknown {
    return this.latest;
  }

  /** The holder shares its progress (written at once, and again with every renewal). */
  share(value: unknown): void {
    if (!this.lost) return;
    this.latest = value;
    this.publish(this);
  }

  /** @internal a value read from the bucket: kept when it is further along */
  observe(value: unknown): void {
    if (value === undefined) return;
    if (this.latest === undefined || this.compare(value, this.latest) > 0) this.latest = value;
  }

  /** @internal */
  acquired(revision: number, now: number): void {
    this.revision = revision;
    this.since = new Date(now).toISOString();
    this.lastRenewSentAt = now;
    this.lost = new AbortController();
    for (const w of [...this.waiters]) w();
  }

  /** @internal */
  renewed(revision: number, sentAt: number): void {
    this.revision = revision;
    this.lastRenewSentAt = sentAt;
  }

  /** @internal */
  drop(): void {
    const lost = this.lost;
    this.lost = undefined;
    this.revision = 0;
    lost?.abort(new LeaseError(`the lease ${this.kind} ${this.name} was lost`));
  }

  /** @internal */
  state(): { revision: number; since: string; lastRenewSentAt: number } {
    return { revision: this.revision, since: this.since, lastRenewSentAt: this.lastRenewSentAt };
  }
}

/** The node's leases in the federation's bucket, renewed and contended for every ttl/3. */
export class Leases {
  private kv: KV | undefined;
  private readonly leases = new Map<string, Lease>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly now = Date.now;
  private readonly publishing = new Map<string, Promise<void>>();
  private readonly republish = new Set<string>();

  constructor(
    private readonly settings: LeaseSettings,
    private readonly deps: LeaseDeps,
  ) {}

  /** Opens (creating when absent) the bucket; call before `lease()`s are used. */
  async open(): Promise<void> {
    const js = this.deps.nc.jetstream();
    const bucket = leaseBucketName(this.settings.federation);
    this.kv = await retryJetStreamSetUp(
      () => js.views.kv(bucket, { ttl: this.settings.ttlMs, history: 1, replicas: this.settings.replicas }),
      (reason, cause) => new LeaseError(`cannot open the lease bucket ${bucket}: ${reason}`, { cause }),
    );
    this.schedule(0);
  }

  /** The lease for one piece of work (the same object for the same kind and name). */
  lease(kind: LeaseKind, name: string, compare?: (a: unknown, b: unknown) => number): Lease {
    const key = leaseKey(kind, name);
    let lease = this.leases.get(key);
    if (!lease) {
      lease = new Lease(kind, name, compare ?? (() => 0), (l) => this.publishShared(l));
      this.leases.set(key, lease);
      this.schedule(0);
    }
    return lease;
  }

  /** Names of the leases this node holds now, as "<kind>:<name>". */
  held(): string[] {
    return [...this.leases.values()].filter((l) => l.held()).map((l) => `${l.kind}:${l.name}`);
  }

  get renewEveryMs(): number {
    return Math.max(100, Math.floor(this.settings.ttlMs / 3));
  }

  /** Stops renewing and releases the leases held, so another node takes them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.settled();
    const kv = this.kv;
    await Promise.all(
      [...this.leases.values()].map(async (lease) => {
        if (!lease.held()) return;
        const { revision } = lease.state();
        lease.drop();
        if (!kv) return;
        try {
          await kv.delete(lease.key, { previousSeq: revision });
        } catch {
          // taken or expired meanwhile, or NATS is gone: the entry ages out
        }
      }),
    );
  }

  private schedule(ms: number): void {
    if (this.stopped || !this.kv) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.renewEveryMs);
      });
    }, ms);
  }

  /** One round: renew or release what is held, read shared values, try to take what is wanted. */
  private async tick(): Promise<void> {
    for (const lease of this.leases.values()) {
      if (this.stopped) return;
      try {
        await this.tickOne(lease);
      } catch (error) {
        this.deps.log.debug({ lease: lease.key, err: (error as Error).message }, 'lease round failed');
      }
    }
  }

  private async tickOne(lease: Lease): Promise<void> {
    const kv = this.kv as KV;
    const { nodeId, ttlMs } = this.settings;
    if (lease.held()) {
      const { revision, since, lastRenewSentAt } = lease.state();
      if (!lease.wanted) {
        lease.drop();
        await kv.delete(lease.key, { previousSeq: revision }).catch(() => undefined);
        return;
      }
      const sentAt = this.now();
      try {
        const next = await kv.update(lease.key, encode({ holder: nodeId, since, renewedAt: new Date(sentAt).toISOString() }), revision);
        lease.renewed(next, sentAt);
      } catch (error) {
        // refused (someone else wrote: it aged out and was taken) or unanswered for too long
        if (isWrongSequence(error) || this.now() - lastRenewSentAt >= ttlMs / 2) {
          this.deps.log.warn({ lease: `${lease.kind}:${lease.name}`, err: (error as Error).message }, 'lease lost; its work stops here');
          lease.drop();
        }
        return;
      }
      // rewritten with every renewal: the bucket's TTL would age it out too
      if (lease.shared() !== undefined) this.publishShared(lease);
      return;
    }
    // not held: remember the holder's progress, then try to take it when wanted
    const entry = await kv.get(sharedKey(lease.kind, lease.name));
    if (entry && entry.operation === 'PUT') lease.observe(decode(entry.value));
    if (!lease.wanted || this.stopped) return;
    const sentAt = this.now();
    const record: LeaseRecord = { holder: nodeId, since: new Date(sentAt).toISOString(), renewedAt: new Date(sentAt).toISOString() };
    let revision: number;
    try {
      revision = await kv.create(lease.key, encode(record));
    } catch (error) {
      if (!isWrongSequence(error)) throw error;
      return; // another node holds it
    }
    this.deps.log.info({ lease: `${lease.kind}:${lease.name}` }, 'lease taken: this node does its work now');
    lease.acquired(revision, sentAt);
  }

  /** Writes a holder's shared value, one write at a time per lease, the latest value each time. */
  private publishShared(lease: Lease): void {
    if (this.publishing.has(lease.key)) {
      this.republish.add(lease.key);
      return;
    }
    const write = async () => {
      for (let i = 0; i < 1000; i++) {
        this.republish.delete(lease.key);
        if (!this.kv || !lease.held()) return;
        try {
          await this.kv.put(sharedKey(lease.kind, lease.name), encode(lease.shared()));
        } catch (error) {
          this.deps.log.debug(
            { lease: lease.key, err: (error as Error).message },
            'sharing lease progress failed; the next renewal retries',
          );
        }
        if (!this.republish.has(lease.key)) return;
      }
    };
    const done = write().finally(() => this.publishing.delete(lease.key));
    this.publishing.set(lease.key, done);
  }

  /** Resolves when the shared values written so far have reached the bucket (tests, stop). */
  async settled(): Promise<void> {
    await Promise.all([...this.publishing.values()]);
  }
}

/** JetStream's "wrong last sequence" (10071): the compare-and-set lost. */
function isWrongSequence(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; code?: string; message?: string } | undefined;
  return e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(e?.message ?? '');
}
