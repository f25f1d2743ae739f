/**
 * The admin API: share-back review over HTTP, for admins only (principals.ts keeps members
 * out). JSON in and out; errors are TAXII error objects like everywhere else on the server.
 *
 *   GET  /admin/reviews?state=open[,decided…]&member=M   review items, oldest first
 *   GET  /admin/reviews/{id}                             one item with the submitted object
 *   POST /admin/reviews/{id}/approve  {note?, edited?}   404 unknown, 409 already decided
 *   POST /admin/reviews/{id}/reject   {note?}
 *   GET  /admin/outbox?state=pending|sent|failed&member=M&limit=N   entries (newest first) and counts
 *
 * A verdict is recorded (the admin's id as `by`) and the share-back processor nudged to apply it.
 */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  decideReview,
  InvalidEditError,
  listReviews,
  outboxView,
  ReviewClosedError,
  showReview,
  UnknownReviewError,
} from '../../../shareback/desk.ts';
import { OUTBOX_STATES, REVIEW_STATES } from '../../../shareback/views.ts';
import { limitBody } from '../body-limit.ts';
import type { ServerContext } from '../context.ts';
import { badRequest, notFound, TaxiiError } from '../errors.ts';
import { parseMediaType } from '../media.ts';
import { ADMIN_PREFIX } from '../principals.ts';

const REVIEWS = `${ADMIN_PREFIX}/reviews`;
const OUTBOX = `${ADMIN_PREFIX}/outbox`;
/** a reviewer's note is a sentence or two, not a document */
export const MAX_NOTE_LENGTH = 4000;
const DEFAULT_OUTBOX_LIMIT = 500;
const MAX_OUTBOX_LIMIT = 10_000;

export function registerAdminRoutes(app: Hono, ctx: ServerContext): void {
  const json = (c: Context, value: unknown, status: ContentfulStatusCode = 200) => c.body(JSON.stringify(value), status);

  app.get(REVIEWS, (c) => {
    const states = listParam(c.req.query('state'), REVIEW_STATES, 'state');
    return json(c, { reviews: listReviews(ctx.store, { states, member: memberParam(c) }) });
  });

  app.get(`${REVIEWS}/:id`, (c) =>
    json(
      c,
      reviewOr404(() => showReview(ctx.store, c.req.param('id'))),
    ),
  );

  const bodyWithinLimit = limitBody(ctx.config.taxii.max_content_length);

  for (const verdict of ['approve', 'reject'] as const) {
    app.post(`${REVIEWS}/:id/${verdict}`, bodyWithinLimit, async (c) => {
      const id = c.req.param('id');
      const body = decisionBody(await readJson(c), verdict);
      const admin = c.get('admin');
      const view = reviewOr404(() => decideReview(ctx.store, id, verdict, { ...body, by: admin.id }));
      ctx.log.info({ admin: admin.id, review: id, verdict, edited: body.edited !== undefined }, 'share-back review decided');
      ctx.shareback?.nudge();
      return json(c, view);
    });
  }

  app.get(OUTBOX, (c) => {
    const [state] = listParam(c.req.query('state'), OUTBOX_STATES, 'state', { single: true }) ?? [];
    const limit = limitParam(c.req.query('limit'));
    return json(c, outboxView(ctx.store, { state, member: memberParam(c), limit }));
  });

  // Known admin URLs with another method: 405; anything else under /admin: 404 (never a TAXII route).
  const allowed: Array<[string, string]> = [
    [REVIEWS, 'GET'],
    [`${REVIEWS}/:id`, 'GET'],
    [`${REVIEWS}/:id/approve`, 'POST'],
    [`${REVIEWS}/:id/reject`, 'POST'],
    [OUTBOX, 'GET'],
  ];
  for (const [path, allow] of allowed) {
    app.all(path, () => {
      throw new TaxiiError(405, 'Method not allowed', {
        description: `This URL supports ${allow}.`,
        errorCode: 'method-not-allowed',
        headers: { Allow: allow },
      });
    });
  }
  for (const path of [ADMIN_PREFIX, `${ADMIN_PREFIX}/*`]) {
    app.all(path, () => {
      throw notFound('There is no admin resource at this URL.');
    });
  }
}

/** The desk's errors as HTTP: unknown item 404, decided item 409, an edit of another object 400. */
function reviewOr404<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof UnknownReviewError) throw notFound('There is no review item with this id.');
    if (error instanceof InvalidEditError) throw badRequest(`${error.message}.`, 'invalid-edit');
    if (error instanceof ReviewClosedError) {
      throw new TaxiiError(409, 'Conflict', {
        description: `The review item is ${error.state}: only an open (or failed) item can be decided.`,
        errorCode: 'already-decided',
      });
    }
    throw error;
  }
}

/** `state=open` or `state=open,decided`; undefined when absent. */
function listParam<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
  options: { single?: boolean } = {},
): T[] | undefined {
  if (value === undefined || value === '') return undefined;
  const words = value.split(',').map((w) => w.trim());
  const unknown = words.filter((w) => !(allowed as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw badRequest(`Unknown ${name} "${unknown[0]}"; expected ${options.single ? 'one of' : 'some of'}: ${allowed.join(', ')}.`);
  if (options.single && words.length > 1) throw badRequest(`Give one ${name}.`);
  return words as T[];
}

/** `member=M`; empty means every member. */
const memberParam = (c: Context) => c.req.query('member') || undefined;

function limitParam(value: string | undefined): number {
  if (value === undefined) return DEFAULT_OUTBOX_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_OUTBOX_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_OUTBOX_LIMIT}.`);
  }
  return Number(value);
}

/** The body as JSON: empty means `{}`; anything else must be application/json. */
async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  const type = parseMediaType(c.req.header('content-type') ?? '');
  if (type?.type !== 'application/json') {
    throw new TaxiiError(415, 'Unsupported media type', {
      description: 'Send the body as application/json.',
      errorCode: 'unsupported-media-type',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON.', 'malformed-json');
  }
}

/** `{note?, edited?}` for approve, `{note?}` for reject; anything else is a 400. */
function decisionBody(body: unknown, verdict: 'approve' | 'reject'): { note?: string; edited?: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object.');
  const record = body as Record<string, unknown>;
  const known = verdict === 'approve' ? ['note', 'edited'] : ['note'];
  const extra = Object.keys(record).find((k) => !known.includes(k));
  if (extra !== undefined) throw badRequest(`Unknown field "${extra}"; a ${verdict} body has ${known.join(' and ')} (both optional).`);
  const { note, edited } = record;
  if (note !== undefined && (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH)) {
    throw badRequest(`note must be a string of at most ${MAX_NOTE_LENGTH} characters.`);
  }
  if (edited !== undefined && (typeof edited !== 'object' || edited === null || Array.isArray(edited))) {
    throw badRequest('edited must be the whole edited STIX object.');
  }
  return {
    ...(note !== undefined ? { note: note as string } : {}),
    ...(edited !== undefined ? { edited: edited as Record<string, unknown> } : {}),
  };
}
