/**
 * What the admin console reads, for admins only like the rest of /admin/ (JSON, TAXII error objects):
 *
 *   GET /admin/status                        node, upstream subscriptions, federation peers, backlogs,
 *                                            review and outbox counts
 *   GET /admin/members                       members with their policy and grants (never a credential)
 *   GET /admin/activity?since=&until=&bucket=hour|day   objects in per source, out per member, per bucket
 *   GET /admin/explain?member=&object=&collection=      policy explain, as `relay policy explain --json`
 *
 * The running parts (upstreams, gossip, re-indexer) come from the node as an `overview`; without
 * one (an app built in a test) those parts read as absent.
 */
import type { Context, Hono } from 'hono';
import type { MemberConfig } from '../../../config/index.ts';
import { ActivityRangeError, BUCKET_MICROS, bucketActivity, type ActivityBucket } from '../../../ops/activity.ts';
import { formatTaxiiTimestamp, nowMicros, parseTaxiiTimestamp } from '../../../stix/time.ts';
import type { ReviewState } from '../../../store/index.ts';
import type { NodeOverview, ServerContext } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { explainObject, UnknownCollectionError, UnknownMemberError } from '../explain.ts';
import { ADMIN_PREFIX } from '../principals.ts';

export const OVERVIEW_PATHS = {
  status: `${ADMIN_PREFIX}/status`,
  members: `${ADMIN_PREFIX}/members`,
  activity: `${ADMIN_PREFIX}/activity`,
  explain: `${ADMIN_PREFIX}/explain`,
} as const;

/** The default chart period per bucket: two days of hours, a month of days. */
const DEFAULT_SPAN: Readonly<Record<ActivityBucket, number>> = { hour: 48 * BUCKET_MICROS.hour, day: 30 * BUCKET_MICROS.day };

export function registerAdminOverviewRoutes(app: Hono, ctx: ServerContext, overview: NodeOverview | undefined): void {
  const json = (c: Context, value: unknown) => c.body(JSON.stringify(value), 200);
  const started = nowMicros();

  app.get(OVERVIEW_PATHS.status, (c) => {
    const { config, store } = ctx;
    const reviews: Partial<Record<ReviewState, number>> = {};
    let oldestOpen: number | null = null;
    for (const item of store.shareback.listReviews()) {
      reviews[item.state] = (reviews[item.state] ?? 0) + 1;
      if (item.state === 'open') oldestOpen = oldestOpen === null ? item.openedAt : Math.min(oldestOpen, item.openedAt);
    }
    return json(c, {
      node: {
        id: config.node.id,
        title: config.node.title,
        contact: config.node.contact ?? null,
        started_at: formatTaxiiTimestamp(started),
        now: formatTaxiiTimestamp(nowMicros()),
      },
      upstreams: overview?.upstreams() ?? [],
      federation: overview?.federation() ?? null,
      backlog: overview?.backlog() ?? null,
      reviews: { counts: reviews, oldest_open_at: oldestOpen === null ? null : formatTaxiiTimestamp(oldestOpen) },
      outbox: store.shareback.outboxCounts(),
    });
  });

  app.get(OVERVIEW_PATHS.members, (c) => json(c, { members: ctx.config.members.map(memberView) }));

  app.get(OVERVIEW_PATHS.activity, (c) => {
    const bucket = c.req.query('bucket') ?? 'hour';
    if (bucket !== 'hour' && bucket !== 'day') throw badRequest('bucket must be hour or day.');
    const until = timeParam(c.req.query('until'), 'until') ?? nowMicros();
    const since = timeParam(c.req.query('since'), 'since') ?? until - DEFAULT_SPAN[bucket];
    if (since >= until) throw badRequest('since must be before until.');
    const range = { since, until };
    try {
      const activity = bucketActivity(
        { received: ctx.store.audit.receivedIn(range), delivered: ctx.store.audit.deliveredIn(range) },
        {
          ...range,
          bucket,
        },
      );
      return json(c, {
        since: formatTaxiiTimestamp(since),
        until: formatTaxiiTimestamp(until),
        bucket,
        starts: activity.starts.map(formatTaxiiTimestamp),
        inbound: activity.inbound,
        outbound: activity.outbound,
      });
    } catch (error) {
      if (error instanceof ActivityRangeError) throw badRequest(`${error.message}.`);
      throw error;
    }
  });

  app.get(OVERVIEW_PATHS.explain, (c) => {
    const member = c.req.query('member');
    const object = c.req.query('object');
    if (!member || !object) throw badRequest('Give member and object (a STIX id); collection is optional.');
    try {
      return json(c, explainObject(ctx.config, ctx.store, { member, object, collection: c.req.query('collection') || undefined }));
    } catch (error) {
      if (error instanceof UnknownMemberError || error instanceof UnknownCollectionError) throw notFound(`${capitalized(error.message)}.`);
      throw error;
    }
  });
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A TAXII timestamp or a date (YYYY-MM-DD, midnight UTC); undefined when absent. */
function timeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const micros = parseTaxiiTimestamp(text);
  if (micros === null) throw badRequest(`${name} must be a timestamp (2026-05-01T00:00:00Z) or a date (2026-05-01).`);
  return micros;
}

/** What the console shows of a member: never a credential, only which ways it signs in. */
function memberView(m: MemberConfig) {
  const c = m.credentials;
  const signIn = [
    ...(c.basic_secret_hash !== undefined ? ['basic'] : []),
    ...(c.jwt_subject !== undefined ? ['token'] : []),
    ...(c.cert_subject !== undefined || c.cert_fingerprint !== undefined ? ['certificate'] : []),
  ];
  return {
    id: m.id,
    name: m.name,
    sign_in: signIn,
    policy: m.policy,
    grants: m.grants,
    identity_ids: m.identity_ids,
  };
}
