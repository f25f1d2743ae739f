/**
 * Answers for requests the HTTP layer refuses before the TAXII app sees them: a request head
 * larger than limits.max_header_bytes (431), a client too slow to send its head or its body
 * within the configured timeouts (408), and HTTP that does not parse (400). Node's default
 * answers are bare status lines; these are TAXII error objects with the TAXII Content-Type and
 * the security headers, after which the connection is closed.
 */
import type { Duplex } from 'node:stream';
import { errorBody, TaxiiError } from './errors.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { TAXII_CONTENT_TYPE } from './media.ts';

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The TAXII error for an HTTP parser or timeout error, by its code. */
export function clientErrorFor(code: string | undefined): TaxiiError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new TaxiiError(431, 'Request header fields too large', {
      description: 'The request line and headers exceed the size this server accepts.',
      errorCode: 'headers-too-large',
    });
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ETIMEDOUT') {
    return new TaxiiError(408, 'Request timeout', {
      description: 'The request was not received completely in time.',
      errorCode: 'request-timeout',
    });
  }
  return new TaxiiError(400, 'Bad request', { description: 'The request is not valid HTTP/1.1.', errorCode: 'malformed-http' });
}

/** The raw HTTP/1.1 response text for a client error (closes the connection). */
export function clientErrorResponse(code: string | undefined): string {
  const error = clientErrorFor(code);
  const body = JSON.stringify(errorBody(error));
  const headers = [
    `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? 'Error'}`,
    `Content-Type: ${TAXII_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A `clientError` listener for the node's HTTPS server. Only HTTP-level errors (parser errors,
 * request timeouts) get an answer; TLS errors (handshake timeout, bad handshake: the https
 * server re-emits them here) and resets just close the socket, as nothing can be sent on it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const code = error.code ?? '';
  const httpLevel = code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!httpLevel || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(code));
  // a client that does not read its answer does not keep the socket
  setTimeout(() => socket.destroy(), 5_000).unref();
}
