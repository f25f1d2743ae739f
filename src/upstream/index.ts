export { UpstreamManager, realSleep, type UpstreamManagerOptions } from './manager.ts';
export { UpstreamConnection } from './connection.ts';
export { readSubscriptionStatus, type SubscriptionStatus } from './status.ts';
export { clientOptionsFor, timeoutsOf, UpstreamConfigError } from './credentials.ts';
export { compareCursors, type PollLease } from './lease-gate.ts';
