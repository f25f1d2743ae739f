/**
 * Share-back: PII scan (pii/), field-level review (review.ts), anonymization by consent and
 * deterministic re-issue under the relay's identity (anonymize.ts, reissue.ts) are pure; the
 * processor (processor.ts) works through what inboxes accepted, through the store.
 */
export { AUDIENCES, attributionFor, type Attribution, type Audience } from './consent.ts';
export {
  batchToAudience,
  toAudience,
  type AudienceContext,
  type BatchResult,
  type Outgoing,
  type Release,
  type ReissuedLookup,
  type ReissueMapping,
  type SharingMember,
} from './anonymize.ts';
export {
  laterVersion,
  reissuedId,
  reissueNamespaces,
  relayIdentity,
  relayIdentityId,
  RELAY_IDENTITY_CREATED,
  RELAY_UUID_NAMESPACE,
  type RelayIdentity,
  type RelayIdentityOptions,
  type ReissueNamespaces,
} from './reissue.ts';
export { approve, flaggedText, reviewDecision, type Approval, type ApprovalInput, type ReviewDecision, type ReviewMode } from './review.ts';
export { MEMBER_TOKEN, memberMentions, type MemberMentions } from './scrub.ts';
export { selectorResolves } from './parts.ts';
export { uuidV5 } from './uuid5.ts';
export { ShareBackProcessor, SHAREBACK_MESSAGES, type ProcessorOptions } from './processor.ts';
export { shareBackSettings, type ShareBackSettings } from './settings.ts';
export { Forwarder, forwardsUpstream, type ForwardPass, type ForwarderOptions } from './forwarder.ts';
