export { connectFederation, federationOptions } from './connection.ts';
export { Gossip, type GossipCounters } from './gossip.ts';
export { loadGossipCredentials } from './trust-config.ts';
