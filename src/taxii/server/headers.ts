/**
 * Headers on every response, errors included: the TAXII Content-Type (plain JSON on the admin
 * API, whose errors are TAXII error objects all the same) and security headers.
 * (The API serves JSON to programs: no caching, no sniffing, no framing, no referrers.)
 */
import type { MiddlewareHandler } from 'hono';
import { TAXII_CONTENT_TYPE } from './media.ts';
import { isAdminPath, isMetricsPath } from './principals.ts';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=31536000',
};

export function responseHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    // the metrics text keeps its own type (Prometheus exposition format); errors there are JSON
    if (!(isMetricsPath(c.req.path) && c.res.status === 200)) {
      headers.set('Content-Type', isAdminPath(c.req.path) ? 'application/json' : TAXII_CONTENT_TYPE);
    }
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  };
}
