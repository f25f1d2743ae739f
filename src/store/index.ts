export { Store, snapshotOf, type CommitOptions } from './store.ts';
export type { ReconRule } from './federation-items.ts';
export { attributesOf, NEWEST, type EntryRecord } from './collection-index.ts';
export { merge, type Fanout, type LatestSnapshot, type Pending, type Work } from './queue.ts';
export type { CollectionStats, IndexEntry, PreparedVersion, Provenance, ScanResult, StoredAttributes, VersionOutcome } from './types.ts';
export type {
  OutboxEntry,
  OutboxOutcome,
  OutboxState,
  OutboxTarget,
  ReviewFinding,
  ReviewItem,
  ReviewState,
  ReviewVerdict,
  Submission,
  SubmittedVersion,
} from './shareback.ts';
export type { AuditAction, AuditEvent, AuditRange, DeliveredRecord, ReceivedRecord, Timed } from './audit.ts';
