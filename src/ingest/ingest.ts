/**
 * The single entry point for object versions, whatever brought them (file import, TAXII POST,
 * and later upstream polling, share-back and gossip). Validates each object, serializes it
 * once, and stores valid ones in batched transactions; an invalid object is rejected with a
 * reason and never costs a valid sibling its place.
 */
import type { RelayConfig } from '../config/index.ts';
import { statementMarkingId, versionFacts } from '../policy/derive.ts';
import { DEFAULT_NODE_POLICY, type NodePolicy } from '../policy/types.ts';
import { ONLY_STIX_21, specVersionsOfMediaTypes, type SpecVersion } from '../stix/specversion.ts';
import { validateObject, type ValidationOptions } from '../stix/validate.ts';
import type { Micros } from '../stix/time.ts';
import type { StixObject } from '../stix/types.ts';
import type { PreparedVersion, Provenance, StatementsInBatch, Store, VersionOutcome } from '../store/index.ts';

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

export const DEFAULT_BATCH_SIZE = 1000;

export class Ingestor {
  private readonly listeners = new Set<VersionListener>();

  /**
   * `policy` is what policy attributes are derived with (marking map, sector sources, default
   * TLP); `specVersions` which STIX versions each collection accepts (acceptedSpecVersions).
   */
  constructor(
    private readonly store: Store,
    private readonly policy: NodePolicy = DEFAULT_NODE_POLICY,
    private readonly specVersions: AcceptedSpecVersions = new Map(),
  ) {}

  /** Subscribe to "version stored" events (federation, metrics). Returns an unsubscribe. */
  onVersionStored(listener: VersionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    // objects stored earlier that waited for one are derived again when it is committed.
    const attributes = this.store.keepsPolicyAttributes;
    const statements = attributes ? statementsIn(objects, validation) : [];
    const known = attributes ? new Set([...this.store.markings.statements(), ...statements]) : new Set<string>();
    const factsOf = (object: StixObject) => versionFacts(object, this.policy, known);
    const inBatch: StatementsInBatch | undefined =
      statements.length > 0 ? { ids: statements, refacts: (json) => factsOf(JSON.parse(json) as StixObject) } : undefined;

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
        batch.push({
          id: v.id,
          type: v.type,
          version: v.version,
          versionKey: v.versionKey,
          specVersion: v.specVersion,
          json: JSON.stringify(v.object),
          ...(attributes ? { facts: factsOf(v.object) } : {}),
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
          ? this.store.commitBatch(collection, batch, provenance, hook && ((r) => (record(r), hook(outcomes))), inBatch)
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
    }
    return { stored, duplicate, rejected, outcomes };
  }
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
