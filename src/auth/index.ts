export {
  Authenticator,
  passwordCheckLimits,
  tokenSettings,
  type Authentication,
  type Client,
  type Member,
  type PasswordCheckLimits,
  type Refusal,
} from './authenticator.ts';
export { BasicCache, BASIC_CACHE_TTL_MS } from './basic-cache.ts';
export { CheckQueue, type CheckQueueLimits } from './check-queue.ts';
export { clientKey, FailedLoginLimiter, type FailedLoginLimits } from './failed-logins.ts';
export { CHALLENGE, challengeFor, unauthorizedDescription, type AcceptedMethods } from './methods.ts';
export { hashSecret, verifySecret } from './secrets.ts';
export { loadOrCreateTokenKeys, issueToken, verifyToken, durationSeconds, TokenError, TokenKeys, type TokenSettings } from './tokens.ts';
export { accessTo, hasAnyGrantIn, NO_ACCESS, type Access } from './grants.ts';
export { peerCertificateOf, normalizeHex, normalizeSerialNumber, type PeerCertificate } from './certificates.ts';
