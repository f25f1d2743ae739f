export { UpstreamManager, type UpstreamManagerOptions } from './manager.ts';
export { readSubscriptionStatus } from './status.ts';
export { clientOptionsFor } from './credentials.ts';
