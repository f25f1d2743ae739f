/** What the store takes and gives: object versions, index entries, scans, provenance, reports. */
import type { LinkedAttributes, LinkKey, ObjectAttributes, VersionFacts } from '../stix/attributes.ts';
import type { Micros } from '../stix/time.ts';

/** Where a version's JSON text is kept (the date_added it was first given in its collection). */
export type BodyRef = Micros;

/** One object version as it sits in one collection's index. */
export interface IndexEntry {
  readonly collection: string;
  /** node-assigned, strictly increasing across the whole node; also the entry's position */
  readonly dateAdded: Micros;
  readonly id: string;
  readonly type: string;
  /** TAXII version string as written in the object (modified, else created, else sentinel) */
  readonly version: string;
  /** sortable instant key of the version (see stix/time.ts) */
  readonly versionKey: string;
  readonly specVersion: string;
  /** whether this is the object's oldest version in the collection (match[version]=first) */
  readonly isFirst: boolean;
  /** whether this is the object's newest version in the collection (match[version]=last) */
  readonly isLast: boolean;
  readonly body: BodyRef;
  /** what policy decides with: the version's own facts and what its links give it */
  readonly attributes: ObjectAttributes;
}

/** Policy attributes a version is stored with (absent in a store created without them). */
export interface StoredAttributes {
  readonly facts: VersionFacts;
  /** where the sector index files it at first (its own sectors, until the re-indexer says more) */
  readonly filing: readonly string[];
  /** the links its version makes if it becomes the latest (targets, indicates, opinion roles) */
  readonly links: readonly LinkKey[];
  /** relationships and sightings: the objects this version refers to (role end-of, every version) */
  readonly ends: readonly string[];
}

/** An object version ready to store: validated, serialized once. */
export interface PreparedVersion {
  readonly id: string;
  readonly type: string;
  readonly version: string;
  readonly versionKey: string;
  readonly specVersion: string;
  /** the object's JSON text; served as is */
  readonly json: string;
  /** policy attributes (the ingestor derives them; required unless the store keeps none) */
  readonly stored?: StoredAttributes;
}

export type VersionOutcome =
  { readonly kind: 'stored'; readonly dateAdded: Micros } | { readonly kind: 'duplicate'; readonly dateAdded: Micros };

/** Where a batch came from: recorded with every version it stores. */
export interface Provenance {
  readonly source: 'import' | 'taxii' | 'upstream' | 'shareback' | 'peer';
  /** file path, member id, upstream collection URL, peer node id … */
  readonly detail: string;
}

export interface ScanRequest {
  readonly collection: string;
  /** exclusive lower bound on date_added (from added_after and/or a next token) */
  readonly after: Micros;
  readonly limit: number;
  /** entries not accepted are skipped; bodies are never loaded for them */
  readonly accept: (entry: IndexEntry) => boolean;
  /** upper bound on index entries examined for one page; keeps sparse queries bounded */
  readonly maxScanned: number;
}

/** A scan over the entries filed under some sector-index keys (see CollectionIndex.scanFiled). */
export interface FiledScanRequest extends ScanRequest {
  /** the filing keys to merge (always merged with the every-reader key) */
  readonly keys: readonly string[];
}

export interface ScanResult {
  readonly entries: readonly IndexEntry[];
  /** true when more matching entries may follow `resumeAfter` */
  readonly more: boolean;
  /** position to continue from (the last entry examined) */
  readonly resumeAfter: Micros;
}

export interface CollectionStats {
  readonly collection: string;
  readonly versions: number;
  readonly firstAdded: Micros | null;
  readonly lastAdded: Micros | null;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly collections: readonly CollectionStats[];
  readonly objectVersions: number;
}

/** Input kept aside with the reason it could not be stored (invalid object, malformed page). */
export interface QuarantineRecord {
  readonly id: string;
  /** when it was quarantined (micros) */
  readonly at: Micros;
  /** where it came from, as in Provenance ("upstream", "hub/indicators") */
  readonly source: Provenance['source'];
  readonly detail: string;
  /** the local collection it was meant for */
  readonly collection?: string;
  /** one object, or a whole response that could not be read */
  readonly kind: 'object' | 'envelope';
  readonly reason: string;
  readonly url?: string;
  readonly objectId?: string;
  readonly version?: string;
  /** the object's JSON, or the beginning of the body as received */
  readonly content: string;
}

export type { LinkedAttributes };
