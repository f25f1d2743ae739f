export { Ingestor, acceptedSpecVersions, type IngestReport } from './ingest.ts';
export { contentOfDocument, objectsOfDocument, type DocumentContent } from './documents.ts';
