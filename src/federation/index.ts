export {
  connectFederation,
  federationOptions,
  FederationConnectionError,
  type FederationFailure,
  type FederationOptions,
  type FederationTlsFiles,
} from './connection.ts';
