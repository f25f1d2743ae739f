/**
 * Authentication middleware: every endpoint, discovery included. An Authorization header
 * (Basic or Bearer) wins; without one, a TLS client certificate is used. The Authenticator
 * decides (src/auth/); this module turns its answer into HTTP:
 *
 * - wrong or missing credentials: 401 with WWW-Authenticate and one generic body naming the
 *   methods the node accepts;
 * - a client whose failed-login allowance is used up, or whose address already has its share of
 *   password checks in progress: 429 with Retry-After (nothing was hashed);
 * - too many password checks waiting in all: 503 with Retry-After (nothing was hashed).
 *
 * Every failure is logged with the client's address and the reason, never the credential.
 * Members and admins pass the same checks; which routes each may use is principals.ts's job.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import {
  challengeFor,
  peerCertificateOf,
  unauthorizedDescription,
  type AcceptedMethods,
  type Authenticator,
  type Authentication,
} from '../../auth/index.ts';
import { errorResponse, TaxiiError } from './errors.ts';

const seconds = (n: number) => `${n} second${n === 1 ? '' : 's'}`;

export const unauthorized = (methods: AcceptedMethods) => {
  const challenge = challengeFor(methods);
  return new TaxiiError(401, 'Unauthorized', {
    description: unauthorizedDescription(methods),
    errorCode: 'unauthorized',
    ...(challenge ? { headers: { 'WWW-Authenticate': challenge } } : {}),
  });
};

export const tooManyFailedLogins = (retryAfterSeconds: number) =>
  new TaxiiError(429, 'Too many failed logins', {
    description: `Too many failed logins; try again in ${seconds(retryAfterSeconds)}.`,
    errorCode: 'too-many-failed-logins',
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });

export const tooManyLoginChecks = (retryAfterSeconds: number) =>
  new TaxiiError(429, 'Too many logins at once', {
    description: `Too many logins from this address are being checked; try again in ${seconds(retryAfterSeconds)}.`,
    errorCode: 'too-many-login-checks',
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });

export const passwordChecksBusy = (retryAfterSeconds: number) =>
  new TaxiiError(503, 'Service busy', {
    description: 'Too many password checks are waiting; try again shortly.',
    errorCode: 'busy',
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });

/** A full check queue under a flood would otherwise log every refused request. */
const BUSY_LOG_INTERVAL_MS = 10_000;

export function authenticate(authenticator: Authenticator, log: Logger, onRefused?: (refusal: string) => void): MiddlewareHandler {
  const methods = authenticator.methods;
  let busyLoggedAt = -Infinity;
  return async (c, next) => {
    const header = c.req.header('authorization');
    const socket = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket;
    const address = socket?.remoteAddress;
    // Without an Authorization header, a verified TLS client certificate may identify the member.
    const peer = header === undefined ? peerCertificateOf(socket) : undefined;
    const result: Authentication = peer
      ? authenticator.authenticateCertificate(peer)
      : await authenticator.authenticate(header, { address });
    if (result.ok) {
      c.set('principal', result.principal);
      return next();
    }
    const event = { reason: result.reason, address, method: c.req.method, path: c.req.path };
    onRefused?.(result.refusal);
    switch (result.refusal) {
      case 'unauthorized':
        log.info(event, 'TAXII authentication failed');
        if (result.limitReached) log.warn(event, 'failed-login limit reached: further Basic logins are refused unchecked (429)');
        throw unauthorized(methods);
      case 'too-many-failures':
        // bounded by the flood itself; the limit being reached was logged once above
        log.debug(event, 'TAXII authentication refused: too many failed logins');
        throw tooManyFailedLogins(result.retryAfterSeconds);
      case 'too-many-checks':
        log.debug(event, 'TAXII authentication refused: too many logins from this address in progress');
        throw tooManyLoginChecks(result.retryAfterSeconds);
      case 'busy':
        if (Date.now() - busyLoggedAt >= BUSY_LOG_INTERVAL_MS) {
          busyLoggedAt = Date.now();
          log.warn(event, 'TAXII authentication refused: too many password checks waiting (503; logged at most every 10 s)');
        }
        // answered here, not thrown: the error hook logs every 5xx as a server fault, with a stack
        return errorResponse(passwordChecksBusy(result.retryAfterSeconds));
    }
  };
}
