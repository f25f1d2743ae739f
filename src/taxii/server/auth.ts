/**
 * Authentication middleware: every endpoint, discovery included. An Authorization header
 * (Basic or Bearer) wins; without one, a TLS client certificate is used. Failures get 401 with
 * WWW-Authenticate and one generic body; the reason goes to the log without the credential.
 *
 * Successful HTTP Basic checks are cached briefly (keyed by a SHA-256 of the header, never the
 * header itself): verifying an scrypt hash costs ~50 ms, which would otherwise cap a client
 * paging with Basic at ~20 pages/s. Bearer tokens are cheap to verify and are not cached (so
 * expiry is exact).
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { CHALLENGE, peerCertificateOf, type Authenticator, type Authentication, type Member } from '../../auth/index.ts';
import { TaxiiError } from './errors.ts';

export const BASIC_CACHE_TTL_MS = 60_000;
const BASIC_CACHE_MAX = 1024;

export class BasicCache {
  private readonly entries = new Map<string, { member: Member; expires: number }>();

  constructor(
    private readonly ttlMs = BASIC_CACHE_TTL_MS,
    private readonly max = BASIC_CACHE_MAX,
  ) {}

  static key(header: string): string {
    return createHash('sha256').update(header).digest('base64');
  }

  get(key: string, now: number): Member | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.member;
  }

  set(key: string, member: Member, now: number): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { member, expires: now + this.ttlMs });
  }
}

export const unauthorized = () =>
  new TaxiiError(401, 'Unauthorized', {
    description: 'Valid credentials are required: HTTP Basic or a Bearer token.',
    errorCode: 'unauthorized',
    headers: { 'WWW-Authenticate': CHALLENGE },
  });

export function authenticate(authenticator: Authenticator, log: Logger, cache = new BasicCache()): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const isBasic = header !== undefined && /^basic\s/i.test(header);
    const key = isBasic ? BasicCache.key(header) : undefined;
    const cached = key !== undefined ? cache.get(key, Date.now()) : undefined;
    if (cached) {
      c.set('member', cached);
      return next();
    }
    // Without an Authorization header, a verified TLS client certificate may identify the member.
    const incoming = (c.env as { incoming?: { socket?: unknown } } | undefined)?.incoming;
    const peer = header === undefined ? peerCertificateOf(incoming?.socket) : undefined;
    const result: Authentication = peer ? authenticator.authenticateCertificate(peer) : await authenticator.authenticate(header);
    if (!result.ok) {
      log.info({ reason: result.reason, method: c.req.method, path: c.req.path }, 'TAXII authentication failed');
      throw unauthorized();
    }
    if (key !== undefined && result.scheme === 'basic') cache.set(key, result.member, Date.now());
    c.set('member', result.member);
    return next();
  };
}
