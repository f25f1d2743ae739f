/**
 * TAXII error objects [T §3.6.1]. Handlers throw `TaxiiError`; the app's single error hook
 * (`handleError` / `handleNotFound`, wired in app.ts) turns everything into an error body with
 * the TAXII Content-Type. Unknown errors become a generic 500: their stack goes to the log,
 * never to the client.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { TAXII_CONTENT_TYPE } from './media.ts';

export interface TaxiiErrorOptions {
  readonly description?: string;
  /** server-specific code for this class of error, e.g. "invalid-filter" */
  readonly errorCode?: string;
  /** extra response headers (e.g. WWW-Authenticate, Allow) */
  readonly headers?: Readonly<Record<string, string>>;
}

export class TaxiiError extends Error {
  override readonly name = 'TaxiiError';
  readonly status: ContentfulStatusCode;
  readonly title: string;
  readonly description: string | undefined;
  readonly errorCode: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: ContentfulStatusCode, title: string, options: TaxiiErrorOptions = {}) {
    super(options.description ? `${title}: ${options.description}` : title);
    this.status = status;
    this.title = title;
    this.description = options.description;
    this.errorCode = options.errorCode;
    this.headers = options.headers ?? {};
  }
}

/** Shorthands for the errors handlers raise most. */
export const badRequest = (description: string, errorCode = 'bad-request') =>
  new TaxiiError(400, 'Bad request', { description, errorCode });

export interface ErrorBody {
  readonly title: string;
  readonly description?: string;
  readonly error_id?: string;
  readonly error_code?: string;
  readonly http_status: string;
}

export function errorBody(error: TaxiiError, errorId?: string): ErrorBody {
  return {
    title: error.title,
    ...(error.description !== undefined ? { description: error.description } : {}),
    ...(errorId !== undefined ? { error_id: errorId } : {}),
    ...(error.errorCode !== undefined ? { error_code: error.errorCode } : {}),
    http_status: String(error.status),
  };
}

export function errorResponse(error: TaxiiError, errorId?: string): Response {
  const headers = new Headers(error.headers);
  headers.set('content-type', TAXII_CONTENT_TYPE);
  return new Response(JSON.stringify(errorBody(error, errorId)), { status: error.status, headers });
}

/** Maps anything thrown by a handler or middleware to a TAXII error response. */
export function toTaxiiError(error: unknown): TaxiiError | null {
  if (error instanceof TaxiiError) return error;
  if (error instanceof HTTPException) {
    // hono's own exceptions (e.g. from built-in middleware): keep the status, not the text
    const status = error.status as ContentfulStatusCode;
    if (status === 413) return new TaxiiError(413, 'Request body too large', { errorCode: 'too-large' });
    if (status >= 400 && status < 500) return new TaxiiError(status, 'Request refused', { errorCode: 'refused' });
  }
  return null;
}

export function handleError(log: Logger) {
  return (error: Error, c: Context): Response => {
    const known = toTaxiiError(error);
    if (known) {
      if (known.status >= 500) log.error({ err: error, path: c.req.path }, 'TAXII request failed');
      return errorResponse(known);
    }
    // The client went away or was cut by a timeout (limits.request_timeout_seconds) while its
    // body was being read: nobody will receive an answer, and it is not a server fault.
    if (requestGone(c)) {
      log.info({ method: c.req.method, path: c.req.path, reason: error.message }, 'TAXII request aborted before its body was read');
      return errorResponse(new TaxiiError(400, 'Request aborted', { errorCode: 'aborted' }));
    }
    // Unexpected: log everything under an id the client can quote; send nothing of it.
    const errorId = randomUUID();
    log.error({ err: error, errorId, method: c.req.method, path: c.req.path }, 'unexpected error in a TAXII request');
    return errorResponse(
      new TaxiiError(500, 'Internal server error', {
        description: 'The server could not process the request; quote the error_id when reporting it.',
        errorCode: 'internal',
      }),
      errorId,
    );
  };
}

/** Whether the request's connection is gone (aborted by the client, or destroyed by a timeout). */
function requestGone(c: Context): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; destroyed?: boolean; socket?: { destroyed?: boolean } | null } } | undefined)
    ?.incoming;
  if (!incoming) return false;
  return incoming.aborted === true || incoming.socket?.destroyed === true;
}

export const notFound = (description = 'No such resource.') => new TaxiiError(404, 'Not found', { description, errorCode: 'not-found' });

export function handleNotFound(c: Context): Response {
  void c;
  return errorResponse(notFound('There is no TAXII resource at this URL.'));
}
