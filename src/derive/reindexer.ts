/**
 * The re-indexer: drains the store's derivation queue in small transactions, applying the
 * policy's rules (policy/linked.ts, policy/filing.ts) to what commits, marking definitions and
 * configuration changes left to do. A step takes the oldest queued objects, and for each:
 *
 *   refacts    derives its versions' own facts again from their bodies (a statement definition
 *              arrived, the configuration changed); a changed latest version is a change
 *   change     tells the objects it links to and those linking to it what its change means
 *              (summary parts to recompute, referrers to re-derive) — `changeEffects`
 *   dirty      recomputes summary parts; a part that comes out different is passed on
 *   rederive   derives its versions' linked attributes and filing; a latest version that may
 *              now reach more members moves to a new date_added (pollers receive it again)
 *   announce   moves its latest entry to a new date_added (an end of it may reach more members)
 *   fanouts    tells referrers in chunks, so that a hub with 100,000 indicators is worked
 *              through over many short transactions instead of one long one
 *
 * Work queued again for an object merges with what is queued (coalescing). Ingest waits when
 * the backlog passes a bound (the ingestor drains inline: backpressure).
 */
import {
  announcesReferrers,
  changeEffects,
  linkedOfVersion,
  narrowestOf,
  samePart,
  summaryChangeEffects,
  summaryPartOf,
  type Effect,
  type SummaryReader,
} from '../policy/linked.ts';
import { endRefs, linkKeys, versionFacts, type LinkReader } from '../policy/derive.ts';
import { filingOf } from '../policy/filing.ts';
import { jobsOf, stepJobs } from './jobs.ts';
import type { Logger } from 'pino';
import type { NodePolicy } from '../policy/types.ts';
import type { LinkedAttributes, LinkSummary, ObjectAttributes, SummaryPart, VersionFacts } from '../stix/attributes.ts';
import type { StixObject } from '../stix/types.ts';
import {
  attributesOf,
  merge,
  NEWEST,
  snapshotOf,
  type EntryRecord,
  type Fanout,
  type LatestSnapshot,
  type Pending,
  type Store,
  type Work,
} from '../store/index.ts';

export interface ReindexerOptions {
  /** objects worked on at most per transaction (queued ones and the work they lead to) */
  readonly itemsPerStep?: number;
  /** a transaction takes no new object after this many milliseconds (the background loop's; inline and CLI drains use larger steps) */
  readonly stepMs?: number;
  /** referrers told per fanout per object worked on */
  readonly fanoutChunk?: number;
  /** where the background loop reports a failed step */
  readonly log?: Logger | undefined;
  /** the background loop's first wait after a failed step (doubling with each failure in a row, at most a minute) */
  readonly retryMs?: number;
}

export const DEFAULT_ITEMS_PER_STEP = 500;
export const DEFAULT_STEP_MS = 10;
/** steps of drains nobody waits to be served by (inline after ingest, `relay import`, `relay reindex`) */
const BULK_STEP = { items: 5000, ms: 250 };
/** objects a job looks at per queued item a step may work on (a job only queues work: cheaper per object) */
const JOB_OBJECTS_PER_ITEM = 5;
export const DEFAULT_FANOUT_CHUNK = 500;
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

export interface StepResult {
  /** queued objects worked on */
  readonly items: number;
  /** latest entries moved to a new date_added */
  readonly moved: number;
  /** objects still queued */
  readonly remaining: number;
}

export interface Backlog {
  readonly items: number;
  /** age of the oldest queued item (ms), null when the queue is empty */
  readonly oldestAgeMs: number | null;
  /** jobs over whole collections under way (derive/jobs.ts) */
  readonly jobs: readonly string[];
}

export class Reindexer {
  private readonly itemsPerStep: number;
  private readonly stepMs: number;
  private readonly fanoutChunk: number;
  private readonly retryMs: number;
  private readonly log: Logger | undefined;
  private movedCount = 0;
  private running: { stop: boolean; done: Promise<void>; wake: () => void } | undefined;

  constructor(
    private readonly store: Store,
    private readonly policy: NodePolicy,
    options: ReindexerOptions = {},
  ) {
    this.itemsPerStep = options.itemsPerStep ?? DEFAULT_ITEMS_PER_STEP;
    this.stepMs = options.stepMs ?? DEFAULT_STEP_MS;
    this.fanoutChunk = options.fanoutChunk ?? DEFAULT_FANOUT_CHUNK;
    this.retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    this.log = options.log;
  }

  /** Entries this re-indexer moved to a new date_added since it was created. */
  get reindexed(): number {
    return this.movedCount;
  }

  backlog(now = Date.now()): Backlog {
    return backlogOf(this.store, now);
  }

  /**
   * One bounded transaction: the next queued objects (fresh ones first), and the work they lead
   * to, done in memory while the step lasts (at most `limit` objects, `ms` milliseconds); what is
   * left goes back to the queue. A queued object is taken off the queue only when the step gets
   * to it: the rest of a large backlog is not rewritten. Coalescing happens both in the queue
   * and in the step.
   */
  step(limit = this.itemsPerStep, ms = this.stepMs): StepResult {
    let moved = 0;
    let items = 0;
    if (this.store.queue.oldestSince() === null && jobsOf(this.store).length === 0) return { items, moved, remaining: 0 }; // no empty write transaction
    this.store.transaction(() => {
      const started = performance.now();
      this.store.index.syncClock();
      // a chunk of a job over whole collections (it queues work, done below or in later steps)
      if (stepJobs(this.store, this.policy, limit * JOB_OBJECTS_PER_ITEM) > 0) items++;
      const statements = this.store.markings.statements();
      const work = new Worklist();
      const queued = this.store.queue.next(limit);
      let nextQueued = 0;
      // queued objects first, in their order, then the work they lead to (as when all were taken up front)
      const nextItem = () => {
        while (nextQueued < queued.length) {
          const { collection, id } = queued[nextQueued++] as { collection: string; id: string };
          const pending = this.store.queue.take(collection, id);
          if (pending) return work.takeWith(collection, id, pending);
        }
        return work.shift();
      };
      for (let item = nextItem(); item !== undefined; item = nextItem()) {
        moved += new ObjectWork(this.store, this.policy, statements, this.fanoutChunk, item.collection, item.id, item.pending, work).run();
        items++;
        if (items >= limit || performance.now() - started > ms) break;
      }
      work.spill(this.store);
    });
    this.movedCount += moved;
    return { items, moved, remaining: this.store.queue.size() };
  }

  /** Steps until the queue is empty (or `maxItems` objects were worked on); returns how many were. Large steps: nobody is served meanwhile. */
  drain(maxItems = Infinity): number {
    let done = 0;
    while (done < maxItems) {
      const { items } = this.step(Math.min(BULK_STEP.items, maxItems - done), BULK_STEP.ms);
      if (items === 0) break;
      done += items;
    }
    return done;
  }

  /** Drains the backlog down to `items` queued objects in large steps (backpressure: the ingesting caller waits meanwhile). */
  drainTo(items: number): void {
    while (this.store.queue.size() > items) if (this.step(BULK_STEP.items, BULK_STEP.ms).items === 0) break;
  }

  /**
   * Drains in the background, one step per event-loop turn, so requests are served between
   * steps. A step that fails (LMDB out of reader slots or map space, a bug) is logged and tried
   * again after a growing pause: its transaction rolled back, so nothing is lost, and the node
   * goes on serving meanwhile instead of dying of an unhandled rejection.
   */
  start(idleMs = 200): void {
    if (this.running) return;
    let wake = () => {};
    const state = { stop: false, done: Promise.resolve(), wake: () => wake() };
    /** waits `ms`; `stop()` always ends the wait, a nudge only when `nudged` */
    const pause = (ms: number, nudged: boolean) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        const end = () => {
          clearTimeout(timer);
          resolve();
        };
        wake = nudged ? end : () => void (state.stop && end());
      });
    state.done = (async () => {
      let failures = 0;
      while (!state.stop) {
        let items: number;
        try {
          items = this.step().items;
          failures = 0;
        } catch (error) {
          failures++;
          const waitMs = Math.min(MAX_RETRY_MS, this.retryMs * 2 ** (failures - 1));
          this.log?.error({ err: error, attempt: failures, retryInMs: waitMs }, 'a re-indexer step failed; retrying later');
          await pause(waitMs, false);
          continue;
        }
        if (items > 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        await pause(idleMs, true);
      }
    })();
    this.running = state;
  }

  /** Wakes the background loop (after a commit queued work). */
  nudge(): void {
    this.running?.wake();
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.stop = true;
    running.wake();
    await running.done;
    this.running = undefined;
  }
}

/** What is queued for derivation, and how long the oldest item has waited. */
export function backlogOf(store: Store, now = Date.now()): Backlog {
  const oldest = store.queue.oldestSince();
  return {
    items: store.queue.size(),
    oldestAgeMs: oldest === null ? null : Math.round(Math.max(0, now - oldest / 1000)),
    jobs: jobsOf(store).map((j) =>
      j.kind === 'refacts-all' ? 'derive every object again' : `announce what member ${j.member} newly may receive`,
    ),
  };
}

/** Work of one step, in memory: objects in the order they came, work for one object merged. */
class Worklist {
  private readonly items = new Map<string, { collection: string; id: string; pending: Pending }>();
  /**
   * Entries settled or moved by this step: nobody has seen them yet (the transaction has not
   * committed), so later work of the same step derives them in place instead of moving them again.
   */
  private readonly settledNow = new Set<string>();

  settle(store: Store, collection: string, dateAdded: number): void {
    store.index.settle(collection, dateAdded);
    this.settledNow.add(`${collection}\u0000${dateAdded}`);
  }

  /** An entry this step moved to a new position: not served there yet either. */
  placedNow(collection: string, dateAdded: number): void {
    this.settledNow.add(`${collection}\u0000${dateAdded}`);
  }

  /** Whether an entry has not been served yet: unsettled, or settled or moved by this step. */
  unserved(store: Store, collection: string, dateAdded: number): boolean {
    return this.settledNow.has(`${collection}\u0000${dateAdded}`) || store.index.isUnsettled(collection, dateAdded);
  }

  add(collection: string, id: string, work: Work | Pending): void {
    const key = `${collection}\u0000${id}`;
    const existing = this.items.get(key);
    const since = 'since' in work ? work.since : 0;
    this.items.set(key, { collection, id, pending: existing ? merge(existing.pending, work) : { since, ...work } });
  }

  /** A queued object's work, with what this step found for it before it was taken (removed from the list). */
  takeWith(collection: string, id: string, pending: Pending): { collection: string; id: string; pending: Pending } {
    const key = `${collection}\u0000${id}`;
    const found = this.items.get(key);
    if (found === undefined) return { collection, id, pending };
    this.items.delete(key);
    const { since: _since, ...work } = found.pending;
    return { collection, id, pending: merge(pending, work) };
  }

  shift(): { collection: string; id: string; pending: Pending } | undefined {
    for (const [key, item] of this.items) {
      this.items.delete(key);
      return item;
    }
    return undefined;
  }

  /** What the step did not get to goes back to the queue (taken items keep their place). */
  spill(store: Store): void {
    for (const { collection, id, pending } of this.items.values()) {
      const { since, ...work } = pending;
      store.queue.add(collection, id, work, since > 0 ? since : undefined);
    }
    this.items.clear();
  }
}

/** The work on one queued object, inside the re-indexer's transaction. */
class ObjectWork {
  private readonly reader: SummaryReader;
  private rederive: boolean;
  private latestMoved = false;
  private moved = 0;
  private readonly fanouts: Fanout[];

  constructor(
    private readonly store: Store,
    private readonly policy: NodePolicy,
    private readonly statements: ReadonlySet<string>,
    private readonly fanoutChunk: number,
    private readonly collection: string,
    private readonly id: string,
    private readonly pending: Pending,
    /** where work for other objects goes (the step's worklist) */
    private readonly work: Worklist,
  ) {
    this.reader = summaryReader(store, collection);
    this.rederive = pending.rederive === true;
    this.fanouts = [...(pending.fanouts ?? [])];
  }

  /** Returns how many entries moved to a new date_added. */
  run(): number {
    const { pending } = this;
    let before: LatestSnapshot | null | undefined = pending.before;
    if (pending.refacts) {
      const was = this.refacts();
      if (before === undefined && was !== undefined) before = was;
    }
    // the latest version as it is now (own facts exact), before its linked attributes are derived again
    const latest = this.store.latestRecord(this.collection, this.id);
    if (before !== undefined) {
      const type = latest?.type ?? before?.type ?? '';
      this.apply(changeEffects(type, before?.facts, latest?.facts));
      this.rederive = true;
    }
    for (const part of pending.dirty ?? []) this.recompute(part);
    if (this.rederive) this.rederiveVersions(before ?? undefined);
    const latestAfter = this.store.latestRecord(this.collection, this.id);
    // A change, or a re-derivation that may let more members see the object: the relationships
    // and sightings on it (served only while every end is) are announced again.
    const beforeAttributes =
      before !== undefined ? (before === null ? undefined : snapshotAttributes(before)) : latest && attributesOf(latest);
    if ((before !== undefined || this.rederive) && latestAfter && announcesReferrers(beforeAttributes, attributesOf(latestAfter))) {
      this.apply([{ kind: 'referrers', role: 'end-of', notice: 'announce' }]);
    }
    if (pending.announce && !this.latestMoved) this.announce();
    this.tellReferrers();
    return this.moved;
  }

  /** Derives every version's own facts again; returns the latest version as it was when its facts changed. */
  private refacts(): LatestSnapshot | null | undefined {
    const { store, collection, id } = this;
    const held = store.versions.held(collection, id);
    let latestWas: LatestSnapshot | null | undefined;
    const endsBefore = new Set<string>();
    const endsAfter = new Set<string>();
    for (const [, dateAdded] of held) {
      const record = store.index.get(collection, dateAdded);
      const json = record && store.versions.body(record.body);
      if (!record || json === undefined) continue;
      for (const end of record.ends ?? []) endsBefore.add(end);
      const facts = versionFacts(JSON.parse(json) as StixObject, this.policy, this.statements);
      const ends = endRefs(record.type, facts);
      for (const end of ends) endsAfter.add(end);
      if (record.facts && JSON.stringify(record.facts) === JSON.stringify(facts)) continue;
      const links = linkKeys(record.type, facts);
      const next: EntryRecord = withParts(record, { facts, links, ends });
      if (facts.tlp.kind === 'unknown') store.markings.noteUnresolved(facts.tlp.markings, collection, id);
      if (record.versionEdges & NEWEST) {
        latestWas = snapshotOf(record);
        const { removed } = store.links.relink(collection, id, record.links ?? [], links);
        for (const [referenced] of removed) store.links.dropEmptySummary(collection, referenced);
      }
      store.rewriteFacts(collection, dateAdded, next, record);
    }
    for (const end of endsBefore)
      if (!endsAfter.has(end) && store.links.remove(collection, [end, 'end-of'], id)) store.links.dropEmptySummary(collection, end);
    for (const end of endsAfter) if (!endsBefore.has(end)) store.links.add(collection, [end, 'end-of'], id);
    this.rederive = true;
    return latestWas;
  }

  /** Recomputes one summary part; a different result is stored and passed on. */
  private recompute(part: SummaryPart): void {
    const { store, collection, id } = this;
    const current = store.links.summary(collection, id);
    const now = summaryPartOf(id, part, this.reader);
    if (samePart(current?.[part], now)) {
      if (current !== undefined && Object.keys(current).length === 0) store.links.dropSummaryIfUnlinked(collection, id);
      return;
    }
    const { [part]: _old, ...rest } = current ?? {};
    const next: LinkSummary = now === undefined ? rest : { ...rest, [part]: now };
    store.links.putSummary(collection, id, Object.keys(next).length > 0 ? next : undefined);
    this.rederive = true;
    this.apply(summaryChangeEffects(part));
  }

  /**
   * Derives the linked attributes and filing of every version. The latest version moves when it
   * may reach more members than could see it: as it was before the change (`before`, when its
   * own facts changed in place), or as it is stored (a version placed since with its own sectors).
   */
  private rederiveVersions(before: LatestSnapshot | undefined): void {
    const { store, collection, id } = this;
    for (const [, dateAdded] of store.versions.held(collection, id)) {
      const record = store.index.get(collection, dateAdded);
      if (!record?.facts) continue;
      const linked = linkedOfVersion(id, record.type, record.facts, this.reader);
      const narrowest = record.ends ? narrowestOf(linked.sectors, record.ends, this.reader) : undefined;
      const filing = filingOf(record.type, record.facts, linked.sectors, narrowest);
      const next = withDerived(record, linked, filing);
      if (this.work.unserved(store, collection, dateAdded)) {
        // placed by a commit and not served yet (scans stop before it): derived where it is
        if (!sameDerived(record, next)) store.index.put(collection, dateAdded, next, record);
        this.work.settle(store, collection, dateAdded);
        continue;
      }
      if (sameDerived(record, next)) continue;
      const isLatest = (record.versionEdges & NEWEST) !== 0;
      const seen = before !== undefined && before.body === record.body ? snapshotAttributes(before) : attributesOf(record);
      if (isLatest && !this.latestMoved && announcesReferrers(seen, attributesOf(next))) {
        this.moveLatest(dateAdded, record, next);
      } else {
        store.index.put(collection, dateAdded, next, record);
      }
    }
  }

  private announce(): void {
    const held = this.store.versions.held(this.collection, this.id);
    const newest = held[held.length - 1];
    const record = newest && this.store.index.get(this.collection, newest[1]);
    // an unsettled entry has not been served yet: its own first derivation announces it
    if (newest && record && !this.work.unserved(this.store, this.collection, newest[1])) this.moveLatest(newest[1], record, record);
  }

  private moveLatest(dateAdded: number, record: EntryRecord, next: EntryRecord): void {
    const { store, collection, id } = this;
    const moved = store.index.move(collection, dateAdded, record, next);
    this.work.placedNow(collection, moved);
    store.versions.setHeld(
      collection,
      id,
      store.versions.held(collection, id).map(([k, d]) => (d === dateAdded ? ([k, moved] as const) : ([k, d] as const))),
    );
    this.latestMoved = true;
    this.moved++;
  }

  /** Queues summary work for others, and the referrer notices as fanouts of this object. */
  private apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.kind === 'summary') {
        if (e.of === this.id) this.recompute(e.part);
        else this.work.add(this.collection, e.of, { dirty: [e.part] });
      } else if (!this.fanouts.some((f) => f.role === e.role && f.notice === e.notice && f.after === '')) {
        const i = this.fanouts.findIndex((f) => f.role === e.role && f.notice === e.notice);
        if (i >= 0) this.fanouts.splice(i, 1); // a fanout under way starts over: its referrers must hear the news
        this.fanouts.push({ role: e.role, notice: e.notice, after: '' });
      }
    }
  }

  /** Tells up to a chunk of referrers per fanout; what is left is queued again, keeping this object's place. */
  private tellReferrers(): void {
    const { store, collection, id } = this;
    const left: Fanout[] = [];
    for (const fanout of this.fanouts) {
      const referrers = store.links.referrers(collection, id, fanout.role, fanout.after, this.fanoutChunk + 1);
      const now = referrers.slice(0, this.fanoutChunk);
      for (const referrer of now) {
        if (referrer === id) continue;
        const notice = this.noticeFor(referrer, fanout.notice);
        if (notice) this.work.add(notice.at, notice.id, notice.work);
      }
      if (referrers.length > this.fanoutChunk) left.push({ ...fanout, after: now[now.length - 1] as string });
    }
    // the rest of a fanout is this object's work still: after what is queued now
    if (left.length > 0) this.work.add(collection, id, { fanouts: left });
  }

  private noticeFor(referrer: string, notice: Fanout['notice']): { at: string; id: string; work: Work } | undefined {
    const { collection } = this;
    if (notice === 'rederive') return { at: collection, id: referrer, work: { rederive: true } };
    if (notice === 'announce') return { at: collection, id: referrer, work: { announce: true } };
    const source = this.store.latestRecord(collection, referrer)?.facts?.sourceRef;
    if (source === undefined) return undefined;
    return { at: collection, id: source, work: { dirty: [notice === 'targeted-of-source' ? 'targeted' : 'indicated'] } };
  }
}

/** Latest facts, referrers and summaries of one collection, read from the store (inside a transaction). */
function summaryReader(store: Store, collection: string): SummaryReader {
  return {
    latest: (id) => {
      const record = store.latestRecord(collection, id);
      return record?.facts ? { ...record.facts, type: record.type } : undefined;
    },
    // an object without a summary record has no referrers: no range read
    referrers: (id, role) => (store.links.hasReferrers(collection, id) ? store.links.referrers(collection, id, role) : []),
    summary: (id) => store.links.summary(collection, id),
  } satisfies SummaryReader & LinkReader;
}

function snapshotAttributes(s: LatestSnapshot): ObjectAttributes {
  return attributesOf({
    id: '',
    type: s.type,
    version: '',
    versionKey: '',
    specVersion: '',
    versionEdges: NEWEST,
    body: s.body,
    facts: s.facts,
    ...(s.linked ? { linked: s.linked } : {}),
  });
}

function withParts(
  record: EntryRecord,
  parts: { facts: VersionFacts; links: EntryRecord['links']; ends: EntryRecord['ends'] },
): EntryRecord {
  const { links: _links, ends: _ends, ...rest } = record;
  return {
    ...rest,
    facts: parts.facts,
    ...(parts.links && parts.links.length > 0 ? { links: parts.links } : {}),
    ...(parts.ends && parts.ends.length > 0 ? { ends: parts.ends } : {}),
  };
}

/** The record with these linked attributes (kept only when they say more than its own sectors) and filing. */
function withDerived(record: EntryRecord, linked: LinkedAttributes, filing: readonly string[]): EntryRecord {
  const { linked: _linked, filing: _filing, ...rest } = record;
  const own = record.facts?.ownSectors ?? [];
  const saysMore = linked.opinion !== undefined || !sameList(linked.sectors, own);
  return { ...rest, ...(saysMore ? { linked } : {}), filing };
}

function sameDerived(a: EntryRecord, b: EntryRecord): boolean {
  return (
    sameList(a.linked?.sectors ?? a.facts?.ownSectors ?? [], b.linked?.sectors ?? b.facts?.ownSectors ?? []) &&
    a.linked?.opinion === b.linked?.opinion &&
    sameList(a.filing ?? [], b.filing ?? [])
  );
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
