export { connectFederation, federationOptions } from './connection.ts';
export { Gossip, type GossipCounters } from './gossip.ts';
export { loadGossipCredentials } from './trust-config.ts';
export { Leases } from './leases.ts';
export { Membership, storedPeerViews, type PeerView } from './membership.ts';
export { AntiEntropy, lastReconciliations, type AntiEntropyCounters, type PeerReconciliation } from './anti-entropy.ts';
export { egressRule, type EgressPolicy } from './egress.ts';
