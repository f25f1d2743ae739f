/**
 * The TAXII 2.1 HTTP application (hono), built by node.ts from its collaborators.
 *
 * Request pipeline (after /healthz, /readyz and the admin console's static files, which need no
 * credentials): response headers (TAXII Content-Type + security headers, on everything) ->
 * authentication (401) -> principals: members to TAXII, admins to /admin/ (403 otherwise) ->
 * Accept negotiation (406; not on the JSON admin API) -> route: API root / collection lookup
 * (404 when unknown or not granted) -> access rule (403) -> media type / size (415 / 413) ->
 * query parsing (400) -> handler. Every error, thrown anywhere, becomes a TAXII error object in
 * one place (errors.ts). Paths are accepted with and without the trailing slash.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/index.ts';
import type { RelayConfig } from '../../config/index.ts';
import type { Ingestor } from '../../ingest/index.ts';
import { nodePolicy } from '../../policy/index.ts';
import type { Store } from '../../store/index.ts';
import { Directory } from './access.ts';
import { PageGate } from './admission.ts';
import { WorkSlicer } from './slicer.ts';
import { authenticate } from './auth.ts';
import type { NodeOverview, ServerContext, ShareBackNudge } from './context.ts';
import { handleError, handleNotFound, TaxiiError } from './errors.ts';
import { responseHeaders } from './headers.ts';
import { registerHealthRoutes, storeReadError, type ReadinessInputs } from './health.ts';
import { isAcceptable } from './media.ts';
import { isAdminPath, METRICS_PATH, separatePrincipals } from './principals.ts';
import { matchedRoutes } from 'hono/route';
import type { RelayMetrics } from '../../ops/index.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAdminOverviewRoutes } from './routes/admin-overview.ts';
import { registerConsoleRoutes } from './routes/console.ts';
import { registerCollectionRoutes } from './routes/collections.ts';
import { registerDiscoveryRoutes } from './routes/discovery.ts';
import { registerObjectRoutes } from './routes/objects.ts';
import { defaultScanBudget } from './select.ts';

export interface TaxiiTuning {
  /** index entries examined at most per page (default: max(10000, 20 × limit)) */
  readonly scanBudget?: (limit: number) => number;
  /** objects accepted at most in one Add Objects envelope (default 100000) */
  readonly maxEnvelopeObjects?: number;
}

export interface TaxiiDependencies {
  readonly config: RelayConfig;
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly authenticator: Authenticator;
  readonly log: Logger;
  /** optional limits, for tests and benchmarks */
  readonly tuning?: TaxiiTuning;
  /** the public token-verification keys, published at /.well-known/jwks.json */
  readonly jwks?: () => unknown;
  /** the share-back processor, nudged when an inbox accepted objects or an admin decided a review */
  readonly shareback?: ShareBackNudge | undefined;
  /** Prometheus metrics: requests are counted and timed, /metrics serves them to admins */
  readonly metrics?: RelayMetrics | undefined;
  /** the parts /readyz reports on; without it /readyz checks only the store */
  readonly readiness?: () => ReadinessInputs;
  /** the running parts the admin console's /admin/status reports (upstreams, federation, backlogs) */
  readonly overview?: NodeOverview;
}

export const DEFAULT_MAX_ENVELOPE_OBJECTS = 100_000;
/**
 * Page work runs at most this long per event-loop turn (more only when one task is longer): a
 * busy loop accepts one connection per turn, so turns must stay short for newcomers.
 */
export const PAGE_WORK_SLICE_MS = 8;

export function createTaxiiApp(deps: TaxiiDependencies): Hono {
  const { config, store, ingestor, log } = deps;
  const ctx: ServerContext = {
    config,
    store,
    ingestor,
    log,
    page: { defaultPageSize: config.taxii.default_page_size, maxPageSize: config.taxii.max_page_size },
    policy: nodePolicy(config),
    secret: store.resources.nodeSecret(),
    scanBudget: deps.tuning?.scanBudget ?? defaultScanBudget,
    maxEnvelopeObjects: deps.tuning?.maxEnvelopeObjects ?? DEFAULT_MAX_ENVELOPE_OBJECTS,
    pages: new PageGate(
      {
        inFlight: config.limits.pages_in_flight,
        queueLength: config.limits.page_queue_length,
        queueTimeoutMs: config.limits.page_queue_timeout_seconds * 1000,
        perMember: config.limits.pages_per_member,
        retryAfterSeconds: config.limits.retry_after_seconds,
      },
      (member, why) => log.debug({ member, why }, 'TAXII page request refused (busy)'),
    ),
    work: new WorkSlicer(PAGE_WORK_SLICE_MS),
    pageStallMs: config.limits.page_stall_timeout_seconds * 1000,
    shareback: deps.shareback,
    metrics: deps.metrics,
  };
  const directory = new Directory(config);

  const app = new Hono({ strict: false });
  app.onError(handleError(log));
  app.notFound(handleNotFound);

  if (deps.jwks) {
    const jwks = deps.jwks;
    // Public keys for verifiers: outside TAXII, so no authentication and a JSON media type.
    app.get('/.well-known/jwks.json', (c) => {
      c.header('Cache-Control', 'max-age=300');
      c.header('X-Content-Type-Options', 'nosniff');
      return c.body(JSON.stringify(jwks()), 200, { 'Content-Type': 'application/jwk-set+json' });
    });
  }
  if (deps.metrics) app.use('*', observeRequests(deps.metrics));
  // Health checks answer without credentials (container health checks, load balancers).
  registerHealthRoutes(app, deps.readiness ?? (() => ({ storeError: storeReadError(store), upstreams: [], federation: undefined })));
  // The console's page, script and style carry no data: served without credentials (the page
  // asks for them and sends them with each API call), under their own strict CSP.
  registerConsoleRoutes(app);
  app.use('*', responseHeaders());
  app.use('*', authenticate(deps.authenticator, log, deps.metrics ? (refusal) => deps.metrics?.authRefused(refusal) : undefined));
  app.use('*', separatePrincipals());
  app.use('*', negotiate());

  // before the TAXII routes: `/:root` would otherwise take /admin and /metrics
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get(METRICS_PATH, async (c) => c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType }));
  }
  registerAdminOverviewRoutes(app, ctx, deps.overview);
  registerAdminRoutes(app, ctx);
  registerDiscoveryRoutes(app, ctx, directory);
  registerCollectionRoutes(app, directory);
  registerObjectRoutes(app, ctx, directory);
  registerMethodNotAllowed(app);
  return app;
}

/** Counts and times every answer by its route pattern (bounded labels: never the raw path). */
function observeRequests(metrics: RelayMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // the route the path matched, also when authentication answered before it ran ('*': none)
    const route = matchedRoutes(c).find((r) => r.path !== '*' && r.path !== '/*')?.path ?? '*';
    metrics.requestAnswered(route, c.req.method, c.res.status, (performance.now() - started) / 1000);
  };
}

/** 406 unless the Accept header admits TAXII 2.1 (or STIX 2.1 on the manifest endpoint). */
function negotiate(): MiddlewareHandler {
  return async (c, next) => {
    if (isAdminPath(c.req.path)) return next();
    const stix = /\/manifest\/?$/.test(c.req.path);
    if (!isAcceptable(c.req.header('accept'), { stix })) {
      throw new TaxiiError(406, 'Not acceptable', {
        description: 'This server answers with application/taxii+json;version=2.1; include it in Accept.',
        errorCode: 'not-acceptable',
      });
    }
    return next();
  };
}

/** Known URLs with a method they do not support: 405 with Allow. */
function registerMethodNotAllowed(app: Hono): void {
  const routes: Array<[string, string]> = [
    ['/taxii2', 'GET'],
    ['/:root', 'GET'],
    ['/:root/status/:statusId', 'GET'],
    ['/:root/collections', 'GET'],
    ['/:root/collections/:collection', 'GET'],
    ['/:root/collections/:collection/manifest', 'GET'],
    ['/:root/collections/:collection/objects', 'GET, POST'],
    ['/:root/collections/:collection/objects/:objectId', 'GET, DELETE'],
    ['/:root/collections/:collection/objects/:objectId/versions', 'GET'],
  ];
  for (const [path, allow] of routes) {
    app.all(path, () => {
      throw new TaxiiError(405, 'Method not allowed', {
        description: `This URL supports ${allow}.`,
        errorCode: 'method-not-allowed',
        headers: { Allow: allow },
      });
    });
  }
}
