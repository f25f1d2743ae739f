/**
 * The single entry point for object versions, whatever brought them (file import, TAXII POST,
 * and later upstream polling, share-back and gossip). Validates each object, serializes it
 * once, and stores valid ones in batched transactions; an invalid object is rejected with a
 * reason and never costs a valid sibling its place.
 */
import type { RelayConfig } from '../config/index.ts';
import { Reindexer } from '../derive/reindexer.ts';
import { endRefs, linkKeys, statementMarkingId, versionFacts, type VersionFacts } from '../policy/derive.ts';
import { initialFiling } from '../policy/filing.ts';
import { DEFAULT_NODE_POLICY, type NodePolicy } from '../policy/types.ts';
import { ONLY_STIX_21, specVersionsOfMediaTypes, type SpecVersion } from '../stix/specversion.ts';
import { validateObject, type ValidationOptions } from '../stix/validate.ts';
import type { ObjectTlp } from '../stix/markings.ts';
import type { Micros } from '../stix/time.ts';
import type { IndexEntry, PreparedVersion, Provenance, Store, StoredAttributes, VersionOutcome } from '../store/index.ts';

export type ObjectOutcome =
  | { readonly kind: 'stored' | 'duplicate'; readonly id: string; readonly version: string; readonly dateAdded: Micros }
  | { readonly kind: 'rejected'; readonly id?: string; readonly version?: string; readonly reason: string };

export interface IngestReport {
  readonly stored: number;
  readonly duplicate: number;
  readonly rejected: number;
  /** one outcome per input object, in input order */
  readonly outcomes: readonly ObjectOutcome[];
}

export interface IngestOptions {
  /** versions per LMDB transaction */
  readonly batchSize?: number;
  /** called after each committed batch (progress reporting) */
  readonly onBatch?: (committed: { objects: number; stored: number }) => void;
  /**
   * Called inside the LMDB transaction of the last batch, with every object's outcome, so the
   * caller can write its own records atomically with the objects (an upstream cursor and the
   * page's quarantine records). A transaction is opened for it even when no object is valid.
   */
  readonly alsoInTransaction?: (outcomes: readonly ObjectOutcome[]) => void;
  /**
   * The objects came in a STIX 2.0 bundle (documents.ts `contentOfDocument`): those without a
   * `spec_version` of their own are STIX 2.0.
   */
  readonly inStix20Bundle?: boolean;
}

/**
 * The STIX versions each collection accepts, by collection id (from its `media_types`); a
 * collection not listed accepts STIX 2.1 only.
 */
export type AcceptedSpecVersions = ReadonlyMap<string, ReadonlySet<SpecVersion>>;

/** Every collection's accepted STIX versions, from the configuration. */
export function acceptedSpecVersions(config: Pick<RelayConfig, 'api_roots'>): AcceptedSpecVersions {
  return new Map(config.api_roots.flatMap((root) => root.collections.map((c) => [c.id, specVersionsOfMediaTypes(c.media_types)] as const)));
}

export interface StoredVersion {
  readonly collection: string;
  readonly id: string;
  readonly version: string;
  readonly dateAdded: Micros;
  readonly provenance: Provenance;
}

export type VersionListener = (version: StoredVersion) => void;

/** Versions deleted for good: each leaves a tombstone (federation gossips those of local deletes). */
export interface DeletedVersions {
  readonly collection: string;
  readonly tombstones: ReadonlyArray<{ readonly id: string; readonly versionKey: string; readonly tlp?: ObjectTlp }>;
  /** `local`: an operator's delete here; `peer`: a peer's tombstones applied */
  readonly origin: 'local' | 'peer';
}

export type DeleteListener = (deleted: DeletedVersions) => void;

export const DEFAULT_BATCH_SIZE = 1000;

/** The rejection reason of a version whose tombstone is held. */
export const DELETED_VERSION = 'this version was deleted by an operator (its tombstone is kept): it is not stored again';

/** How ingest and the re-indexer share the work a commit queues. */
export interface DerivationSettings {
  /** the re-indexer (the node's background one, or one of the ingestor's own) */
  readonly reindexer: Reindexer;
  /**
   * Queued objects worked on right after each ingest call, so small changes are derived before
   * the call returns (Infinity: all of them; 0: leave everything to the background).
   */
  readonly inlineItems: number;
  /** backlog above which an ingest call waits for the re-indexer to bring it back under (backpressure) */
  readonly maxBacklog: number;
}

export const DEFAULT_INLINE_ITEMS = 1000;
export const DEFAULT_MAX_BACKLOG = 100_000;

export class Ingestor {
  private readonly listeners = new Set<VersionListener>();
  private readonly deleteListeners = new Set<DeleteListener>();
  readonly derivation: DerivationSettings;

  /**
   * `policy` is what policy attributes are derived with (marking map, sector sources, default
   * TLP); `specVersions` which STIX versions each collection accepts (acceptedSpecVersions);
   * `derivation` how the work a commit queues is done (default: an own re-indexer that derives
   * everything before an ingest call returns).
   */
  constructor(
    private readonly store: Store,
    private readonly policy: NodePolicy = DEFAULT_NODE_POLICY,
    private readonly specVersions: AcceptedSpecVersions = new Map(),
    derivation: Partial<DerivationSettings> = {},
  ) {
    this.derivation = {
      reindexer: derivation.reindexer ?? new Reindexer(store, policy),
      inlineItems: derivation.inlineItems ?? Infinity,
      maxBacklog: derivation.maxBacklog ?? DEFAULT_MAX_BACKLOG,
    };
  }

  /** Subscribe to "version stored" events (federation, metrics). Returns an unsubscribe. */
  onVersionStored(listener: VersionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribe to "versions deleted" events (federation). Returns an unsubscribe. */
  onVersionsDeleted(listener: DeleteListener): () => void {
    this.deleteListeners.add(listener);
    return () => this.deleteListeners.delete(listener);
  }

  ingest(collection: string, objects: readonly unknown[], provenance: Provenance, options: IngestOptions = {}): IngestReport {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    const validation = { accept: this.specVersions.get(collection) ?? ONLY_STIX_21, inStix20Bundle: options.inStix20Bundle === true };
    const outcomes: ObjectOutcome[] = new Array(objects.length);
    let stored = 0;
    let duplicate = 0;
    let rejected = 0;
    // Statement marking definitions restrict nobody; one may come after the objects it marks
    // (ATT&CK lists it last), so the whole call is looked at before any fact is derived, and
    // objects stored earlier that waited for one are queued to be derived again.
    const attributes = this.store.keepsPolicyAttributes;
    const statements = attributes ? statementsIn(objects, validation) : [];
    const known = attributes ? new Set([...this.store.markings.statements(), ...statements]) : new Set<string>();

    for (let start = 0; start < objects.length || (start === 0 && options.alsoInTransaction); start += batchSize) {
      const end = Math.min(start + batchSize, objects.length);
      const batch: PreparedVersion[] = [];
      const positions: number[] = [];
      for (let i = start; i < end; i++) {
        const result = validateObject(objects[i], validation);
        if (!result.ok) {
          outcomes[i] = { kind: 'rejected', reason: result.reason, ...(result.id ? { id: result.id } : {}), ...versionHint(objects[i]) };
          rejected++;
          continue;
        }
        const v = result.value;
        // a version deleted here (or by a peer) is never stored again: its tombstone is kept
        if (this.store.reconItems.isTombstoned(collection, v.id, v.versionKey)) {
          outcomes[i] = { kind: 'rejected', id: v.id, version: v.version, reason: DELETED_VERSION };
          rejected++;
          continue;
        }
        batch.push({
          id: v.id,
          type: v.type,
          version: v.version,
          versionKey: v.versionKey,
          specVersion: v.specVersion,
          json: JSON.stringify(v.object),
          ...(attributes ? { stored: storedAttributes(v.type, versionFacts(v.object, this.policy, known)) } : {}),
        });
        positions.push(i);
      }
      const record = (results: readonly VersionOutcome[]) =>
        results.forEach((r, k) => {
          const v = batch[k] as PreparedVersion;
          outcomes[positions[k] as number] = { kind: r.kind, id: v.id, version: v.version, dateAdded: r.dateAdded };
        });
      const hook = end === objects.length ? options.alsoInTransaction : undefined;
      const results: VersionOutcome[] =
        batch.length > 0 || hook
          ? this.store.commit(collection, batch, provenance, {
              ...(hook ? { alsoInTransaction: (r: readonly VersionOutcome[]) => (record(r), hook(outcomes)) } : {}),
              ...(statements.length > 0 ? { statements } : {}),
            })
          : [];
      record(results);
      let batchStored = 0;
      results.forEach((r, k) => {
        const v = batch[k] as PreparedVersion;
        if (r.kind === 'stored') {
          batchStored++;
          for (const listener of this.listeners) {
            listener({ collection, id: v.id, version: v.version, dateAdded: r.dateAdded, provenance });
          }
        }
      });
      stored += batchStored;
      duplicate += results.length - batchStored;
      options.onBatch?.({ objects: end, stored: batchStored });
      if (attributes) this.holdBackIfBehind();
    }
    if (attributes) this.deriveInline();
    return { stored, duplicate, rejected, outcomes };
  }

  /**
   * An operator's delete: removes versions of objects from one collection (bodies included),
   * keeps a tombstone for each so it is never stored again (nor brought back by a peer), and
   * derives what that changes like an ingest call does. Returns how many versions were removed.
   */
  delete(collection: string, entries: readonly IndexEntry[]): number {
    const removed = this.store.deleteVersions(collection, entries, { tombstones: true });
    if (this.store.keepsPolicyAttributes) this.deriveInline();
    if (removed > 0)
      this.notifyDeleted({
        collection,
        tombstones: entries.map((e) => ({ id: e.id, versionKey: e.versionKey, tlp: e.attributes.tlp })),
        origin: 'local',
      });
    return removed;
  }

  /**
   * A peer's tombstones: keeps them and removes the versions they name. Returns how many versions
   * were removed and how many tombstones were new here.
   */
  applyTombstones(
    collection: string,
    tombstones: ReadonlyArray<{ id: string; versionKey: string }>,
  ): { removed: number; recorded: number } {
    const outcome = this.store.applyTombstones(collection, tombstones);
    if (outcome.removed > 0 && this.store.keepsPolicyAttributes) this.deriveInline();
    if (outcome.recorded > 0) this.notifyDeleted({ collection, tombstones, origin: 'peer' });
    return outcome;
  }

  private notifyDeleted(deleted: DeletedVersions): void {
    for (const listener of this.deleteListeners) listener(deleted);
  }

  /** Backpressure: while the backlog is above its bound, the ingesting caller drains it down to half. */
  private holdBackIfBehind(): void {
    const { reindexer, maxBacklog } = this.derivation;
    if (this.store.queue.size() > maxBacklog) reindexer.drainTo(maxBacklog / 2);
  }

  /** Derives up to the inline budget now; the rest is the background re-indexer's. */
  private deriveInline(): void {
    const { reindexer, inlineItems } = this.derivation;
    if (inlineItems > 0) reindexer.drain(inlineItems);
    reindexer.nudge();
  }
}

/** What a version is stored with: its facts, where it is filed until derived, and the links it makes. */
function storedAttributes(type: string, facts: VersionFacts): StoredAttributes {
  return { facts, filing: initialFiling(type, facts), links: linkKeys(type, facts), ends: endRefs(type, facts) };
}

/** Ids of the valid statement marking definitions among the objects. */
function statementsIn(objects: readonly unknown[], validation: ValidationOptions): string[] {
  const ids: string[] = [];
  for (const o of objects) {
    if (!o || typeof o !== 'object' || (o as { type?: unknown }).type !== 'marking-definition') continue;
    const result = validateObject(o, validation);
    const id = result.ok ? statementMarkingId(result.value.object) : undefined;
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

function versionHint(input: unknown): { version?: string } {
  if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    const v = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : undefined;
    if (v !== undefined) return { version: v };
  }
  return {};
}
