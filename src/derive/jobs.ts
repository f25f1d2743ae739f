/**
 * Derivation jobs: work over a whole collection that the configuration makes necessary, done by
 * the re-indexer a chunk per step (durable: a restart resumes where the last step left off).
 *
 *   refacts-all       every object's own facts derived again: what derivation reads from the
 *                     configuration changed (default_tlp, marking_map, sector sources), or an
 *                     operator asked (`relay reindex`)
 *   announce-widened  a member may now receive more than before (a sector added, a ceiling
 *                     raised, a collection granted): what it newly may receive is announced
 *                     again, so its client's `added_after` cursor does not skip it. Other members
 *                     then receive those same versions again, which TAXII clients treat as
 *                     nothing new.
 *
 * At start (`reconcileConfiguration`) the node compares fingerprints of both with what it
 * recorded last time and queues the jobs a difference calls for; no operator step is needed.
 */
import { createHash } from 'node:crypto';
import { decide } from '../policy/decide.ts';
import type { Reader } from '../policy/reach.ts';
import type { NodePolicy } from '../policy/types.ts';
import type { ObjectAttributes } from '../stix/attributes.ts';
import type { Micros } from '../stix/time.ts';
import type { Store } from '../store/index.ts';

/** Bumped when the rules that derive facts or linked attributes change, so stores re-derive once. */
export const DERIVATION_RULES = 1;

export type Job =
  | {
      readonly kind: 'refacts-all';
      readonly collections: readonly string[];
      /** where the job stands: the collection (index into `collections`) and the last id queued */
      readonly at: { readonly collection: number; readonly afterId: string };
    }
  | {
      readonly kind: 'announce-widened';
      readonly member: string;
      readonly scopes: ReadonlyArray<{
        readonly collection: string;
        readonly before: readonly Reader[];
        readonly after: readonly Reader[];
      }>;
      readonly at: { readonly scope: number; readonly afterDate: Micros };
    };

/** What one member reads, per collection, as the node's configuration says. */
export interface MemberReaders {
  readonly member: string;
  readonly readers: ReadonlyArray<{ readonly collection: string; readonly reader: Reader }>;
}

export function jobsOf(store: Store): Job[] {
  return [...((store.resources.setting('derivation-jobs') ?? []) as Job[])];
}

function putJobs(store: Store, jobs: readonly Job[]): void {
  store.resources.putSetting('derivation-jobs', jobs);
}

/** Queues a job (inside or outside a transaction). */
export function addJob(store: Store, job: Job): void {
  store.transaction(() => putJobs(store, [...jobsOf(store), job]));
}

/** Every object of every collection (or of these) to have its facts derived again. */
export function refactsAll(store: Store, collections: readonly string[] = store.index.collections()): Job {
  return { kind: 'refacts-all', collections: [...collections], at: { collection: 0, afterId: '' } };
}

/** A fingerprint of what derivation reads from the configuration. */
export function derivationFingerprint(policy: NodePolicy): string {
  const canonical = JSON.stringify({
    rules: DERIVATION_RULES,
    defaultTlp: policy.defaultTlp,
    markingMap: [...policy.markingMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    sectorProperties: [...policy.sectorProperties].sort(),
    sectorLabels: [...policy.sectorLabels].sort(),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export interface Reconciliation {
  /** whether every object was queued to be derived again (derivation settings changed) */
  readonly rederiveAll: boolean;
  /** members whose reach changed: what they newly may receive is announced again */
  readonly widened: readonly string[];
}

/**
 * At start: compares what derivation reads from the configuration, and what each member reads,
 * with what was recorded last time; queues the jobs a difference calls for and records the new
 * state. A fresh store (or a member seen for the first time) needs nothing: nothing was
 * derived or delivered under other settings.
 */
export function reconcileConfiguration(store: Store, policy: NodePolicy, members: readonly MemberReaders[]): Reconciliation {
  if (!store.keepsPolicyAttributes) return { rederiveAll: false, widened: [] };
  return store.transaction(() => {
    const fingerprint = derivationFingerprint(policy);
    const recorded = store.resources.setting('derivation-fingerprint');
    const hasData = store.index.collections().length > 0;
    const rederiveAll = recorded !== fingerprint && (recorded !== undefined || hasData);
    const jobs = jobsOf(store);
    if (rederiveAll) jobs.push(refactsAll(store));
    store.resources.putSetting('derivation-fingerprint', fingerprint);

    const before = store.resources.setting('member-profiles') ?? {};
    const now: Record<string, { fingerprint: string; snapshot: unknown }> = {};
    const widened: string[] = [];
    for (const m of members) {
      const snapshot = m.readers;
      const print = createHash('sha256').update(JSON.stringify(snapshot)).digest('hex');
      now[m.member] = { fingerprint: print, snapshot };
      const was = before[m.member];
      if (!was || was.fingerprint === print) continue;
      const old = was.snapshot as MemberReaders['readers'];
      const collections = [...new Set(snapshot.map((r) => r.collection))];
      const scopes = collections.map((collection) => ({
        collection,
        before: old.filter((r) => r.collection === collection).map((r) => r.reader),
        after: snapshot.filter((r) => r.collection === collection).map((r) => r.reader),
      }));
      jobs.push({ kind: 'announce-widened', member: m.member, scopes, at: { scope: 0, afterDate: 0 } });
      widened.push(m.member);
    }
    store.resources.putSetting('member-profiles', now);
    putJobs(store, jobs);
    return { rederiveAll, widened };
  });
}

/**
 * Works on the first job for at most `chunk` objects (inside the re-indexer's transaction):
 * queues their work and moves the job on. Returns how many objects it looked at (0: no job).
 */
export function stepJobs(store: Store, policy: NodePolicy, chunk: number): number {
  const jobs = jobsOf(store);
  const job = jobs[0];
  if (job === undefined) return 0;
  const { next, seen } = job.kind === 'refacts-all' ? refactsChunk(store, job, chunk) : announceChunk(store, policy, job, chunk);
  putJobs(store, next === undefined ? jobs.slice(1) : [next, ...jobs.slice(1)]);
  return Math.max(seen, 1);
}

function refactsChunk(store: Store, job: Extract<Job, { kind: 'refacts-all' }>, chunk: number): { next: Job | undefined; seen: number } {
  let { collection: c, afterId } = job.at;
  let seen = 0;
  while (c < job.collections.length && seen < chunk) {
    const collection = job.collections[c] as string;
    let last: string | undefined;
    for (const id of store.versions.idsIn(collection, afterId)) {
      store.queue.add(collection, id, { refacts: true });
      last = id;
      if (++seen >= chunk) break;
    }
    if (last === undefined || seen < chunk) {
      c++;
      afterId = '';
    } else {
      afterId = last;
    }
  }
  return { next: c < job.collections.length ? { ...job, at: { collection: c, afterId } } : undefined, seen };
}

function announceChunk(
  store: Store,
  policy: NodePolicy,
  job: Extract<Job, { kind: 'announce-widened' }>,
  chunk: number,
): { next: Job | undefined; seen: number } {
  let { scope: s, afterDate } = job.at;
  let seen = 0;
  const receives = (readers: readonly Reader[], a: ObjectAttributes) =>
    readers.some((r) => decide(r.profile, a, policy).allow && (r.viewFilter === undefined || decide(r.viewFilter, a, policy).allow));
  while (s < job.scopes.length && seen < chunk) {
    const scope = job.scopes[s] as (typeof job.scopes)[number];
    const page = store.index.scan({
      collection: scope.collection,
      after: afterDate,
      limit: chunk - seen,
      accept: (e) => e.isLast,
      maxScanned: chunk - seen,
    });
    for (const entry of page.entries) {
      if (receives(scope.after, entry.attributes) && !receives(scope.before, entry.attributes)) {
        store.queue.add(scope.collection, entry.id, { announce: true });
      }
    }
    seen += Math.max(page.entries.length, 1);
    if (page.more) {
      afterDate = page.resumeAfter;
    } else {
      s++;
      afterDate = 0;
    }
  }
  return { next: s < job.scopes.length ? { ...job, at: { scope: s, afterDate } } : undefined, seen };
}
