/**
 * Audit retention: removes audit records older than `audit.retention_days`, at start and then
 * daily, in bounded chunks (one chunk per event-loop turn, so serving goes on in between).
 */
import type { Logger } from 'pino';
import type { Store } from '../store/index.ts';

const DAY_MS = 86_400_000;
/** chunks per run: a run removes at most this many × 10,000 records per database */
const MAX_CHUNKS = 1000;

export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly retentionDays: number,
    private readonly log?: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One run; resolves with how many records were removed. */
  async run(now = Date.now()): Promise<number> {
    const before = (now - this.retentionDays * DAY_MS) * 1000;
    let removed = 0;
    for (let chunk = 0; chunk < MAX_CHUNKS && !this.stopped; chunk++) {
      const n = this.store.audit.pruneBefore(before);
      removed += n;
      if (n === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (removed > 0) this.log?.info({ removed, retention_days: this.retentionDays }, 'audit records past their retention removed');
    return removed;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.run()
        .catch((error: unknown) => this.log?.error({ err: error }, 'audit retention run failed; trying again tomorrow'))
        .finally(() => this.schedule(DAY_MS));
    }, ms);
    this.timer.unref?.();
  }
}
