/**
 * The configuration schema (zod). Every key an operator can set is here, with its default;
 * unknown keys are errors so that a typo never silently falls back to a default.
 */
import { z } from 'zod';
import { checkUpstreams, parseDuration, upstreamsSchema } from './upstreams.ts';
import { collectionKindShape, policySchema, type ForwardTargetConfig, type ViewFilterConfig } from './policy.ts';
import { checkFederation, federationSchema } from './federation.ts';
import { adminSchema, checkPrincipals, memberSchema } from './principals.ts';
import { sharebackSchema } from './shareback.ts';
import { specVersionOfMediaType } from '../stix/specversion.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
const LISTEN = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** A duration's length for comparisons; NaN when it is no duration (that has its own error). */
const seconds = (text: string) => (/^\d+[smhd]$/.test(text) ? parseDuration(text) / 1000 : NaN);

export const listenAddress = z
  .string()
  .regex(LISTEN, 'expected "host:port", for example "127.0.0.1:8443"')
  .refine((v) => !LISTEN.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

const collectionSchema = z.strictObject({
  id: z.string().regex(UUID, 'expected a UUID (TAXII collection ids are identifiers)'),
  alias: z.string().regex(SLUG, 'expected a URL-safe name').optional(),
  title: z.string().min(1),
  description: z.string().optional(),
  // the STIX versions the collection accepts and serves: 2.1, and 2.0 where listed
  media_types: z
    .array(
      z
        .string()
        .refine(
          (m) => specVersionOfMediaType(m) !== null,
          'expected a STIX media type: "application/stix+json;version=2.1" or "application/stix+json;version=2.0"',
        ),
    )
    .min(1)
    .default(['application/stix+json;version=2.1']),
  ...collectionKindShape,
});

const apiRootSchema = z.strictObject({
  path: z.string().regex(SLUG, 'expected one URL path segment, for example "isac"'),
  title: z.string().min(1),
  description: z.string().optional(),
  default: z.boolean().default(false),
  collections: z.array(collectionSchema).default([]),
});

/** HTTP server limits: request head size and how long a slow client may take. */
const LIMIT_DEFAULTS = {
  max_header_bytes: 16 * 1024,
  handshake_timeout_seconds: 10,
  headers_timeout_seconds: 20,
  request_timeout_seconds: 120,
  keep_alive_timeout_seconds: 5,
  pages_in_flight: 16,
  page_queue_length: 500,
  page_queue_timeout_seconds: 30,
  pages_per_member: 8,
  retry_after_seconds: 5,
  page_stall_timeout_seconds: 30,
};

const limitsSchema = z
  .strictObject({
    max_header_bytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(LIMIT_DEFAULTS.max_header_bytes),
    handshake_timeout_seconds: z.number().positive().max(600).default(LIMIT_DEFAULTS.handshake_timeout_seconds),
    headers_timeout_seconds: z.number().positive().max(600).default(LIMIT_DEFAULTS.headers_timeout_seconds),
    request_timeout_seconds: z.number().positive().max(3600).default(LIMIT_DEFAULTS.request_timeout_seconds),
    keep_alive_timeout_seconds: z.number().positive().max(600).default(LIMIT_DEFAULTS.keep_alive_timeout_seconds),
    // Page work under load (taxii/server/admission.ts): slots, the queue for them, each
    // member's share, the Retry-After of a refusal, and how long a reader may stall.
    pages_in_flight: z.number().int().min(1).max(10_000).default(LIMIT_DEFAULTS.pages_in_flight),
    page_queue_length: z.number().int().min(0).max(100_000).default(LIMIT_DEFAULTS.page_queue_length),
    page_queue_timeout_seconds: z.number().positive().max(600).default(LIMIT_DEFAULTS.page_queue_timeout_seconds),
    pages_per_member: z.number().int().min(1).max(10_000).default(LIMIT_DEFAULTS.pages_per_member),
    retry_after_seconds: z.number().int().min(1).max(3600).default(LIMIT_DEFAULTS.retry_after_seconds),
    page_stall_timeout_seconds: z.number().positive().max(3600).default(LIMIT_DEFAULTS.page_stall_timeout_seconds),
  })
  .refine((l) => l.headers_timeout_seconds <= l.request_timeout_seconds, {
    message: 'limits.headers_timeout_seconds must not exceed limits.request_timeout_seconds',
  })
  .default(LIMIT_DEFAULTS);

/** Top-level paths the node serves itself, which an API root may not take. */
const RESERVED_PATHS: Readonly<Record<string, string>> = {
  admin: "the admin API's path",
  metrics: "the metrics' path",
  healthz: 'the health check',
  readyz: 'the readiness check',
};

export const configSchema = z
  .strictObject({
    node: z.strictObject({
      id: z.string().regex(SLUG, 'expected a short name without spaces'),
      title: z.string().min(1),
      description: z.string().optional(),
      contact: z.string().optional(),
    }),
    listen: listenAddress.default('127.0.0.1:8443'),
    data_dir: z.string().min(1).default('./data'),
    tls: z
      .strictObject({
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        dev_certs_dir: z.string().min(1).default('./certs'),
        client_ca: z.string().min(1).optional().describe('PEM CA bundle for member client certificates'),
      })
      .refine((t) => (t.cert === undefined) === (t.key === undefined), {
        message: 'set both tls.cert and tls.key, or neither (then a development certificate is minted)',
      })
      .default({ dev_certs_dir: './certs' }),
    logging: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .default({ level: 'info' }),
    taxii: z
      .strictObject({
        default_page_size: z.number().int().positive().default(100),
        max_page_size: z.number().int().positive().max(10_000).default(1000),
        max_content_length: z
          .number()
          .int()
          .positive()
          .max(2 ** 31)
          .default(10 * 1024 * 1024),
        status_retention_hours: z.number().positive().default(24),
      })
      .refine((t) => t.default_page_size <= t.max_page_size, {
        message: 'taxii.default_page_size must not exceed taxii.max_page_size',
      })
      .default({
        default_page_size: 100,
        max_page_size: 1000,
        max_content_length: 10 * 1024 * 1024,
        status_retention_hours: 24,
      }),
    auth: z
      .strictObject({
        jwt_issuer: z.string().min(1).default('relay'),
        jwt_audience: z.string().min(1).default('relay-taxii'),
        token_ttl: z
          .string()
          .regex(/^\d+[smhd]$/, 'expected a duration such as "30m", "12h" or "7d"')
          .default('12h'),
        max_token_ttl: z
          .string()
          .regex(/^\d+[smhd]$/, 'expected a duration such as "7d" or "30d"')
          .default('30d'),
        // Failed HTTP Basic logins a client may make before it is answered 429 without a check.
        failed_logins: z
          .strictObject({
            per_address: z.number().int().min(1).max(1_000_000).default(30),
            per_address_member: z.number().int().min(1).max(1_000_000).default(10),
            window: z
              .string()
              .regex(/^[1-9]\d*[smhd]$/, 'expected a duration such as "15m" or "1h"')
              .default('15m'),
            tracked_keys: z.number().int().min(100).max(10_000_000).default(100_000),
          })
          .refine((f) => f.per_address_member <= f.per_address, {
            message: 'per_address_member must not exceed per_address (the address limit would always be reached first)',
          })
          .default({ per_address: 30, per_address_member: 10, window: '15m', tracked_keys: 100_000 }),
        // scrypt checks of Basic passwords at once, and how many may wait (beyond: 503; beyond an
        // address's share: 429).
        password_checks: z
          .strictObject({
            concurrency: z.number().int().min(1).max(64).default(1),
            queue: z.number().int().min(0).max(100_000).default(32),
            per_address: z.number().int().min(1).max(10_000).default(4),
          })
          .default({ concurrency: 1, queue: 32, per_address: 4 }),
      })
      .refine((a) => !(seconds(a.token_ttl) > seconds(a.max_token_ttl)), {
        path: ['token_ttl'],
        error: (issue) => {
          const a = issue.input as { token_ttl: string; max_token_ttl: string };
          return `${a.token_ttl} is longer than auth.max_token_ttl (${a.max_token_ttl}), the longest a token may live: shorten auth.token_ttl or raise auth.max_token_ttl`;
        },
      })
      .default({
        jwt_issuer: 'relay',
        jwt_audience: 'relay-taxii',
        token_ttl: '12h',
        max_token_ttl: '30d',
        failed_logins: { per_address: 30, per_address_member: 10, window: '15m', tracked_keys: 100_000 },
        password_checks: { concurrency: 1, queue: 32, per_address: 4 },
      }),
    pki: z
      .strictObject({
        dir: z.string().min(1).optional().describe('default: <data_dir>/pki'),
        ca_cert: z.string().min(1).optional(),
        ca_key: z.string().min(1).optional(),
      })
      .refine((p) => (p.ca_cert === undefined) === (p.ca_key === undefined), {
        message: 'set both pki.ca_cert and pki.ca_key (an existing CA), or neither',
      })
      .default({}),
    limits: limitsSchema,
    reindexer: z
      .strictObject({
        inline_items: z.number().int().min(0).default(1000).describe('queued objects derived right after each ingest call'),
        max_backlog: z.number().int().min(1000).default(100_000).describe('backlog above which ingest waits (backpressure)'),
        items_per_step: z.number().int().min(1).max(10_000).default(200).describe('queued objects per re-indexer transaction'),
      })
      .default({ inline_items: 1000, max_backlog: 100_000, items_per_step: 200 }),
    audit: z
      .strictObject({
        retention_days: z
          .number()
          .int()
          .min(31, 'keep at least 31 days (audits count whole months and years)')
          .max(3650)
          .default(400)
          .describe('days the audit trail keeps received, delivered and decision records'),
      })
      .default({ retention_days: 400 }),
    federation: federationSchema,
    api_roots: z.array(apiRootSchema).min(1, 'configure at least one API root'),
    members: z.array(memberSchema).default([]),
    admins: z.array(adminSchema).default([]),
    shareback: sharebackSchema,
    policy: policySchema,
    upstreams: upstreamsSchema,
  })
  .superRefine((config, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    checkFederation(config.federation, config.node.id, issue);
    checkUpstreams(config.upstreams, config.api_roots, issue);
    const roots = new Map<string, Set<string>>();
    config.api_roots.forEach((root, i) => {
      if (roots.has(root.path)) {
        ctx.addIssue({ code: 'custom', path: ['api_roots', i, 'path'], message: `duplicate API root path "${root.path}"` });
      }
      const reserved = RESERVED_PATHS[root.path];
      if (reserved !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['api_roots', i, 'path'],
          message: `"${root.path}" is ${reserved}; name the API root otherwise`,
        });
      }
      const names = new Set<string>();
      root.collections.forEach((c, j) => {
        for (const name of [c.id, c.alias].filter((n): n is string => n !== undefined)) {
          if (names.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['api_roots', i, 'collections', j],
              message: `collection id or alias "${name}" is used twice in API root "${root.path}"`,
            });
          }
          names.add(name);
        }
      });
      roots.set(root.path, names);
      checkCollectionKinds(root.collections, (j, message, key) =>
        ctx.addIssue({ code: 'custom', path: ['api_roots', i, 'collections', j, ...(key ? [key] : [])], message }),
      );
      root.collections.forEach((c, j) => {
        if (c.forward_to === undefined) return;
        const upstream = config.upstreams.find((u) => u.name === c.forward_to?.upstream);
        if (!upstream) {
          const known = config.upstreams.map((u) => u.name);
          ctx.addIssue({
            code: 'custom',
            path: ['api_roots', i, 'collections', j, 'forward_to', 'upstream'],
            message: `unknown upstream "${c.forward_to.upstream}"; expected one of: ${known.join(', ') || '(none: add it under upstreams)'}`,
          });
        }
      });
    });
    if (config.api_roots.filter((r) => r.default).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['api_roots'], message: 'at most one API root may be the default' });
    }
    config.upstreams.forEach((u, i) => {
      if (u.collections.length > 0) return;
      const forwarded = config.api_roots.some((r) => r.collections.some((c) => c.forward_to?.upstream === u.name));
      if (!forwarded) {
        ctx.addIssue({
          code: 'custom',
          path: ['upstreams', i, 'collections'],
          message: 'an upstream needs at least one collection to poll (or an inbox whose forward_to names it)',
        });
      }
    });
    checkPrincipals(config.members, config.admins, roots, issue);
  });

const INBOX_KEYS = ['redistribute_to', 'forward_to', 'review_mode'] as const;

/**
 * Views name a mirror (or inbox) in the same API root; only views carry source and filter.
 * Only inboxes carry share-back keys; an inbox redistributes into a mirror of its API root.
 */
function checkCollectionKinds(
  collections: ReadonlyArray<
    { id: string; alias?: string | undefined; kind: string; source?: string | undefined; filter?: unknown } & {
      [K in (typeof INBOX_KEYS)[number]]?: unknown;
    } & { redistribute_to?: string | undefined }
  >,
  issue: (index: number, message: string, key?: string) => void,
): void {
  const named = (name: string) => collections.find((s) => s.id === name || s.alias === name);
  collections.forEach((c, j) => {
    if (c.kind !== 'inbox') {
      for (const key of INBOX_KEYS) if (c[key] !== undefined) issue(j, `only a "kind: inbox" collection takes ${key}`, key);
    } else if (c.redistribute_to !== undefined) {
      const target = named(c.redistribute_to);
      if (!target) issue(j, `"${c.redistribute_to}" is not a collection of this API root`, 'redistribute_to');
      else if (target.kind !== 'mirror') {
        issue(
          j,
          `"${c.redistribute_to}" is a ${target.kind}; redistribute into a mirror collection (members read it, or views of it)`,
          'redistribute_to',
        );
      }
    }
    if (c.kind !== 'view') {
      if (c.source !== undefined || c.filter !== undefined) issue(j, `only a "kind: view" collection takes source and filter`);
      return;
    }
    if (c.source === undefined) return issue(j, 'a view needs "source": the id or alias of the collection it filters');
    const source = named(c.source);
    if (!source) issue(j, `view source "${c.source}" is not a collection of this API root`);
    else if (source.kind === 'view') issue(j, `view source "${c.source}" is itself a view; name the collection that holds the objects`);
  });
}

/** The configuration as the schema parses it (before load.ts resolves paths and defaults that depend on other keys). */
export type ParsedConfig = z.infer<typeof configSchema>;
type ParsedApiRoot = ParsedConfig['api_roots'][number];
type ParsedCollection = ParsedApiRoot['collections'][number];
type CollectionBase = Omit<ParsedCollection, 'kind' | 'source' | 'filter' | (typeof INBOX_KEYS)[number]>;

/** What an inbox does with what members share (issue 11). */
export interface InboxSettings {
  /** id of the mirror that receives released objects (resolved from an id or alias) */
  readonly redistribute_to?: string | undefined;
  readonly forward_to?: ForwardTargetConfig | undefined;
  readonly review_mode: 'withhold-fields' | 'hold';
}

/** A collection: what it is decides what it has (only a view has a source and a filter, only an inbox share-back settings). */
export type CollectionConfig =
  | (CollectionBase & { readonly kind: 'mirror' })
  | (CollectionBase & { readonly kind: 'inbox' } & InboxSettings)
  | (CollectionBase & { readonly kind: 'view'; readonly source: string; readonly filter?: ViewFilterConfig | undefined });

export type ApiRootConfig = Omit<ParsedApiRoot, 'collections'> & { collections: CollectionConfig[] };

/** The resolved configuration the node runs with: paths absolute, `pki.dir` set, collections typed by kind. */
export type RelayConfig = Omit<ParsedConfig, 'api_roots' | 'pki'> & {
  api_roots: ApiRootConfig[];
  pki: Omit<ParsedConfig['pki'], 'dir'> & { dir: string };
};
export type MemberConfig = RelayConfig['members'][number];
export type AdminConfig = RelayConfig['admins'][number];
export type GrantConfig = MemberConfig['grants'][number];

/** A parsed collection as its kind says (the schema's refinements already checked that a view names its source). */
export function typedCollection(c: ParsedCollection, siblings: readonly ParsedCollection[] = []): CollectionConfig {
  const { kind, source, filter, redistribute_to, forward_to, review_mode, ...base } = c;
  if (kind === 'inbox') {
    const target =
      redistribute_to === undefined ? undefined : siblings.find((s) => s.id === redistribute_to || s.alias === redistribute_to);
    return {
      ...base,
      kind,
      review_mode: review_mode ?? 'withhold-fields',
      ...(redistribute_to !== undefined ? { redistribute_to: target?.id ?? redistribute_to } : {}),
      ...(forward_to !== undefined ? { forward_to } : {}),
    };
  }
  if (kind !== 'view') return { ...base, kind };
  if (source === undefined) throw new Error(`collection ${c.id}: a view without a source passed the schema`);
  return { ...base, kind, source, ...(filter !== undefined ? { filter } : {}) };
}
