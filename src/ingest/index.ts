export { Ingestor, DEFAULT_BATCH_SIZE } from './ingest.ts';
export type { IngestReport, IngestOptions, ObjectOutcome, StoredVersion, VersionListener } from './ingest.ts';
export { objectsOfDocument, DocumentError } from './documents.ts';
