export { decide, effectiveTlp, reachesEveryReader, tlpAllows, type Decision, type RuleOutcome, type RuleName } from './decide.ts';
export { redact, type Redaction } from './redact.ts';
export { DEFAULT_NODE_POLICY } from './types.ts';
export { memberProfile, nodePolicy, viewProfile } from './config.ts';
export type { NodePolicy, MemberProfile, PolicySettings, ObjectAttributes, TlpCeiling, AttributionConsent } from './types.ts';
