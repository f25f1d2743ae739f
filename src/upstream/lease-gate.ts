/**
 * Polling once per federation (federation/leases.ts): only the node holding a subscription's
 * lease polls it; it shares its cursor, and a successor resumes from the shared cursor when it
 * is ahead of its own. Without federation a subscription has no lease and always polls.
 * A subscription sees this only through its `PollGate`, the same whether federated or not.
 */
import type { Logger } from 'pino';
import { compareTimestamps, type Cursor } from './cursor.ts';

/** A subscription's lease, as the federation's lease bucket gives it (federation/leases.ts). */
export interface PollLease {
  /** while this node holds the lease: a signal that aborts the moment it is lost */
  held(): AbortSignal | undefined;
  /** resolves once this node holds the lease, or when `signal` aborts */
  whenHeld(signal: AbortSignal): Promise<void>;
  /** the furthest cursor the federation shared for this subscription */
  shared(): unknown;
  /** shares the cursor after a committed page */
  share(cursor: Cursor): void;
}

/** Which of two shared cursors is further along (positive: `a` is ahead). */
export function compareCursors(a: unknown, b: unknown): number {
  return compareTimestamps((a as Cursor | undefined)?.last ?? null, (b as Cursor | undefined)?.last ?? null);
}

/** Where a subscription keeps its own cursor (the node's store). */
export interface CursorSlot {
  read(): Cursor | undefined;
  write(cursor: Cursor): void;
}

/** What a subscription asks before a poll cycle, during it and after it. */
export interface PollGate {
  /**
   * The signal the next cycle runs under (`closing`, and the lease's loss when there is one), or
   * undefined while another node of the federation polls. Adopts the shared cursor when it is
   * ahead of this node's own.
   */
  open(closing: AbortSignal): AbortSignal | undefined;
  /** Resolves once this node may poll, or when `closing` aborts. */
  whenOpen(closing: AbortSignal): Promise<void>;
  /** Whether a cycle that ran under `signal` was cut because the lease was lost. */
  lost(signal: AbortSignal): boolean;
  /** While the lease is held: a signal that aborts when it is lost (ends a wait early). */
  held(): AbortSignal | undefined;
  /** Shares the cursor after a committed page. */
  share(cursor: Cursor): void;
}

/** A subscription without a lease: it always polls and shares nothing. */
const ALWAYS_OPEN: PollGate = {
  open: (closing) => closing,
  whenOpen: () => Promise.resolve(),
  lost: () => false,
  held: () => undefined,
  share: () => {},
};

/** The gate of a subscription (`key`) with `lease`, or one that is always open without it. */
export function pollGate(lease: PollLease | undefined, cursors: CursorSlot, log: Logger, key: string): PollGate {
  if (!lease) return ALWAYS_OPEN;
  return {
    open(closing) {
      const held = lease.held();
      if (!held) return undefined;
      adoptSharedCursor(lease, cursors, log, key);
      return AbortSignal.any([closing, held]);
    },
    whenOpen: (closing) => lease.whenHeld(closing),
    lost: (signal) => signal.aborted,
    held: () => lease.held(),
    share: (cursor) => lease.share(cursor),
  };
}

/** A successor resumes from the cursor the federation shared when it is ahead of its own. */
function adoptSharedCursor(lease: PollLease, cursors: CursorSlot, log: Logger, key: string): void {
  const shared = lease.shared() as Cursor | undefined;
  if (shared === undefined || compareCursors(shared, cursors.read()) <= 0) return;
  log.info({ subscription: key, position: shared.last }, "resuming from the federation's shared cursor");
  cursors.write(shared);
}
