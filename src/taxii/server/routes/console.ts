/**
 * The admin console's static files: one page, one script, one style sheet, served by the node
 * itself (no CDN, no framework). They hold no data and no credentials, so they are served
 * without authentication; the page asks the admin to sign in and sends the credentials, kept in
 * the tab's memory only, with each call to the JSON API under /admin/ (admins only).
 *
 * Their Content-Security-Policy allows scripts, styles and fetches from the node alone and no
 * inline script or style: data shown by the page is inserted as text, never as markup.
 */
import { readFileSync } from 'node:fs';
import type { Hono, MiddlewareHandler } from 'hono';
import { SECURITY_HEADERS } from '../headers.ts';
import { ADMIN_PREFIX } from '../principals.ts';

export const CONSOLE_PATH = `${ADMIN_PREFIX}/console`;

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: ReadonlyArray<{ readonly file: string; readonly type: string }> = [
  { file: 'console.html', type: 'text/html; charset=utf-8' },
  { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  { file: 'console.css', type: 'text/css; charset=utf-8' },
];

/** The header the console's script sends with each API call. */
export const CONSOLE_CALL_HEADER = 'X-Relay-Console';

/**
 * A 401 to the console's own calls challenges with a scheme browsers do not prompt for: a
 * Basic challenge would pop the browser's password dialog, whose answer the browser keeps and
 * sends on its own (the console asks in its page and keeps credentials in the tab's memory).
 */
function quietChallenge(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status === 401 && c.req.header(CONSOLE_CALL_HEADER) !== undefined) {
      c.res.headers.set('WWW-Authenticate', 'RelayConsole realm="relay admin console"');
    }
  };
}

/** Mounts the console's files and its calls' challenge; call before the authentication middleware. */
export function registerConsoleRoutes(app: Hono): void {
  app.use(`${ADMIN_PREFIX}/*`, quietChallenge());
  // read once: the files ship with the code (next to this module's directory, in src/ and dist/)
  const bodies = new Map(ASSETS.map((a) => [a.file, readFileSync(new URL(`../console/${a.file}`, import.meta.url), 'utf8')]));
  const serve = (file: string, type: string) => () =>
    new Response(bodies.get(file), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Security-Policy': CONSOLE_CSP, 'Content-Type': type },
    });
  const [page, ...rest] = ASSETS;
  if (page) {
    app.get(CONSOLE_PATH, serve(page.file, page.type));
  }
  for (const asset of rest) app.get(`${CONSOLE_PATH}/${asset.file}`, serve(asset.file, asset.type));
}
