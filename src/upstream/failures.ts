/**
 * A failed poll cycle, as the subscription acts on it and as the operator reads it: transient
 * trouble keeps the subscription polling (`failing`); refused credentials, TLS and
 * configuration errors pause it for the upstream's auth_retry with a message naming what to fix.
 */
import { isAuthFailure, TaxiiPlainHttpError, TaxiiTlsError, type TaxiiHttpError } from '../taxii/client/index.ts';
import { UpstreamConfigError } from './credentials.ts';
import type { SubscriptionState } from './records.ts';
import type { SubscriptionSpec } from './subscription.ts';

export type FailureState = Extract<SubscriptionState, 'config-error' | 'tls-failed' | 'auth-failed' | 'failing'>;

export function failureState(error: unknown): FailureState {
  if (error instanceof UpstreamConfigError || error instanceof TaxiiPlainHttpError) return 'config-error';
  if (error instanceof TaxiiTlsError) return 'tls-failed';
  if (isAuthFailure(error)) return 'auth-failed';
  return 'failing';
}

/** Whether the subscription pauses for auth_retry instead of polling on (what the operator must fix). */
export function isFatal(error: unknown): boolean {
  return failureState(error) !== 'failing';
}

/** What an operator reads in `relay upstreams` and the log. Never includes credentials. */
export function operatorMessage(spec: SubscriptionSpec, error: unknown): string {
  const retry = `retrying every ${Math.round(spec.backoff.authRetryMs / 60_000) || spec.backoff.authRetryMs / 1000 + 's'}${spec.backoff.authRetryMs >= 60_000 ? 'm' : ''}`;
  if (isAuthFailure(error)) {
    const e = error as TaxiiHttpError;
    return `upstream "${spec.upstream}" refused our credentials (HTTP ${e.status}${e.title ? ` ${e.title}` : ''}) for collection "${spec.remote}": check upstreams[${spec.upstream}].auth and the grants the hub gave us; subscription paused, ${retry}`;
  }
  if (error instanceof TaxiiTlsError) {
    return `upstream "${spec.upstream}": TLS failed: ${error.reason}${error.code ? ` [${error.code}]` : ''}; check upstreams[${spec.upstream}].tls; subscription paused, ${retry}`;
  }
  if (error instanceof UpstreamConfigError) return `${error.message}; subscription paused, ${retry}`;
  if (error instanceof TaxiiPlainHttpError) {
    return `upstream "${spec.upstream}": ${error.message}; use https://, or set upstreams[${spec.upstream}].insecure_http: true if plain HTTP is really meant; subscription paused, ${retry}`;
  }
  return error instanceof Error ? error.message : String(error);
}
