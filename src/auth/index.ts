export { Authenticator, CHALLENGE, type Authentication, type Member } from './authenticator.ts';
export { hashSecret, verifySecret } from './secrets.ts';
export { loadOrCreateTokenKeys, issueToken, verifyToken, TokenError, type TokenKeys, type TokenSettings } from './tokens.ts';
export { accessTo, hasAnyGrantIn, NO_ACCESS, type Access } from './grants.ts';
