export { Authenticator, CHALLENGE, tokenSettings, type Authentication, type Member } from './authenticator.ts';
export { hashSecret, verifySecret } from './secrets.ts';
export { loadOrCreateTokenKeys, issueToken, verifyToken, durationSeconds, TokenError, TokenKeys, type TokenSettings } from './tokens.ts';
export { accessTo, hasAnyGrantIn, NO_ACCESS, type Access } from './grants.ts';
export { peerCertificateOf, normalizeHex, normalizeSerialNumber, type PeerCertificate } from './certificates.ts';
export { CheckQueue, type CheckQueueLimits } from './check-queue.ts';
export { clientKey, FailedLoginLimiter, type FailedLoginLimits } from './failed-logins.ts';
