/**
 * Members and admins authenticate alike (auth.ts) but reach disjoint parts of the server:
 * TAXII routes serve members only (an admin reads no intelligence), `/admin/` routes serve
 * admins only (a member reads no review item or outbox entry, not even its own). The other kind
 * of principal gets 403, after authentication, so a wrong password still answers 401.
 */
import type { MiddlewareHandler } from 'hono';
import { TaxiiError } from './errors.ts';

export const ADMIN_PREFIX = '/admin';

/** Prometheus metrics: admins only, like the admin API (Prometheus sends Basic or a bearer token). */
export const METRICS_PATH = '/metrics';

/** Whether a request path is for admins: the admin API and the metrics. */
export function isAdminPath(path: string): boolean {
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`) || isMetricsPath(path);
}

export function isMetricsPath(path: string): boolean {
  return path === METRICS_PATH || path === `${METRICS_PATH}/`;
}

const notForMembers = () =>
  new TaxiiError(403, 'Forbidden', { description: 'The admin API is for the admins of this node.', errorCode: 'admins-only' });

const notForAdmins = () =>
  new TaxiiError(403, 'Forbidden', {
    description: 'TAXII is for members of this node; an admin uses the admin API under /admin/.',
    errorCode: 'members-only',
  });

/** Sets `member` on TAXII routes and `admin` on admin routes, or refuses the other kind with 403. */
export function separatePrincipals(): MiddlewareHandler {
  return async (c, next) => {
    const principal = c.get('principal');
    if (isAdminPath(c.req.path)) {
      if (principal.kind !== 'admin') throw notForMembers();
      c.set('admin', principal.admin);
    } else {
      if (principal.kind !== 'member') throw notForAdmins();
      c.set('member', principal.member);
    }
    return next();
  };
}
