/** The request body limit every POST route shares: past `max_content_length`, a 413 TAXII error. */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { TaxiiError } from './errors.ts';

export function limitBody(maxContentLength: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxContentLength,
    onError: () => {
      throw new TaxiiError(413, 'Request body too large', {
        description: `The body exceeds max_content_length (${maxContentLength} octets).`,
        errorCode: 'too-large',
        // the rest of the body is not read: do not let the client reuse this connection
        headers: { Connection: 'close' },
      });
    },
  });
}
