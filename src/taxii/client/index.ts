export {
  type ClientTls,
  type ClientOptions,
  type RawResponse,
  type RemoteCollection,
  type RemoteStatus,
  type RemoteStatusDetail,
  type ObjectsQuery,
  type ObjectsPage,
  TaxiiClient,
  join,
  checkTaxiiMediaType,
  checkEnvelope,
  parseApiRoot,
} from './client.ts';
export {
  TaxiiClientError,
  TaxiiHttpError,
  TaxiiProtocolError,
  TaxiiTlsError,
  TaxiiPlainHttpError,
  isTransient,
  isAuthFailure,
} from './errors.ts';
export { resolveApiRoot, findCollection } from './resolve.ts';
