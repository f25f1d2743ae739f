export { Authenticator, tokenSettings, type Authentication, type Member } from './authenticator.ts';
export { challengeFor, unauthorizedDescription, type AcceptedMethods } from './methods.ts';
export { hashSecret } from './secrets.ts';
export { loadOrCreateTokenKeys, durationSeconds } from './tokens.ts';
export { accessTo, hasAnyGrantIn, type Access } from './grants.ts';
export { peerCertificateOf } from './certificates.ts';
