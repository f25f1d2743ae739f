/**
 * Subscription state as stored in LMDB (cursor: transactional; status: advisory), readable by
 * the running node and by `relay upstreams` from another process alike.
 */
import type { RelayConfig } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { formatTaxiiTimestamp } from '../stix/time.ts';
import type { Cursor } from './cursor.ts';
import { subscriptionSpecs } from './manager.ts';
import { cursorKey, statusKey, type StatusRecord, type SubscriptionState } from './records.ts';

export interface SubscriptionStatus {
  readonly key: string;
  readonly upstream: string;
  readonly remote: string;
  readonly local: string;
  readonly enabled: boolean;
  readonly state: SubscriptionState | 'never-polled';
  readonly lastAttemptAt: string | null;
  readonly lastSuccessAt: string | null;
  /** ms since the subscription was last caught up (null: never) */
  readonly lagMs: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly cursor: {
    readonly addedAfter: string | null;
    readonly last: string | null;
    readonly paging: 'next' | 'added_after';
    readonly nextIgnored: boolean;
  } | null;
  readonly objectsIngested: number;
  readonly versionsStored: number;
  readonly quarantined: number;
  readonly pages: number;
  readonly lastCycle: StatusRecord['lastCycle'];
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : formatTaxiiTimestamp(ms * 1000));

export function readSubscriptionStatus(config: RelayConfig, store: Store, now = Date.now()): SubscriptionStatus[] {
  return subscriptionSpecs(config).map((spec) => {
    const cursor = store.resources.getUpstream<Cursor>(cursorKey(spec.key));
    const status = store.resources.getUpstream<StatusRecord>(statusKey(spec.key));
    return {
      key: spec.key,
      upstream: spec.upstream,
      remote: spec.remote,
      local: spec.local,
      enabled: spec.enabled,
      state: spec.enabled ? (status?.state ?? 'never-polled') : 'disabled',
      lastAttemptAt: iso(status?.lastAttemptAt),
      lastSuccessAt: iso(status?.lastSuccessAt),
      lagMs: status?.lastSuccessAt ? Math.max(0, now - status.lastSuccessAt) : null,
      lastError: status?.lastError?.message ?? null,
      lastErrorAt: iso(status?.lastError?.at),
      cursor: cursor
        ? {
            addedAfter: cursor.addedAfter,
            last: cursor.last,
            paging: cursor.next ? 'next' : 'added_after',
            nextIgnored: cursor.nextIgnored,
          }
        : null,
      objectsIngested: cursor?.objects ?? 0,
      versionsStored: cursor?.stored ?? 0,
      quarantined: cursor?.quarantined ?? 0,
      pages: cursor?.pages ?? 0,
      lastCycle: status?.lastCycle ?? null,
    };
  });
}
