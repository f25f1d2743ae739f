/** Share-back PII scanner: personal data in STIX objects, as findings with property path and span. */
export { scanObject, scanObjects } from './scan.ts';
export { PII_KINDS, type Finding, type PiiKind } from './types.ts';
