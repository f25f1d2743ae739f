export { Authenticator, tokenSettings, type Admin, type Authentication, type Member, type Principal } from './authenticator.ts';
export { challengeFor, unauthorizedDescription, type AcceptedMethods } from './methods.ts';
export { hashSecret } from './secrets.ts';
export { loadOrCreateTokenKeys, durationSeconds } from './tokens.ts';
export { accessTo, hasAnyGrantIn, type Access } from './grants.ts';
export { peerCertificateOf } from './certificates.ts';
