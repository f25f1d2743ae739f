/**
 * `GET /healthz` and `GET /readyz`, outside TAXII and without credentials, for container health
 * checks and load balancers. /healthz: the process answers. /readyz: the node can do its job
 * (store readable, no upstream subscription stopped on refused credentials or TLS, the
 * federation's NATS connection up when one is configured); 503 names what is not ready.
 */
import type { Hono } from 'hono';
import type { Store } from '../../store/index.ts';
import { SECURITY_HEADERS } from './headers.ts';

/** What the node reports about its parts, read at each /readyz request. */
export interface ReadinessInputs {
  /** null when a read of the store succeeds, else why it failed */
  readonly storeError: string | null;
  /** each enabled upstream subscription's key and state (as `relay upstreams` prints it) */
  readonly upstreams: readonly { readonly key: string; readonly state: string }[];
  /** undefined: no federation configured */
  readonly federation: 'connected' | 'connecting' | 'disconnected' | undefined;
}

export interface Readiness {
  readonly ready: boolean;
  /** "ok", or why not, per part */
  readonly checks: Readonly<Record<string, string>>;
}

/** Subscription states in which polling has stopped until an operator acts (credentials, TLS, config). */
const STOPPED_STATES: ReadonlySet<string> = new Set(['auth-failed', 'tls-failed', 'config-error']);

export function readinessOf(inputs: ReadinessInputs): Readiness {
  const checks: Record<string, string> = {};
  checks.store = inputs.storeError === null ? 'ok' : `cannot read the store: ${inputs.storeError}`;
  const stopped = inputs.upstreams.filter((u) => STOPPED_STATES.has(u.state));
  checks.upstreams = stopped.length === 0 ? 'ok' : `stopped: ${stopped.map((u) => `${u.key} (${u.state})`).join(', ')}`;
  if (inputs.federation !== undefined) {
    checks.federation = inputs.federation === 'connected' ? 'ok' : `NATS ${inputs.federation}`;
  }
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

/** null when a small read of the store succeeds (it is open and readable), else why not. */
export function storeReadError(store: Store): string | null {
  try {
    store.resources.setting('policy-attributes');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Mounts the two endpoints; call before the authentication middleware. */
export function registerHealthRoutes(app: Hono, readiness: () => ReadinessInputs): void {
  const json = (body: unknown, status: 200 | 503) =>
    new Response(JSON.stringify(body), { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json' } });
  app.get('/healthz', () => json({ status: 'alive' }, 200));
  app.get('/readyz', () => {
    const report = readinessOf(readiness());
    return json(report, report.ready ? 200 : 503);
  });
}
