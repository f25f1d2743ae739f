/**
 * The forwarder's decisions, without I/O: the envelope a batch travels in, what an upstream's
 * status resource says about each entry of a batch, which refusals call for splitting a batch,
 * and how long to wait before trying a target again.
 */
import type { OutboxEntry, OutboxOutcome } from '../store/index.ts';

/** The Add Objects body for a batch: the entries' JSON as queued, never parsed again. */
export function envelopeOf(entries: readonly Pick<OutboxEntry, 'json'>[]): string {
  return `{"objects":[${entries.map((e) => e.json).join(',')}]}`;
}

/** The status resource's lists, as far as settling needs them. */
export interface StatusLists {
  readonly id: string;
  readonly status: 'complete' | 'pending';
  readonly successes: readonly Detail[];
  readonly failures: readonly Detail[];
  readonly pendings: readonly Detail[];
}

interface Detail {
  readonly id: string;
  readonly version: string;
  readonly message?: string | undefined;
}

type Listed = { readonly state: 'success' | 'failure' | 'pending'; readonly message?: string | undefined; readonly version?: string };

/**
 * What the status says about each entry: its outcome (sent, failed with the upstream's
 * message, retry when a complete status does not list it), or undefined while it is pending.
 * Entries are matched by id and version, or by id alone when the batch holds that id once (a
 * server may write the version in another timestamp precision).
 */
export function outcomesFrom(status: StatusLists, entries: readonly OutboxEntry[]): Map<number, OutboxOutcome | undefined> {
  const exact = new Map<string, Listed>();
  const byId = new Map<string, Listed[]>();
  const add = (state: Listed['state'], d: Detail) => {
    const listed: Listed = { state, message: d.message };
    exact.set(`${d.id}\u0000${d.version}`, listed);
    byId.set(d.id, [...(byId.get(d.id) ?? []).filter((l) => l.version !== d.version), { ...listed, version: d.version }]);
  };
  // settled lists win over a stale pending entry (a status may list an object in both)
  for (const d of status.pendings) add('pending', d);
  for (const d of status.failures) add('failure', d);
  for (const d of status.successes) add('success', d);
  const idsInBatch = new Map<string, number>();
  for (const e of entries) idsInBatch.set(e.id, (idsInBatch.get(e.id) ?? 0) + 1);

  const out = new Map<number, OutboxOutcome | undefined>();
  for (const entry of entries) {
    const sameId = byId.get(entry.id);
    const listed =
      exact.get(`${entry.id}\u0000${entry.version}`) ?? (idsInBatch.get(entry.id) === 1 && sameId?.length === 1 ? sameId[0] : undefined);
    const upstreamStatus = status.id;
    if (listed?.state === 'success') {
      out.set(entry.seq, { state: 'sent', upstreamStatus, ...(listed.message !== undefined ? { message: listed.message } : {}) });
    } else if (listed?.state === 'failure') {
      out.set(entry.seq, { state: 'failed', upstreamStatus, message: listed.message ?? 'refused by the upstream (no reason given)' });
    } else if (listed === undefined && status.status === 'complete') {
      out.set(entry.seq, { state: 'retry', upstreamStatus, message: `the upstream's status ${status.id} does not list it: sent again` });
    } else {
      out.set(entry.seq, undefined);
    }
  }
  return out;
}

/**
 * HTTP statuses that refuse the request's content, not the moment: a smaller batch may pass,
 * and a single object refused so is refused for good.
 */
export const CONTENT_REFUSALS: ReadonlySet<number> = new Set([400, 413, 415, 422]);

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
  /** after a refusal only the operator can fix (credentials, collection not writable) */
  readonly authRetryMs: number;
}

/**
 * How long a target waits after its `failures`-th failure in a row: the server's Retry-After
 * when it sent one (bounded by authRetryMs), else exponential from initialMs up to maxMs with
 * jitter (half to all of it), so restarted nodes do not retry in step.
 */
export function backoffDelay(
  failures: number,
  settings: BackoffSettings,
  random: () => number,
  how: { readonly needsOperator?: boolean; readonly retryAfterMs?: number | undefined } = {},
): number {
  if (how.needsOperator) return settings.authRetryMs;
  if (how.retryAfterMs !== undefined) return Math.min(how.retryAfterMs, settings.authRetryMs);
  const exponential = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(exponential * (0.5 + random() / 2));
}
