export {
  connectFederation,
  federationOptions,
  FederationConnectionError,
  type FederationFailure,
  type FederationOptions,
  type FederationTlsFiles,
} from './connection.ts';
export {
  buildPeerTrust,
  FederationIdentityError,
  initFederationIdentity,
  loadFederationIdentity,
  parsePeerKey,
  type FederationIdentity,
  type InitResult,
  type PeerTrust,
  type TrustedPeer,
} from './identity.ts';
export {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeVerifier,
  messageId,
  REJECTION_REASONS,
  ReplayWindow,
  signEnvelope,
  type EnvelopeLimits,
  type GossipEnvelope,
  type GossipTombstone,
  type GossipVersion,
  type RejectionReason,
  type ReplayState,
  type VerifyOutcome,
} from './envelope.ts';
export { DEFAULT_EGRESS, egressOf, egressOfTombstone, type EgressDecision, type EgressPolicy } from './egress.ts';
export { itemHash, mergeIncoming, type HashedItem, type IncomingAction, type ItemKind, type LocalState, type ReconItem } from './items.ts';
export { addHashes, hashValue, MemoryItemSource, rangeBounds, subtractHashes, type ItemSource, type RangeSummary } from './item-source.ts';
export {
  answerEncoded,
  decodeMessage,
  encodeMessage,
  reconcileAsInitiator,
  ReconcileError,
  ReconcileSession,
  RECONCILE_PROTOCOL,
  type ReconcileMessage,
  type ReconcileOptions,
  type ReconcileStats,
} from './reconcile.ts';
