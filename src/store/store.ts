/**
 * The node's LMDB store: one environment, several parts each the sole owner of its databases,
 * one write transaction spanning them. Nothing outside `store/` opens LMDB, and the store
 * decides nothing: it keeps what the layers above derive (policy attributes, filing keys,
 * links) and the work they queue.
 *
 *   versions   ObjectVersions    bodies, version lists, provenance           versions.ts
 *   index      CollectionIndex   entries, sector index, clock, counters      collection-index.ts
 *   links      LinkIndex         links and link summaries                    links.ts
 *   queue      DerivationQueue   objects to derive again (the re-indexer's)  queue.ts
 *   markings   MarkingRegistry   statement definitions, objects awaiting one markings.ts
 *   resources  NodeResources     statuses, upstream state, quarantine, settings resources.ts
 *   shareback  ShareBackRecords  submissions, review queue, outbox, re-issues   shareback.ts
 *   audit      AuditTrail        received, delivered, decisions (by time)   audit.ts
 *   reconItems FederationItems   what may be sent to peers, by item hash; tombstones  federation-items.ts
 *
 * A commit (`commit`) writes each new version's body, entry, version list, provenance and
 * links, and queues the derivation its arrival needs; the re-indexer (src/derive/) does that
 * work later in small transactions. A version whose derivation is queued is placed unsettled:
 * scans stop before it until the re-indexer has derived it (see collection-index.ts). Layout upgrades are in migrations.ts, structural checks in
 * check.ts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { Micros } from '../stix/time.ts';
import { checkStructure } from './check.ts';
import { CollectionIndex, NEWEST, OLDEST, toEntry, type EntryRecord } from './collection-index.ts';
import { StoreError } from './errors.ts';
import { checkDataFile } from './file-check.ts';
import { LinkIndex } from './links.ts';
import { MarkingRegistry } from './markings.ts';
import { LAYOUT, migrate } from './migrations.ts';
import { DerivationQueue, type LatestSnapshot, type Work } from './queue.ts';
import { NodeResources } from './resources.ts';
import { AuditTrail } from './audit.ts';
import { FederationItems, type ReconRule } from './federation-items.ts';
import { ShareBackRecords } from './shareback.ts';
import type { CheckReport, CollectionStats, IndexEntry, PreparedVersion, Provenance, VersionOutcome } from './types.ts';
import { ObjectVersions } from './versions.ts';

export interface StoreOptions {
  /**
   * Whether versions carry member-policy attributes: facts, links, filing, the derivation queue
   * (default true). `false` exists as the benchmark's baseline (what storing costs without
   * them, `npm run bench`); such a store cannot serve member policy and is never what a node
   * opens. The mode is fixed when a store is created.
   */
  readonly policyAttributes?: boolean;
  /**
   * What the node reconciles with its federation peers (federation/egress.ts `egressRule`): the
   * item set keeps exactly the versions and tombstones this rule sends, in its collections.
   * Absent: no set (a node without federation). Every process that opens a node's store must
   * give the same rule (node.ts `openStore`); a store opened with another rebuilds its set.
   */
  readonly reconcile?: ReconRule;
}

export interface CommitOptions {
  /** runs inside the transaction, after the batch is placed: a caller's own records commit with it (an upstream cursor) */
  readonly alsoInTransaction?: (outcomes: readonly VersionOutcome[]) => void;
  /** statement marking definitions this ingest call makes known: objects awaiting them are queued to be derived again */
  readonly statements?: readonly string[];
}

export class Store {
  private readonly root: RootDatabase;
  readonly versions: ObjectVersions;
  readonly index: CollectionIndex;
  readonly links: LinkIndex;
  readonly queue: DerivationQueue;
  readonly markings: MarkingRegistry;
  readonly resources: NodeResources;
  readonly shareback: ShareBackRecords;
  readonly audit: AuditTrail;
  /** what federated nodes reconcile (what this node may send, per collection) and every tombstone kept */
  readonly reconItems: FederationItems;
  /** whether versions carry policy attributes (see StoreOptions) */
  readonly keepsPolicyAttributes: boolean;

  private constructor(
    readonly path: string,
    options: StoreOptions = {},
  ) {
    checkDataFile(path);
    try {
      this.root = open({ path, maxDbs: 64, compression: false });
    } catch (cause) {
      throw new StoreError(`cannot open the LMDB store at ${path}`, { cause });
    }
    try {
      this.resources = new NodeResources(this.root);
      const migration = migrate(this.root, this.resources);
      this.versions = new ObjectVersions(this.root);
      this.index = new CollectionIndex(this.root);
      this.links = new LinkIndex(this.root);
      this.queue = new DerivationQueue(this.root);
      this.markings = new MarkingRegistry(this.root);
      this.shareback = new ShareBackRecords(this.root);
      this.audit = new AuditTrail(this.root);
      this.reconItems = new FederationItems(this.root, this.resources, options.reconcile);
      migration.finish({ versions: this.versions, index: this.index, links: this.links, queue: this.queue, markings: this.markings });
      this.keepsPolicyAttributes = this.settleAttributeMode(options.policyAttributes ?? true);
      if (options.reconcile && !this.keepsPolicyAttributes) {
        throw new StoreError(`the store at ${path} keeps no policy attributes: it has no TLP to reconcile by (federation needs them)`);
      }
      this.reconItems.settle(this.versions, this.index, (fn) => this.transaction(fn));
    } catch (error) {
      void this.root.close();
      throw error;
    }
  }

  static open(path: string, options?: StoreOptions): Store {
    return new Store(path, options);
  }

  /** Opens (creating it) the store of a node's data directory: `<dataDir>/store`. */
  static openInDataDir(dataDir: string, options?: StoreOptions): Store {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return new Store(join(dataDir, 'store'), options);
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  /**
   * Writes a consistent copy of the whole store into the new directory `dir` (LMDB's copy of
   * `data.mdb`, made from one read snapshot), while this and other processes go on writing.
   * `compact` leaves out free pages (slower, smaller).
   */
  async backup(dir: string, compact = false): Promise<void> {
    try {
      mkdirSync(dir, { mode: 0o700 });
      await this.root.backup(dir, compact);
    } catch (cause) {
      throw new StoreError(`cannot copy the LMDB store at ${this.path} to ${dir}`, { cause });
    }
  }

  /**
   * Reads from now on see what other processes (or other handles on the same files) committed.
   * lmdb-js keeps one read snapshot per event-loop turn and renews it on its own afterwards; this
   * renews it at once.
   */
  refresh(): void {
    this.root.resetReadTxn();
  }

  /** Runs `fn` in one write transaction spanning every part (synchronous; nested calls join it). */
  transaction<T>(fn: () => T): T {
    return this.root.transactionSync(fn);
  }

  /**
   * A store keeps policy attributes or not for its whole life: the mode is recorded when it is
   * created, and opening it in the other mode fails (its indexes would be incomplete).
   */
  private settleAttributeMode(wanted: boolean): boolean {
    const recorded = this.resources.setting('policy-attributes');
    if (recorded === undefined) {
      const isNew = this.index.collections().length === 0;
      const mode = isNew ? (wanted ? 'kept' : 'none') : 'kept';
      this.transaction(() => this.resources.putSetting('policy-attributes', mode));
      if ((mode === 'kept') === wanted) return wanted;
    } else if ((recorded === 'kept') === wanted) {
      return wanted;
    }
    const keeps = (recorded ?? 'kept') === 'kept';
    throw new StoreError(
      `the store at ${this.path} was created ${keeps ? 'with' : 'without'} policy attributes and cannot be opened ${wanted ? 'with' : 'without'} them`,
    );
  }

  /**
   * Stores a batch of versions into one collection in a single transaction. Versions already in
   * the collection are duplicates (no new date_added; a source that had not delivered them is
   * recorded). What their arrival means for derived attributes is queued, not done here.
   */
  commit(collection: string, batch: readonly PreparedVersion[], provenance: Provenance, options: CommitOptions = {}): VersionOutcome[] {
    try {
      return this.transaction(() => {
        this.index.syncClock();
        const outcomes: VersionOutcome[] = [];
        let added = 0;
        /** versions this commit placed, by object: not served before it commits */
        const placed = new Map<string, Micros[]>();
        for (const v of batch) {
          const held = this.versions.held(collection, v.id);
          const existing = held.find(([key]) => key === v.versionKey)?.[1];
          if (existing !== undefined) {
            const record = this.index.get(collection, existing);
            if (record) this.versions.addProvenance(record.body, provenance, existing);
            outcomes.push({ kind: 'duplicate', dateAdded: existing });
            continue;
          }
          const dateAdded = this.index.nextDateAdded();
          this.versions.putBody(dateAdded, v.json);
          this.versions.addProvenance(dateAdded, provenance, dateAdded);
          const oldest = held[0];
          const newest = held[held.length - 1];
          const isOldest = !oldest || v.versionKey < oldest[0];
          const isNewest = !newest || v.versionKey > newest[0];
          if (isOldest && oldest) this.index.setEdge(collection, oldest[1], OLDEST, false);
          if (isNewest && newest) this.index.setEdge(collection, newest[1], NEWEST, false);
          const previous = isNewest && newest ? this.index.get(collection, newest[1]) : undefined;
          const record: EntryRecord = {
            id: v.id,
            type: v.type,
            version: v.version,
            versionKey: v.versionKey,
            specVersion: v.specVersion,
            versionEdges: (isOldest ? OLDEST : 0) | (isNewest ? NEWEST : 0),
            body: dateAdded,
            ...(v.stored
              ? {
                  facts: v.stored.facts,
                  filing: v.stored.filing,
                  ...(v.stored.links.length > 0 ? { links: v.stored.links } : {}),
                  ...(v.stored.ends.length > 0 ? { ends: v.stored.ends } : {}),
                }
              : {}),
          };
          this.index.put(collection, dateAdded, record);
          this.versions.setHeld(collection, v.id, [...held, [v.versionKey, dateAdded]]);
          this.reconItems.versionStored(collection, v.id, v.versionKey, v.stored?.facts.tlp);
          placed.set(v.id, [...(placed.get(v.id) ?? []), dateAdded]);
          if (this.keepsPolicyAttributes) this.linkAndQueue(collection, dateAdded, record, isNewest, previous, placed);
          outcomes.push({ kind: 'stored', dateAdded });
          added++;
        }
        this.index.addToCount(collection, added);
        if (batch.length > 0) {
          this.audit.noteReceived({
            collection,
            source: provenance.source,
            detail: provenance.detail,
            stored: added,
            duplicate: batch.length - added,
          });
        }
        if (this.keepsPolicyAttributes) for (const marking of options.statements ?? []) this.resolveStatement(marking);
        options.alsoInTransaction?.(outcomes);
        return outcomes;
      });
    } catch (cause) {
      throw new StoreError(`cannot store a batch of ${batch.length} versions in ${collection}`, { cause });
    }
  }

  /**
   * Links a new version and queues what its arrival needs derived: a new latest version changes
   * what the object's links say (queued as a change, with the latest version it replaces); an
   * older version arriving late needs its own linked attributes. An object nothing links to,
   * which links nothing, needs nothing: its own sectors are all it has.
   */
  private linkAndQueue(
    collection: string,
    dateAdded: Micros,
    record: EntryRecord,
    isNewest: boolean,
    previous: EntryRecord | undefined,
    placed: ReadonlyMap<string, readonly Micros[]>,
  ): void {
    const id = record.id;
    // An object this commit placed a moment ago and now links to (an indicator sent with its
    // indicates relationship) is derived before it is served, where it is: its links may widen it.
    for (const [referenced] of [...(record.ends ?? []).map((end) => [end] as const), ...(record.links ?? [])]) {
      const versions = referenced === id ? undefined : placed.get(referenced);
      if (!versions || versions.every((d) => this.index.isUnsettled(collection, d))) continue;
      for (const d of versions) this.index.markUnsettled(collection, d);
      this.queue.add(collection, referenced, { fresh: true, rederive: true });
    }
    for (const end of record.ends ?? []) this.links.add(collection, [end, 'end-of'], id);
    if (record.facts?.tlp.kind === 'unknown') this.markings.noteUnresolved(record.facts.tlp.markings, collection, id);
    const linksSomething = (record.links?.length ?? 0) > 0 || (record.ends?.length ?? 0) > 0;
    if (isNewest) {
      const { removed } = this.links.relink(collection, id, previous?.links ?? [], record.links ?? []);
      for (const [referenced] of removed) this.links.dropEmptySummary(collection, referenced);
      // (something may link to a new object already: a relationship often arrives before its indicator)
      if (linksSomething || (previous?.links?.length ?? 0) > 0 || this.links.hasReferrers(collection, id)) {
        this.index.markUnsettled(collection, dateAdded);
        this.queue.add(collection, id, { fresh: true, before: previous ? snapshotOf(previous) : null });
      }
    } else if (linksSomething || this.links.hasReferrers(collection, id)) {
      this.index.markUnsettled(collection, dateAdded);
      this.queue.add(collection, id, { fresh: true, rederive: true });
    }
  }

  /** Records a statement definition; the objects that awaited it are queued to have their facts derived again. */
  private resolveStatement(marking: string): void {
    if (!this.markings.addStatement(marking)) return;
    for (const waiting of this.markings.takeWaiting(marking)) this.queue.add(waiting.collection, waiting.id, { refacts: true });
  }

  /**
   * Removes versions of an object from one collection, bodies included; the derivation it needs is
   * queued. With `tombstones`, each version removed leaves a tombstone: it is never stored here
   * again, and federated peers learn of the delete (federation/tombstones.ts).
   */
  deleteVersions(collection: string, entries: readonly IndexEntry[], options: { tombstones?: boolean } = {}): number {
    if (entries.length === 0) return 0;
    return this.transaction(() => {
      let removed = 0;
      const latestBefore = new Map<string, EntryRecord | undefined>();
      /** ends of the versions removed, per object */
      const endsRemoved = new Map<string, Set<string>>();
      for (const e of entries) if (!latestBefore.has(e.id)) latestBefore.set(e.id, this.latestRecord(collection, e.id));
      for (const e of entries) {
        const held = this.versions.held(collection, e.id);
        if (!held.some(([k, d]) => k === e.versionKey && d === e.dateAdded)) continue;
        const record = this.index.get(collection, e.dateAdded);
        this.versions.setHeld(
          collection,
          e.id,
          held.filter(([k]) => k !== e.versionKey),
        );
        this.reconItems.versionRemoved(collection, e.id, e.versionKey);
        if (options.tombstones) this.reconItems.keepTombstone(collection, e.id, e.versionKey, record?.facts?.tlp);
        if (record) {
          this.index.remove(collection, e.dateAdded, record);
          this.versions.removeBody(record.body);
          const ends = endsRemoved.get(e.id) ?? new Set<string>();
          for (const end of record.ends ?? []) ends.add(end);
          endsRemoved.set(e.id, ends);
        }
        removed++;
      }
      for (const [id, before] of latestBefore) {
        const left = this.versions.held(collection, id);
        const first = left[0];
        const last = left[left.length - 1];
        if (first) this.index.setEdge(collection, first[1], OLDEST, true);
        if (last) this.index.setEdge(collection, last[1], NEWEST, true);
        if (!this.keepsPolicyAttributes) continue;
        // ends no remaining version refers to are unlinked
        const kept = new Set(left.flatMap(([, d]) => this.index.get(collection, d)?.ends ?? []));
        for (const end of endsRemoved.get(id) ?? []) {
          if (!kept.has(end) && this.links.remove(collection, [end, 'end-of'], id)) this.links.dropEmptySummary(collection, end);
        }
        const now = last ? this.index.get(collection, last[1]) : undefined;
        if (now?.body === before?.body) continue;
        const { removed: unlinked } = this.links.relink(collection, id, before?.links ?? [], now?.links ?? []);
        for (const [referenced] of unlinked) this.links.dropEmptySummary(collection, referenced);
        if (before) this.queue.add(collection, id, { before: snapshotOf(before) });
      }
      this.index.addToCount(collection, -removed);
      return removed;
    });
  }

  /**
   * Keeps tombstones (a peer's deletes) and removes the versions they name, in one transaction.
   * Returns how many versions were removed and how many tombstones are new here.
   */
  applyTombstones(
    collection: string,
    tombstones: ReadonlyArray<{ id: string; versionKey: string }>,
  ): { removed: number; recorded: number } {
    return this.transaction(() => {
      let recorded = 0;
      const doomed: IndexEntry[] = [];
      for (const t of tombstones) {
        const entry = this.versionsOf(collection, t.id).find((e) => e.versionKey === t.versionKey);
        const held = entry && this.index.get(collection, entry.dateAdded);
        if (this.reconItems.keepTombstone(collection, t.id, t.versionKey, held ? held.facts?.tlp : undefined)) recorded++;
        if (entry) doomed.push(entry);
      }
      return { removed: this.deleteVersions(collection, doomed), recorded };
    });
  }

  /**
   * Writes a version's entry again with facts derived anew (the re-indexer's): the reconciliation
   * set follows its TLP (a marking resolved, or mapped, may make it sendable or not).
   */
  rewriteFacts(collection: string, dateAdded: Micros, next: EntryRecord, before: EntryRecord): void {
    this.index.put(collection, dateAdded, next, before);
    this.reconItems.factsChanged(collection, next.id, next.versionKey, before.facts?.tlp, next.facts?.tlp);
  }

  /** The latest version's record of an object in a collection. */
  latestRecord(collection: string, id: string): EntryRecord | undefined {
    const held = this.versions.held(collection, id);
    const newest = held[held.length - 1];
    return newest === undefined ? undefined : this.index.get(collection, newest[1]);
  }

  /** Every version of one object in one collection, oldest version first. */
  versionsOf(collection: string, id: string): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const [, dateAdded] of this.versions.held(collection, id)) {
      const record = this.index.get(collection, dateAdded);
      if (record) out.push(toEntry(collection, dateAdded, record));
    }
    return out;
  }

  /** The newest version of one object in one collection (with its policy attributes). */
  latestOf(collection: string, id: string): IndexEntry | undefined {
    const held = this.versions.held(collection, id);
    const newest = held[held.length - 1];
    if (newest === undefined) return undefined;
    const record = this.index.get(collection, newest[1]);
    return record ? toEntry(collection, newest[1], record) : undefined;
  }

  /** Oldest and newest version keys of an object in a collection (for match[version]). */
  versionBounds(collection: string, id: string): { first: string; last: string } | null {
    const held = this.versions.held(collection, id);
    const first = held[0];
    const last = held[held.length - 1];
    return first !== undefined && last !== undefined ? { first: first[0], last: last[0] } : null;
  }

  /** The stored JSON text of one version, by its entry. */
  bodyOf(entry: Pick<IndexEntry, 'body'>): string | undefined {
    return this.versions.body(entry.body);
  }

  /** Where a version (in a collection) came from: every source that delivered it. */
  provenanceOf(collection: string, id: string, versionKey: string): Array<{ source: string; detail: string; at: Micros }> {
    const dateAdded = this.versions.held(collection, id).find(([k]) => k === versionKey)?.[1];
    const record = dateAdded === undefined ? undefined : this.index.get(collection, dateAdded);
    return record ? this.versions.provenanceOf(record.body) : [];
  }

  stats(): { collections: CollectionStats[]; objectVersions: number } {
    return {
      collections: this.index.collections().map((collection) => ({
        collection,
        versions: this.index.count(collection),
        firstAdded: this.index.firstAdded(collection),
        lastAdded: this.index.lastAdded(collection),
      })),
      objectVersions: this.versions.bodyCount(),
    };
  }

  /** Structural checks (indexes, bodies, links, counters, the clock, the queue); derived attributes are derive/'s. Read-only. */
  check(): CheckReport {
    const problems = checkStructure(this);
    const { collections, objectVersions } = this.stats();
    return { ok: problems.length === 0, problems, collections, objectVersions };
  }
}

/** What a change is compared against later: the latest version as it was. */
export function snapshotOf(record: EntryRecord): LatestSnapshot | null {
  if (!record.facts) return null;
  return {
    body: record.body,
    type: record.type,
    facts: record.facts,
    ...(record.linked ? { linked: record.linked } : {}),
    links: record.links ?? [],
  };
}

export { LAYOUT };
export type { Work };
