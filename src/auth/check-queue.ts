/**
 * A bound on concurrent password checks. scrypt runs on libuv's threadpool, which Bearer token
 * verification (WebCrypto) and file I/O share; a few checks at a time leave it and the CPU to
 * everything else. Waiting checks form a bounded FIFO, and one client may hold only a few places
 * running or waiting; a check that does not fit is refused at once (the caller answers 503 with
 * Retry-After) instead of queueing without end.
 */

export interface CheckQueueLimits {
  /** checks running at once */
  readonly concurrency: number;
  /** checks waiting at most, beyond those running */
  readonly queue: number;
  /** checks one client may have running or waiting */
  readonly perClient: number;
}

export type Queued<T> =
  { readonly ok: true; readonly value: Promise<T> } | { readonly ok: false; readonly reason: 'queue-full' | 'client-busy' };

export class CheckQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: CheckQueueLimits) {}

  /** Runs `task` when a slot is free, or refuses at once when the queue or the client is full. */
  run<T>(client: string, task: () => Promise<T>): Queued<T> {
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.limits.perClient) return { ok: false, reason: 'client-busy' };
    if (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.queue) return { ok: false, reason: 'queue-full' };
    this.perClient.set(client, held + 1);
    return {
      ok: true,
      value: this.whenFree()
        .then(task)
        .finally(() => this.release(client)),
    };
  }

  /** Checks running and waiting now. */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private whenFree(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    // the slot is handed over by release(), so `running` stays counted
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(client: string): void {
    const held = (this.perClient.get(client) ?? 1) - 1;
    if (held > 0) this.perClient.set(client, held);
    else this.perClient.delete(client);
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
