export { UpstreamManager, subscriptionSpecs, realSleep, DEFAULT_POLL, type UpstreamManagerOptions } from './manager.ts';
export {
  Subscription,
  operatorMessage,
  MAX_PAGES_PER_CYCLE,
  type CycleResult,
  type PollerHooks,
  type WaitRecord,
  type WaitReason,
  type SubscriptionSpec,
} from './subscription.ts';
export { readSubscriptionStatus, type SubscriptionStatus } from './status.ts';
export { clientOptionsFor, UpstreamConfigError } from './credentials.ts';
export { initialCursor, type Cursor } from './cursor.ts';
