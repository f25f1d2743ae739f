export { Ingestor, acceptedSpecVersions, type DeletedVersions, type IngestReport, type StoredVersion } from './ingest.ts';
export { contentOfDocument, objectsOfDocument, type DocumentContent } from './documents.ts';
export {
  DUPLICATE_MESSAGE,
  settleObjects,
  statusFromReport,
  type ObjectSettlement,
  type ObjectState,
  type StatusDetail,
  type StatusResource,
  type StoredStatus,
} from './status.ts';
