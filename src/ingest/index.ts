export { Ingestor, DEFAULT_BATCH_SIZE, acceptedSpecVersions } from './ingest.ts';
export type { AcceptedSpecVersions, IngestReport, IngestOptions, ObjectOutcome, StoredVersion, VersionListener } from './ingest.ts';
export { contentOfDocument, objectsOfDocument, DocumentError, type DocumentContent } from './documents.ts';
