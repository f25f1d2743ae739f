export { Store, type StatementsInBatch } from './store.ts';
export type { CollectionStats, IndexEntry, PreparedVersion, Provenance, ScanResult, VersionOutcome } from './types.ts';
