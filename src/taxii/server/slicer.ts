/**
 * Page work in slices of event-loop time. Selecting a page and producing its pieces are
 * synchronous CPU work on the loop that also accepts connections, runs TLS handshakes and
 * parses requests, and Node accepts at most one new connection per turn of a busy loop: a turn
 * that renders many pages starves newcomers. So page work is queued here and run in arrival
 * order for at most `sliceMs` per turn (a task is never split: one longer than the slice runs
 * alone in its turn); the rest waits for the next turn, after the loop has polled for I/O.
 */
export class WorkSlicer {
  private queue: Array<() => void> = [];
  private head = 0;
  private scheduled = false;

  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Tasks waiting for their turn. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Runs `work` in a slice; resolves with its result or rejects with what it threw. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending === 0) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    const end = this.now() + this.sliceMs;
    do {
      const task = this.queue[this.head] as () => void;
      this.queue[this.head++] = noop; // let the task's closure go
      task();
    } while (this.pending > 0 && this.now() < end);
    if (this.pending === 0 || this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.schedule();
  };
}

const noop = () => {};
