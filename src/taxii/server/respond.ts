/** Successful TAXII responses: text bodies with the TAXII Content-Type. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TAXII_CONTENT_TYPE } from './media.ts';

export function taxii(
  c: Context,
  body: string | object,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Response {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return c.body(text, status, { ...headers, 'Content-Type': TAXII_CONTENT_TYPE });
}
