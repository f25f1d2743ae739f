/**
 * One subscription: a remote collection polled into a local collection through the single
 * ingest path. Each page is one LMDB transaction holding its objects, its quarantine records
 * and the advanced cursor, so a crash at any point resumes exactly after the last committed
 * page. Every loop is bounded; every wait is chosen here and reported through `onWait`.
 */
import type { Logger } from 'pino';
import type { Ingestor } from '../ingest/index.ts';
import type { Provenance, Store } from '../store/index.ts';
import { TaxiiHttpError, TaxiiProtocolError, isTransient, type ObjectsPage, type ObjectsQuery } from '../taxii/client/index.ts';
import { fromPosition, initialCursor, later, versionKeyOf, type Cursor } from './cursor.ts';
import type { UpstreamConnection } from './connection.ts';
import { failureState, isFatal, operatorMessage } from './failures.ts';
import { pollGate, type CursorSlot, type PollGate, type PollLease } from './lease-gate.ts';
import { afterPage, identityOf } from './paging.ts';
import { cursorKey, statusKey, type PhaseTimes, type StatusRecord } from './records.ts';

export type WaitReason = 'retry-after' | 'backoff' | 'poll-interval' | 'auth-retry';

export interface WaitRecord {
  readonly subscription: string;
  readonly ms: number;
  readonly reason: WaitReason;
  /** what caused a retry wait (error message), absent for the poll interval */
  readonly cause?: string;
}

/** Time and randomness, injectable so tests can record the waits the poller chooses. */
export interface PollerHooks {
  /** waits inside a poll cycle (retries); must reject or resolve early when `signal` aborts */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  now(): number;
  onWait?(wait: WaitRecord): void;
}

export interface SubscriptionSpec {
  /** unique key: "<upstream>/<remote>/<local collection id>" */
  readonly key: string;
  readonly upstream: string;
  readonly remote: string;
  /** local collection id */
  readonly local: string;
  readonly enabled: boolean;
  readonly pollIntervalMs: number;
  readonly pageSize: number;
  readonly start: string;
  readonly matchVersionAll: boolean;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly authRetryMs: number; readonly attempts: number };
}

/** A page and the query it answers (a retry may have asked another one). */
interface FetchedPage {
  readonly page: ObjectsPage;
  readonly query: ObjectsQuery;
}

export interface CycleResult extends Partial<PhaseTimes> {
  readonly ok: boolean;
  readonly caughtUp: boolean;
  readonly objects: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly pages: number;
  readonly error?: string;
}

/** A cycle never fetches more pages than this; the next cycle goes on from the cursor. */
export const MAX_PAGES_PER_CYCLE = 100_000;
/** A Retry-After further out than this is capped (a day). */
export const MAX_RETRY_AFTER_MS = 86_400_000;
/** Objects a cycle remembers having read, to notice a `next` that leads back to them. */
export const SEEN_MEMORY = 100_000;
const PROGRESS_EVERY_MS = 10_000;
const QUARANTINE_CONTENT = 64 * 1024;

export class Subscription {
  private readonly pending: Array<(result: CycleResult) => void> = [];
  private readonly abort = new AbortController();
  private wakeTimer: { wake: () => void } | undefined;
  private loopDone: Promise<void> | undefined;
  private closed = false;
  private woken = false;
  private phases = { httpMs: 0, parseMs: 0, storeMs: 0 };
  private direct: Promise<unknown> = Promise.resolve();
  readonly provenance: Provenance;

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly connection: UpstreamConnection,
    private readonly store: Store,
    private readonly ingestor: Ingestor,
    private readonly log: Logger,
    private readonly hooks: PollerHooks,
    /** the subscription's lease when the node is federated (looked up when the loop starts) */
    private readonly leaseFor?: (key: string) => PollLease | undefined,
  ) {
    this.provenance = { source: 'upstream', detail: `${spec.upstream}/${spec.remote}` };
  }

  start(): void {
    if (!this.spec.enabled) {
      this.writeStatus({ state: 'disabled' });
      return;
    }
    this.loopDone ??= this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wakeTimer?.wake();
    await this.loopDone;
    await this.direct;
  }

  /** Resolves after a complete poll cycle that started after this call. */
  pollNow(): Promise<CycleResult> {
    if (!this.loopDone) {
      // not started (tests, one-off polls): cycles still run one at a time over the cursor
      const run = this.direct.then(() => this.cycle(this.abort.signal)).catch((error: unknown) => this.failed(error));
      this.direct = run;
      return run;
    }
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.woken = true;
      this.wakeTimer?.wake();
    });
  }

  cursor(): Cursor | undefined {
    return this.store.resources.getUpstream<Cursor>(cursorKey(this.spec.key));
  }

  /** The cursor as the lease gate reads it and, adopting the federation's, writes it. */
  private readonly cursorSlot: CursorSlot = {
    read: () => this.cursor(),
    write: (cursor) => this.store.resources.putUpstream(cursorKey(this.spec.key), cursor),
  };

  private async loop(): Promise<void> {
    const gate = pollGate(this.leaseFor?.(this.spec.key), this.cursorSlot, this.log, this.spec.key);
    while (!this.closed) {
      const signal = gate.open(this.abort.signal);
      if (!signal) {
        // another node of the federation polls: answer pollNow() callers, wait for the lease
        for (const w of this.pending.splice(0)) w(STANDBY);
        this.writeStatus({ state: 'standby' });
        await gate.whenOpen(this.abort.signal);
        continue;
      }
      const waiters = this.pending.splice(0);
      this.woken = false;
      let result: CycleResult;
      let wait = this.spec.pollIntervalMs;
      let reason: WaitReason = 'poll-interval';
      try {
        result = await this.cycle(signal, gate);
      } catch (error) {
        if (this.closed) {
          for (const w of waiters) w(this.failed(new Error('subscription closed')));
          break;
        }
        if (gate.lost(signal)) {
          for (const w of waiters) w(STANDBY);
          continue; // the lease was lost mid-cycle: stop at once
        }
        result = this.failed(error);
        if (isFatal(error)) {
          wait = this.spec.backoff.authRetryMs;
          reason = 'auth-retry';
        }
      }
      for (const w of waiters) w(result);
      if (this.closed) break;
      if (this.pending.length > 0 || this.woken) continue;
      this.hooks.onWait?.({ subscription: this.spec.key, ms: wait, reason });
      await this.interruptibleSleep(wait, gate.held());
    }
    this.writeStatus({ state: 'stopped' });
  }

  /** Records a failed cycle (status, log) and returns its result. */
  private failed(error: unknown): CycleResult {
    const message = operatorMessage(this.spec, error);
    const state = failureState(error);
    if (state === 'failing') this.log.warn({ subscription: this.spec.key, err: message }, 'upstream poll failed');
    else this.log.error({ subscription: this.spec.key, err: message }, 'upstream subscription stopped; will retry slowly');
    if (error instanceof TaxiiHttpError && error.status === 404) this.connection.invalidate();
    this.writeStatus({ state, lastError: { at: this.hooks.now(), message } });
    return { ok: false, caughtUp: false, objects: 0, stored: 0, quarantined: 0, pages: 0, error: message };
  }

  /** Sleeps `ms`, or less when woken or when `lost` (the lease) aborts. */
  private interruptibleSleep(ms: number, lost?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        lost?.removeEventListener('abort', done);
        resolve();
      }
      lost?.addEventListener('abort', done, { once: true });
      this.wakeTimer = { wake: done };
    }).finally(() => {
      this.wakeTimer = undefined;
    });
  }

  /** One poll cycle: pages until caught up (bounded). Throws when the cycle cannot go on. */
  async cycle(signal: AbortSignal, gate?: Pick<PollGate, 'share'>): Promise<CycleResult> {
    const { spec, hooks } = this;
    const startedAt = hooks.now();
    this.phases = { httpMs: 0, parseMs: 0, storeMs: 0 };
    this.writeStatus({ state: 'polling', lastAttemptAt: startedAt });
    const { apiRootUrl, collectionId } = await this.connection.resolveCollection(spec.remote);
    let cursor = this.cursor() ?? initialCursor(spec.start, startedAt);
    if (cursor.next !== null && cursor.last !== null) {
      // A saved token is not resumed when there is a position: it may name a server-side paging
      // session (medallion repeats one token and moves it on with every request) that a request
      // answered after this cursor was committed (cut by a crash or a shutdown) already moved.
      cursor = fromPosition(cursor);
    }
    const totals = { objects: 0, stored: 0, quarantined: 0, pages: 0 };
    const seen = new Set<string>();
    let lastProgress = startedAt;
    let emptyRun = 0;
    let caughtUp = false;
    let stuck: string | undefined;

    // While a page is being stored, the request for the following one is already in flight
    // (only when the page says what follows; one request at a time; commits stay in order).
    let prefetched: { key: string; page: Promise<FetchedPage> } | undefined;
    const queryFor = (c: Cursor): ObjectsQuery => ({
      addedAfter: c.addedAfter,
      next: c.next !== null && !c.nextIgnored ? c.next : null,
      limit: spec.pageSize,
      ...(spec.matchVersionAll ? { matchVersion: 'all' } : {}),
    });
    // A request with a token that failed is asked again from the position, not with the token:
    // for a session token, the failed answer may have moved the session past a page we never got.
    const retryFor = (c: Cursor, q: ObjectsQuery): ObjectsQuery | undefined =>
      q.next && c.last !== null ? queryFor(fromPosition(c)) : undefined;
    const keyOf = (q: ObjectsQuery) => `${q.addedAfter ?? ''}\u0000${q.next ?? ''}`;

    for (let i = 0; i < MAX_PAGES_PER_CYCLE && !signal.aborted; i++) {
      const wanted = queryFor(cursor);
      let fetched: FetchedPage;
      try {
        const ahead = prefetched?.key === keyOf(wanted) ? prefetched.page : undefined;
        prefetched = undefined;
        fetched = await (ahead ?? this.fetchPage(apiRootUrl, collectionId, wanted, retryFor(cursor, wanted), signal));
      } catch (error) {
        if (wanted.next && error instanceof TaxiiHttpError && [400, 404, 410, 422].includes(error.status)) {
          // An expired paging session or token: resume from the last position.
          this.log.warn({ subscription: spec.key, status: error.status }, "upstream refused a 'next' token; resuming with added_after");
          cursor = fromPosition(cursor);
          continue;
        }
        throw error;
      }
      const { page, query } = fetched;
      const usingNext = Boolean(query.next);

      const boundary = new Set(cursor.boundary);
      const identities = page.objects.map(identityOf);
      if (usingNext && identities.length > 0 && identities.every((k) => boundary.has(k) || seen.has(k))) {
        // `next` brought nothing new (the same page again, or back to pages already read): the
        // server does not page with it. The token's value says nothing: servers may repeat one.
        this.log.warn({ subscription: spec.key }, "upstream's 'next' brought nothing new; paging with added_after from now on");
        cursor = { ...cursor, nextIgnored: true, next: null, addedAfter: cursor.last };
        continue;
      }
      for (const k of identities) {
        if (seen.size >= SEEN_MEMORY) seen.delete(seen.values().next().value as string);
        seen.add(k);
      }

      const fresh = page.objects.filter((o) => {
        const k = versionKeyOf(o);
        return k === undefined || !boundary.has(k);
      });
      let last = page.dateAddedLast ?? null;
      if (last === null && page.objects.length > 0) {
        last = await this.lastFromManifest(apiRootUrl, collectionId, cursor.last, page, signal);
      }
      // The cursor after this page and what follows it, decided before storing it.
      const step = afterPage({ cursor, page, query, last, emptyRun, pageSize: spec.pageSize });
      const { advanced, stop } = step;
      emptyRun = step.emptyRun;
      if (step.stuck) stuck = step.stuck;
      if (!stop && i + 1 < MAX_PAGES_PER_CYCLE) {
        const following = queryFor(advanced);
        const ahead = this.fetchPage(apiRootUrl, collectionId, following, retryFor(advanced, following), signal);
        ahead.catch(() => {}); // observed when awaited; never an unhandled rejection
        prefetched = { key: keyOf(following), page: ahead };
        await new Promise<void>((resolve) => setImmediate(resolve)); // let the request go out
      }

      const storing = performance.now();
      const committed = this.commitPage(fresh, page, advanced);
      this.phases.storeMs += performance.now() - storing;
      totals.objects += fresh.length;
      totals.stored += committed.stored;
      totals.quarantined += committed.quarantined;
      totals.pages++;
      cursor = committed.cursor;
      gate?.share(cursor);

      const now = hooks.now();
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        const seconds = (now - startedAt) / 1000;
        this.log.info(
          {
            subscription: spec.key,
            objects: totals.objects,
            stored: totals.stored,
            perSecond: Math.round(totals.objects / seconds),
            position: cursor.last,
          },
          'upstream backfill progress',
        );
        lastProgress = now;
      }
      if (stop) {
        caughtUp = stop === 'caught-up';
        break;
      }
    }

    const ms = hooks.now() - startedAt;
    const phases = {
      httpMs: Math.round(this.phases.httpMs),
      parseMs: Math.round(this.phases.parseMs),
      storeMs: Math.round(this.phases.storeMs),
    };
    if (totals.objects > 0) {
      this.log.info(
        {
          subscription: spec.key,
          ...totals,
          ...phases,
          perSecond: ms > 0 ? Math.round((totals.objects * 1000) / ms) : totals.objects,
          position: cursor.last,
        },
        'upstream poll cycle done',
      );
    }
    if (stuck) this.log.warn({ subscription: spec.key }, stuck);
    this.writeStatus({
      state: 'idle',
      lastCycle: { ...totals, ms, ...phases },
      ...(caughtUp ? { lastSuccessAt: hooks.now(), lastError: null } : {}),
      ...(stuck ? { lastError: { at: hooks.now(), message: stuck } } : {}),
    });
    return { ok: true, caughtUp, ...totals, ...phases, ...(stuck ? { error: stuck } : {}) };
  }

  /** Ingests a page and writes its quarantine records and the cursor in the same transaction. */
  private commitPage(objects: unknown[], page: ObjectsPage, advanced: Cursor): { cursor: Cursor; stored: number; quarantined: number } {
    let final = advanced;
    let quarantined = 0;
    const report = this.ingestor.ingest(this.spec.local, objects, this.provenance, {
      batchSize: Math.max(objects.length, 1),
      alsoInTransaction: (outcomes) => {
        let stored = 0;
        outcomes.forEach((o, i) => {
          if (o.kind === 'stored') stored++;
          if (o.kind !== 'rejected') return;
          quarantined++;
          let content: string;
          try {
            content = JSON.stringify(objects[i]) ?? String(objects[i]);
          } catch {
            content = String(objects[i]);
          }
          this.store.resources.addQuarantine({
            source: 'upstream',
            detail: this.provenance.detail,
            collection: this.spec.local,
            kind: 'object',
            reason: o.reason,
            url: page.url,
            ...(o.id !== undefined ? { objectId: o.id } : {}),
            ...(o.version !== undefined ? { version: o.version } : {}),
            content: content.slice(0, QUARANTINE_CONTENT),
          });
        });
        final = {
          ...advanced,
          objects: advanced.objects + objects.length,
          stored: advanced.stored + stored,
          quarantined: advanced.quarantined + quarantined,
          committedAt: this.hooks.now(),
        };
        this.store.resources.putUpstream(cursorKey(this.spec.key), final);
      },
    });
    return { cursor: final, stored: report.stored, quarantined };
  }

  /**
   * Get Objects with retries: Retry-After when given, else exponential backoff with jitter.
   * Retries ask `retry` instead of `query` when given; the answer says which query it is for.
   */
  private async fetchPage(
    apiRootUrl: string,
    collectionId: string,
    query: ObjectsQuery,
    retry: ObjectsQuery | undefined,
    signal: AbortSignal,
  ): Promise<FetchedPage> {
    const { backoff } = this.spec;
    for (let attempt = 0; ; attempt++) {
      const asked = attempt > 0 && retry ? retry : query;
      try {
        const client = this.connection.client();
        const t0 = performance.now();
        const raw = await client.raw(client.objectsUrl(apiRootUrl, collectionId, asked), { signal });
        const t1 = performance.now();
        try {
          return { page: client.parseObjectsPage(raw), query: asked };
        } finally {
          this.phases.httpMs += t1 - t0;
          this.phases.parseMs += performance.now() - t1;
        }
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof TaxiiProtocolError) this.quarantineResponse(error);
        if (!isTransient(error) || attempt + 1 >= backoff.attempts) throw error;
        let ms: number;
        let reason: WaitReason;
        if (error instanceof TaxiiHttpError && error.retryAfterMs !== undefined) {
          ms = Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS);
          reason = 'retry-after';
        } else {
          const cap = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
          ms = Math.round(cap / 2 + (this.hooks.random() * cap) / 2);
          reason = 'backoff';
        }
        const cause = (error as Error).message;
        this.writeStatus({ state: 'backing-off', lastError: { at: this.hooks.now(), message: cause } });
        this.log.warn({ subscription: this.spec.key, err: cause, waitMs: ms, attempt: attempt + 1 }, 'upstream request failed; retrying');
        this.hooks.onWait?.({ subscription: this.spec.key, ms, reason, cause });
        await this.hooks.sleep(ms, signal);
      }
    }
  }

  /** A response that is not a TAXII envelope is kept for inspection (`relay quarantine`). */
  private quarantineResponse(error: TaxiiProtocolError): void {
    this.store.resources.addQuarantine({
      source: 'upstream',
      detail: this.provenance.detail,
      collection: this.spec.local,
      kind: 'envelope',
      reason: `${error.kind}: ${error.message}`,
      url: error.url,
      content: (error.excerpt ?? '').slice(0, QUARANTINE_CONTENT),
    });
  }

  /**
   * The page's X-TAXII-Date-Added-Last is missing: ask the manifest for the same position
   * (added_after = the last known position, same limit and version filter) and take the newest
   * date_added among the records of this page's objects. Null when the manifest cannot tell.
   */
  private async lastFromManifest(
    apiRootUrl: string,
    collectionId: string,
    from: string | null,
    page: ObjectsPage,
    signal: AbortSignal,
  ): Promise<string | null> {
    if (signal.aborted) return null;
    const keys = new Set(page.objects.map(versionKeyOf).filter((k): k is string => k !== undefined));
    const ids = new Set([...keys].map((k) => k.slice(0, k.indexOf('|'))));
    try {
      const manifest = await this.connection.client().getManifest(apiRootUrl, collectionId, {
        addedAfter: from,
        limit: this.spec.pageSize,
        ...(this.spec.matchVersionAll ? { matchVersion: 'all' } : {}),
      });
      let best: string | null = null;
      for (const r of manifest.records) {
        if (keys.has(`${r.id}|${r.version}`) || ids.has(r.id)) best = later(best, r.date_added);
      }
      return best;
    } catch (error) {
      this.log.debug({ subscription: this.spec.key, err: (error as Error).message }, 'manifest fallback for date_added failed');
      return null;
    }
  }

  private writeStatus(patch: Partial<StatusRecord>): void {
    const current = this.store.resources.getUpstream<StatusRecord>(statusKey(this.spec.key)) ?? {
      state: 'idle',
      lastAttemptAt: null,
      lastSuccessAt: null,
      lastError: null,
      lastCycle: null,
    };
    try {
      this.store.resources.putUpstream(statusKey(this.spec.key), { ...current, ...patch });
    } catch {
      // the store may be closing; status is advisory
    }
  }
}

/** What pollNow() answers while another node of the federation polls. */
const STANDBY: CycleResult = {
  ok: true,
  caughtUp: false,
  objects: 0,
  stored: 0,
  quarantined: 0,
  pages: 0,
  error: 'another node of the federation holds the lease and polls',
};
