/**
 * Successful HTTP Basic checks, remembered briefly (keyed by a SHA-256 of the Authorization
 * header, never the header itself): verifying an scrypt hash costs tens of milliseconds of CPU,
 * which would otherwise cap a client paging with Basic at a few dozen pages a second.
 */
import { createHash } from 'node:crypto';
import type { Principal } from './authenticator.ts';

export const BASIC_CACHE_TTL_MS = 60_000;
const BASIC_CACHE_MAX = 1024;

export class BasicCache {
  private readonly entries = new Map<string, { principal: Principal; expires: number }>();

  constructor(
    private readonly ttlMs = BASIC_CACHE_TTL_MS,
    private readonly max = BASIC_CACHE_MAX,
  ) {}

  static key(header: string): string {
    return createHash('sha256').update(header).digest('base64');
  }

  get(key: string, now: number): Principal | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.principal;
  }

  set(key: string, principal: Principal, now: number): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { principal, expires: now + this.ttlMs });
  }
}
