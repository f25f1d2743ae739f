/**
 * What a subscription keeps in the store, under its key in the upstream resources: the cursor
 * (written in the transaction of each page) and an advisory status, read by the running node and
 * by `relay upstreams` from another process alike.
 */

export type SubscriptionState =
  'standby' | 'idle' | 'polling' | 'backing-off' | 'failing' | 'auth-failed' | 'tls-failed' | 'config-error' | 'disabled' | 'stopped';

export interface StatusRecord {
  readonly state: SubscriptionState;
  readonly lastAttemptAt: number | null;
  /** last time a cycle completed and the subscription was caught up */
  readonly lastSuccessAt: number | null;
  readonly lastError: { readonly at: number; readonly message: string } | null;
  readonly lastCycle:
    | ({
        readonly objects: number;
        readonly stored: number;
        readonly quarantined: number;
        readonly pages: number;
        readonly ms: number;
      } & Partial<PhaseTimes>)
    | null;
}

/** Busy time per phase of a cycle, in ms (HTTP overlaps storing when pages are pipelined). */
export interface PhaseTimes {
  /** request sent until the whole body arrived */
  readonly httpMs: number;
  /** JSON parse and envelope checks */
  readonly parseMs: number;
  /** validation, serialization and the LMDB transaction (ingest) */
  readonly storeMs: number;
}

export const cursorKey = (key: string) => `cursor:${key}`;
export const statusKey = (key: string) => `status:${key}`;
