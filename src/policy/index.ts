export { decide, effectiveTlp, tlpAllows, type Decision, type RuleOutcome, type RuleName } from './decide.ts';
export { redact, type Redaction } from './redact.ts';
export type { MemberProfile, PolicySettings, ObjectAttributes, TlpCeiling, AttributionConsent } from './types.ts';
