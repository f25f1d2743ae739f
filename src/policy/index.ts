export { decide, type Decision } from './decide.ts';
export { redact, type Redaction } from './redact.ts';
export { memberProfile, nodePolicy, viewProfile } from './config.ts';
export type { NodePolicy, MemberProfile } from './types.ts';
