/**
 * Admission to page work (issue 9, item 11): how many pages are produced and sent at once,
 * and who waits. Each page holds index entries and a piece of text while its reader takes it,
 * so the number in flight bounds the memory page answers use; the CPU work itself is paced by
 * slicer.ts.
 *
 *   - at most `inFlight` pages are produced and sent at once (a page holds its slot until its
 *     last byte is handed to the connection, or the connection closes);
 *   - at most `queueLength` requests wait for a slot, in arrival order, each at most
 *     `queueTimeoutMs`;
 *   - one member holds at most `perMember` of the slots and queue places together;
 *   - beyond these the answer is 503 (the node is busy) or 429 (this member asks too much),
 *     both with Retry-After, which TAXII clients wait out.
 */
import { TaxiiError } from './errors.ts';

export interface AdmissionLimits {
  readonly inFlight: number;
  readonly queueLength: number;
  readonly queueTimeoutMs: number;
  readonly perMember: number;
  /** the Retry-After of a 429 or 503, in seconds */
  readonly retryAfterSeconds: number;
}

/** A slot for one page; `release` (idempotent) hands it to the next waiter. */
export interface Permit {
  release(): void;
}

interface Waiter {
  readonly member: string;
  readonly resolve: (permit: Permit) => void;
  /** clears the waiter's timer and abort listener */
  cleanup(): void;
}

/** Why a request is not admitted: the node's queue (503) or the member's share (429). */
export type Refusal = 'busy' | 'queue-timeout' | 'member-share';

const gone = () => new Error('the client went away while waiting for a page slot');

export class PageGate {
  private running = 0;
  /** waiters in arrival order (a Set keeps insertion order and deletes in O(1)) */
  private readonly waiting = new Set<Waiter>();
  private readonly perMember = new Map<string, number>();

  constructor(
    private readonly limits: AdmissionLimits,
    /** told about every refusal (for the log) */
    private readonly onRefusal: (member: string, why: Refusal) => void = () => {},
  ) {}

  /** Pages being produced or sent, and requests waiting. */
  get load(): { readonly inFlight: number; readonly queued: number } {
    return { inFlight: this.running, queued: this.waiting.size };
  }

  /**
   * Resolves with a permit when a slot is free and it is this request's turn; rejects with a
   * TaxiiError 429/503 (Retry-After) when refused, or with an Error when `signal` aborts (the
   * client went away) while waiting.
   */
  admit(member: string, signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(gone());
    const held = this.perMember.get(member) ?? 0;
    if (held >= this.limits.perMember) return Promise.reject(this.refuse(member, 'member-share'));
    if (this.running < this.limits.inFlight && this.waiting.size === 0) {
      this.perMember.set(member, held + 1);
      return Promise.resolve(this.permit(member));
    }
    if (this.waiting.size >= this.limits.queueLength) return Promise.reject(this.refuse(member, 'busy'));
    this.perMember.set(member, held + 1);
    return new Promise<Permit>((resolve, reject) => {
      const leave = (error: unknown) => {
        if (!this.waiting.delete(waiter)) return;
        waiter.cleanup();
        this.forget(member);
        reject(error);
      };
      const timer = setTimeout(() => leave(this.refuse(member, 'queue-timeout')), this.limits.queueTimeoutMs);
      timer.unref();
      const onAbort = () => leave(gone());
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        member,
        resolve,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.waiting.add(waiter);
    });
  }

  /** A slot for `member` (already counted in its share). */
  private permit(member: string): Permit {
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        this.forget(member);
        this.admitWaiters();
      },
    };
  }

  /** Hands free slots to the waiters, first come first served. */
  private admitWaiters(): void {
    while (this.running < this.limits.inFlight) {
      const first = this.waiting.values().next();
      if (first.done) return;
      const waiter = first.value;
      this.waiting.delete(waiter);
      waiter.cleanup();
      waiter.resolve(this.permit(waiter.member));
    }
  }

  private forget(member: string): void {
    const held = (this.perMember.get(member) ?? 1) - 1;
    if (held <= 0) this.perMember.delete(member);
    else this.perMember.set(member, held);
  }

  private refuse(member: string, why: Refusal): TaxiiError {
    this.onRefusal(member, why);
    const retry = String(this.limits.retryAfterSeconds);
    if (why === 'member-share') {
      return new TaxiiError(429, 'Too many requests', {
        description: `This member already has ${this.limits.perMember} page requests in progress; retry after ${retry} seconds.`,
        errorCode: 'too-many-requests',
        headers: { 'Retry-After': retry },
      });
    }
    return new TaxiiError(503, 'Service unavailable', {
      description: `The server is busy serving pages to other clients; retry after ${retry} seconds.`,
      errorCode: 'busy',
      headers: { 'Retry-After': retry },
    });
  }
}
