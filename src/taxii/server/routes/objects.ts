/**
 * Objects [T §5.4–5.8]: get objects, add objects, get / delete one object, versions, and the
 * manifest. Reads select index entries (select.ts) and concatenate stored JSON text.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { Member } from '../../../auth/index.ts';
import type { CollectionConfig } from '../../../config/index.ts';
import { nowMicros } from '../../../stix/time.ts';
import type { IndexEntry, ScanResult } from '../../../store/index.ts';
import { requireDelete, requireRead, requireWrite, type Directory } from '../access.ts';
import { limitBody } from '../body-limit.ts';
import type { ServerContext } from '../context.ts';
import type { Permit } from '../admission.ts';
import { deliveryRecord } from '../audit.ts';
import { dateAddedHeaders, EnvelopeChunks } from '../envelope.ts';
import { badRequest, notFound, TaxiiError } from '../errors.ts';
import { canonicalQuery, MAX_ID_LENGTH, parseQuery, type Endpoint, type TaxiiQuery } from '../filters.ts';
import { manifestText } from '../manifest.ts';
import { isTaxiiContentType } from '../media.ts';
import { decodeNext, encodeNext, type TokenBinding } from '../paging.ts';
import { memberProfile, viewProfile } from '../../../policy/index.ts';
import { MemberView } from '../policy.ts';
import { streamPieces, taxii } from '../respond.ts';
import { entryFilter, listVersionOrder, selectPage } from '../select.ts';
import { specScope, type SpecScope } from '../specversions.ts';
import { SHAREBACK_MESSAGES } from '../../../shareback/index.ts';
import type { IngestReport } from '../../../ingest/index.ts';
import { statusFromReport, type StatusResource } from '../status.ts';
import { versionsText } from '../versions.ts';

const COLLECTION = '/:root/collections/:collection';
/** characters of envelope text produced, encoded and written at a time (about 64 KiB) */
const PIECE_CHARS = 64 * 1024;
const OBJECT = `${COLLECTION}/objects/:objectId`;

interface Target {
  readonly member: Member;
  readonly apiRoot: string;
  readonly collection: CollectionConfig;
  /** what this member may receive here (a view reads its source collection's index) */
  readonly view: MemberView;
  /** the STIX versions served here (the collection's media_types) and whether its index mixes them */
  readonly spec: SpecScope;
}

/** Where a page starts, resolved before the request waits for a page slot. */
interface PagePosition {
  readonly binding: TokenBinding;
  readonly q: TaxiiQuery;
  readonly objectId: string | undefined;
  readonly after: number;
}

interface Page {
  readonly entries: readonly IndexEntry[];
  readonly more: boolean;
  readonly next: string | undefined;
}

export function registerObjectRoutes(app: Hono, ctx: ServerContext, directory: Directory): void {
  const { store } = ctx;

  /** Resolves root + collection (404s) and applies the endpoint's access rule (403s). */
  const target = (c: Context, rule: (access: { read: boolean; write: boolean }) => void): Target => {
    const member = c.get('member');
    const index = directory.root(member, c.req.param('root') as string);
    const { collection, access } = directory.collection(member, index, c.req.param('collection') as string);
    rule(access);
    const source = collection.kind === 'view' ? index.collections.get(collection.source) : undefined;
    const view = new MemberView(
      store,
      ctx.policy,
      memberProfile(member.config),
      source?.id ?? collection.id,
      collection.kind === 'view' ? viewProfile(collection.id, collection.filter) : undefined,
    );
    return { member, apiRoot: index.root.path, collection, view, spec: specScope(collection, source ?? collection) };
  };

  const queryOf = (c: Context, endpoint: Endpoint) => parseQuery(new URL(c.req.url).searchParams, endpoint, ctx.page);

  /**
   * Where a page starts: `next` resolved against its binding (a bad token is a 400 before the
   * request waits for a page slot).
   */
  const position = (t: Target, endpoint: Endpoint, q: TaxiiQuery, objectId?: string): PagePosition => {
    const binding: TokenBinding = {
      member: t.member.id,
      endpoint,
      apiRoot: t.apiRoot,
      collection: t.collection.id,
      ...(objectId !== undefined ? { objectId } : {}),
      query: canonicalQuery(q),
    };
    const resumeAfter = q.next !== null ? decodeNext(ctx.secret, binding, q.next) : 0;
    return { binding, q, objectId, after: Math.max(q.addedAfter ?? 0, resumeAfter, 0) };
  };

  /** Selects one page (synchronous store reads) and mints the next token. */
  const select = (t: Target, p: PagePosition): Page => {
    const { q, objectId } = p;
    const result: ScanResult = selectPage(store, {
      collection: t.view.indexCollection,
      after: p.after,
      limit: q.limit,
      query: objectId !== undefined ? { ...q, ids: new Set([objectId]), types: null } : q,
      specScope: t.spec,
      scanBudget: ctx.scanBudget(q.limit),
      policy: t.view.accept,
      filing: t.view.filingKeys(),
    });
    const next = result.more ? encodeNext(ctx.secret, p.binding, result.resumeAfter) : undefined;
    return { entries: result.entries, more: result.more, next };
  };

  /**
   * Page work under the admission gate (admission.ts): waits for a slot (or is refused with
   * 429/503), then `answer` selects and renders in a slice of event-loop time (slicer.ts). The
   * slot is released when `answer` returns, unless it hands the slot to a streamed body
   * (`keep`), which releases it when done.
   */
  const gated = async (c: Context, t: Target, answer: (keep: () => Permit) => Response): Promise<Response> => {
    const signal = c.req.raw.signal;
    const permit = await ctx.pages.admit(t.member.id, signal);
    let kept = false;
    try {
      return await ctx.work.run(() => {
        // nobody would receive this page
        if (signal.aborted) throw new Error('the client went away before its page was selected');
        return answer(() => {
          kept = true;
          return permit;
        });
      });
    } finally {
      if (!kept) permit.release();
    }
  };

  /**
   * An envelope answer. A page that fits one piece is sent as one text (with Content-Length),
   * as is any answer to HEAD; a larger one is streamed piece by piece as the connection takes
   * it (respond.ts), holding the page slot until the last piece is written or the connection
   * closes.
   */
  const envelope = (c: Context, t: Target, page: Page, keep: () => Permit): Response => {
    const headers = dateAddedHeaders(page.entries);
    if (c.req.method !== 'HEAD') audit(t, page.entries);
    const pieces = new EnvelopeChunks(page.entries, page.more, page.next, t.view.body);
    // HEAD: the body is dropped and a stream would never be read, so answer with the text
    const first = pieces.next(c.req.method === 'HEAD' ? Infinity : PIECE_CHARS) as string;
    if (pieces.finished) return taxii(c, first, 200, headers);
    const permit = keep();
    const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
    const body = streamPieces(first, pieces, {
      pieceChars: PIECE_CHARS,
      schedule: (work) => ctx.work.run(work),
      stallMs: ctx.pageStallMs,
      signal: c.req.raw.signal,
      onStall: () => {
        ctx.log.info({ member: t.member.id, path: c.req.path }, 'page reader took nothing for too long; connection closed');
        outgoing?.destroy();
      },
      onEnd: (outcome) => {
        permit.release();
        // the status line is out: the connection is closed, and the log says why
        if (outcome.kind === 'failed') {
          ctx.log.error({ err: outcome.error, member: t.member.id, path: c.req.path }, 'page body failed after its headers were sent');
        }
      },
    });
    return taxii(c, body, 200, headers);
  };

  /** The audit trail's record of a page served (written as it goes out, batched: store/audit.ts). */
  const audit = (t: Target, entries: readonly IndexEntry[]): void => {
    const record = deliveryRecord(t.member.id, t.apiRoot, t.collection.id, entries);
    if (!record) return;
    ctx.metrics?.pageServed(t.member.id, t.collection.id, record.count);
    store.audit
      .noteDelivered(record)
      .catch((error: unknown) => ctx.log.error({ err: error, member: t.member.id }, 'audit record of a page served not written'));
  };

  const requireObject = (t: Target, objectId: string): IndexEntry[] => {
    const held = objectId.length <= MAX_ID_LENGTH ? store.versionsOf(t.view.indexCollection, objectId) : [];
    // versions the member may not see do not exist for it (404, never 403)
    const versions = held.filter(t.view.accept);
    if (versions.length === 0) throw notFound('There is no object with this id in this collection.');
    return versions;
  };

  // ---- Get Objects [§5.4]
  app.get(`${COLLECTION}/objects`, (c) => {
    const t = target(c, requireRead);
    const at = position(t, 'objects', queryOf(c, 'objects'));
    return gated(c, t, (keep) => envelope(c, t, select(t, at), keep));
  });

  // ---- Add Objects [§5.5]
  const bodyWithinLimit = limitBody(ctx.config.taxii.max_content_length);

  app.post(
    `${COLLECTION}/objects`,
    async (c, next) => {
      // access first (404/403), then the media type (415), then the size (413)
      target(c, requireWrite);
      if (!isTaxiiContentType(c.req.header('content-type'))) {
        throw new TaxiiError(415, 'Unsupported media type', {
          description: 'Send the envelope as application/taxii+json;version=2.1.',
          errorCode: 'unsupported-media-type',
        });
      }
      return next();
    },
    bodyWithinLimit,
    async (c) => {
      const requestedAt = nowMicros();
      const t = target(c, requireWrite);
      const text = await c.req.text();
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw badRequest('The body is not valid JSON.', 'malformed-json');
      }
      const objects = envelopeObjects(document, ctx.maxEnvelopeObjects);
      const statusId = randomUUID();
      const owner = { api_root: t.apiRoot, member: t.member.id, received_at: requestedAt };
      let status: StatusResource;
      if (t.collection.kind === 'inbox') {
        // Share-back: the objects, their pending status and the submission the processor works
        // through commit together (one transaction, whatever the envelope's size), so a 202 is
        // only sent for work that cannot be lost.
        const report = ctx.ingestor.ingest(
          t.collection.id,
          objects,
          { source: 'taxii', detail: t.member.id },
          {
            batchSize: Number.POSITIVE_INFINITY,
            alsoInTransaction: (outcomes) => {
              const pending = statusFromReport(statusId, requestedAt, { outcomes }, { pending: SHAREBACK_MESSAGES.received });
              store.resources.putStatus(statusId, { ...pending, ...owner });
              const versions = outcomes.flatMap((o) =>
                o.kind === 'stored' ? [{ id: o.id, version: o.version, dateAdded: o.dateAdded }] : [],
              );
              if (versions.length > 0) {
                store.shareback.addSubmission({
                  statusId,
                  member: t.member.id,
                  apiRoot: t.apiRoot,
                  inbox: t.collection.id,
                  receivedAt: requestedAt,
                  versions,
                });
              }
            },
          },
        );
        status = statusFromReport(statusId, requestedAt, report, { pending: SHAREBACK_MESSAGES.received });
        if (report.stored > 0) ctx.shareback?.nudge();
        logAdd(ctx, t, statusId, report);
      } else {
        const report = ctx.ingestor.ingest(t.collection.id, objects, { source: 'taxii', detail: t.member.id });
        status = statusFromReport(statusId, requestedAt, report);
        store.resources.putStatus(statusId, { ...status, ...owner });
        logAdd(ctx, t, statusId, report);
      }
      return taxii(c, status, 202);
    },
  );

  // ---- Get Object Manifests [§5.3]
  app.get(`${COLLECTION}/manifest`, (c) => {
    const t = target(c, requireRead);
    const at = position(t, 'manifest', queryOf(c, 'manifest'));
    return gated(c, t, () => {
      const { entries, more, next } = select(t, at);
      return taxii(c, manifestText(entries, more, next), 200, dateAddedHeaders(entries));
    });
  });

  // ---- Get an Object [§5.6]
  app.get(OBJECT, (c) => {
    const t = target(c, requireRead);
    const objectId = c.req.param('objectId');
    const q = queryOf(c, 'object');
    requireObject(t, objectId);
    const at = position(t, 'object', q, objectId);
    return gated(c, t, (keep) => envelope(c, t, select(t, at), keep));
  });

  // ---- Delete an Object [§5.7]
  app.delete(OBJECT, (c) => {
    const t = target(c, requireDelete);
    const objectId = c.req.param('objectId');
    const q = queryOf(c, 'delete');
    const versions = requireObject(t, objectId);
    const order = listVersionOrder(new Map([[objectId, versions]]));
    const selected = versions.filter(entryFilter({ ...q, ids: null, types: null }, t.spec, order));
    if (selected.length === 0) throw notFound('No version of this object matches the request.');
    const removed = ctx.ingestor.delete(t.collection.id, selected);
    ctx.log.info({ member: t.member.id, collection: t.collection.id, id: objectId, removed }, 'TAXII delete object');
    return c.body(null, 200);
  });

  // ---- Get Object Versions [§5.8]
  app.get(`${OBJECT}/versions`, (c) => {
    const t = target(c, requireRead);
    const objectId = c.req.param('objectId');
    const q = queryOf(c, 'versions');
    requireObject(t, objectId);
    const at = position(t, 'versions', q, objectId);
    return gated(c, t, () => {
      const { entries, more, next } = select(t, at);
      return taxii(c, versionsText(entries, more, next), 200, dateAddedHeaders(entries));
    });
  });
}

/**
 * The objects of an Add Objects body. Valid JSON that is not an envelope (not an object,
 * `objects` missing, not a list, or empty — TAXII lists are never empty) is 422: the request
 * was understood but its content cannot be processed [T §5.5 lists 422 for this].
 */
export function envelopeObjects(document: unknown, maxObjects: number): unknown[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw unprocessable('The body must be a TAXII envelope: a JSON object with an "objects" list.');
  }
  const objects = (document as Record<string, unknown>).objects;
  if (!Array.isArray(objects)) {
    throw unprocessable('The envelope needs an "objects" list of STIX objects.');
  }
  if (objects.length === 0) throw unprocessable('The envelope\'s "objects" list is empty.');
  if (objects.length > maxObjects) {
    throw unprocessable(`An envelope may carry at most ${maxObjects} objects; split it into several requests.`);
  }
  return objects;
}

function logAdd(ctx: ServerContext, t: { member: Member; collection: CollectionConfig }, status: string, report: IngestReport): void {
  ctx.log.info(
    {
      member: t.member.id,
      collection: t.collection.id,
      status,
      stored: report.stored,
      duplicate: report.duplicate,
      rejected: report.rejected,
    },
    'TAXII add objects',
  );
}

const unprocessable = (description: string) =>
  new TaxiiError(422, 'Unprocessable envelope', { description, errorCode: 'invalid-envelope' });
