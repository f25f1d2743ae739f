/**
 * Named TAXII client errors that carry their cause (nats.js style). Messages are written for
 * operators: they say what went wrong and where, never which credentials were used.
 */

export class TaxiiClientError extends Error {
  override readonly name: string = 'TaxiiClientError';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A non-2xx answer. `title` is the TAXII error body's title when the server sent one. */
export class TaxiiHttpError extends TaxiiClientError {
  override readonly name = 'TaxiiHttpError';
  constructor(
    readonly status: number,
    readonly title: string | undefined,
    url: string,
    /** Retry-After as milliseconds from now (seconds or an HTTP date), when sent */
    readonly retryAfterMs: number | undefined,
    readonly description?: string,
  ) {
    super(`HTTP ${status}${title ? ` (${title})` : ''} from ${url}`, url);
  }
}

/** Connect, header or body timeout: the server did not answer in time (a hung connection). */
export class TaxiiTimeoutError extends TaxiiClientError {
  override readonly name = 'TaxiiTimeoutError';
  constructor(
    readonly phase: 'connect' | 'headers' | 'body',
    url: string,
    options?: { cause?: unknown },
  ) {
    super(`timed out waiting for the ${phase === 'connect' ? 'connection' : `response ${phase}`} of ${url}`, url, options);
  }
}

/** A 2xx answer that is not TAXII 2.1: wrong media type, malformed JSON, wrong resource shape. */
export class TaxiiProtocolError extends TaxiiClientError {
  override readonly name = 'TaxiiProtocolError';
  constructor(
    /** short machine-readable kind, e.g. "media-type", "json", "envelope" */
    readonly kind: 'media-type' | 'json' | 'envelope' | 'resource' | 'too-large',
    message: string,
    url: string,
    /** the beginning of the body as received (for quarantine), when there was one */
    readonly excerpt?: string,
  ) {
    super(`${message} (${url})`, url);
  }
}

/** The TLS handshake failed; `reason` names the cause in words (e.g. "certificate required"). */
export class TaxiiTlsError extends TaxiiClientError {
  override readonly name = 'TaxiiTlsError';
  constructor(
    readonly reason: string,
    readonly code: string | undefined,
    url: string,
    options?: { cause?: unknown },
  ) {
    super(`TLS failure with ${url}: ${reason}${code ? ` [${code}]` : ''}`, url, options);
  }
}

/** The connection failed or broke (refused, reset, DNS). */
export class TaxiiConnectionError extends TaxiiClientError {
  override readonly name = 'TaxiiConnectionError';
  constructor(
    readonly code: string | undefined,
    url: string,
    options?: { cause?: unknown },
  ) {
    super(`connection to ${url} failed${code ? ` (${code})` : ''}: ${describeCause(options?.cause)}`, url, options);
  }
}

/**
 * A request to an http:// URL from a client that was not told plain HTTP is acceptable (only an
 * explicit choice allows it: an upstream's `insecure_http`, `relay probe --insecure-http`). Also
 * stops an https server from sending us to a plain-HTTP API root.
 */
export class TaxiiPlainHttpError extends TaxiiClientError {
  override readonly name = 'TaxiiPlainHttpError';
  constructor(url: string) {
    super(
      `refusing plain HTTP to ${url}: traffic and credentials would be unencrypted (https:// is required unless plain HTTP is allowed explicitly)`,
      url,
    );
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** TLS error codes (OpenSSL alerts and certificate verification results) in operator words. */
const TLS_REASONS: ReadonlyArray<[RegExp, string]> = [
  [/CERTIFICATE_REQUIRED/i, 'certificate required: the server requires a client certificate and none was sent'],
  [/ALERT_UNKNOWN_CA/i, 'unknown CA: the server does not trust the issuer of our client certificate'],
  [
    /^CLIENT_CERT_REJECTED$/,
    'client certificate rejected: the server closed the connection after the handshake (unknown CA or certificate not authorized?)',
  ],
  [/ALERT_BAD_CERTIFICATE/i, 'bad certificate: the server rejected our client certificate'],
  [/ALERT_CERTIFICATE_EXPIRED/i, 'certificate expired: the server says our client certificate has expired'],
  [/ALERT_CERTIFICATE_REVOKED/i, 'certificate revoked: the server says our client certificate is revoked'],
  [/ALERT_HANDSHAKE_FAILURE/i, 'handshake failure: no common TLS parameters (or the server wanted a client certificate)'],
  [
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)$/,
    "unknown CA: the server's certificate is not signed by a trusted CA (configure tls.ca_file)",
  ],
  [/^CERT_HAS_EXPIRED$/, "the server's certificate has expired"],
  [/^CERT_NOT_YET_VALID$/, "the server's certificate is not yet valid"],
  [/^ERR_TLS_CERT_ALTNAME_INVALID$/, "the server's certificate does not name this host"],
  [/^ERR_OSSL_BAD_DECRYPT$|^ERR_CRYPTO/i, 'cannot read the client key or PKCS#12 file (wrong passphrase?)'],
  [/PKCS12|mac verify failure/i, 'cannot read the PKCS#12 file (wrong passphrase?)'],
];

/** When `error` (or its cause chain) is a TLS failure, its reason in words; else undefined. */
export function tlsReason(error: unknown): { reason: string; code: string | undefined } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const text = `${typeof code === 'string' ? code : ''} ${(e as Error).message ?? ''}`;
    for (const [pattern, reason] of TLS_REASONS) {
      if ((typeof code === 'string' && pattern.test(code)) || pattern.test(text.trim())) {
        return { reason, code: typeof code === 'string' ? code : undefined };
      }
    }
    if (typeof code === 'string' && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
      return { reason: (e as Error).message, code };
    }
  }
  return undefined;
}

/** Whether retrying later may help (5xx, 429, timeouts, broken connections). */
export function isTransient(error: unknown): boolean {
  if (error instanceof TaxiiHttpError) return error.status >= 500 || error.status === 429 || error.status === 408;
  return error instanceof TaxiiTimeoutError || error instanceof TaxiiConnectionError || error instanceof TaxiiProtocolError;
}

/** Whether the server refused our credentials (the operator must act). */
export function isAuthFailure(error: unknown): boolean {
  return error instanceof TaxiiHttpError && (error.status === 401 || error.status === 403);
}
