/**
 * The configuration schema (zod). Every key an operator can set is here, with its default;
 * unknown keys are errors so that a typo never silently falls back to a default.
 */
import { z } from 'zod';
import { checkUpstreams, parseDuration, upstreamsSchema } from './upstreams.ts';
import { collectionKindShape, memberPolicySchema, policySchema, type ForwardTargetConfig, type ViewFilterConfig } from './policy.ts';
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

const grantSchema = z.strictObject({
  api_root: z.string().min(1),
  collection: z.string().min(1).describe('collection id or alias'),
  read: z.boolean().default(true),
  write: z.boolean().default(false),
});

const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const credentialsSchema = (who: string) =>
  z
    .strictObject({
      basic_secret_hash: z
        .string()
        .regex(SCRYPT_HASH, 'expected a hash made by `relay members hash-secret` ("scrypt$N$r$p$salt$hash")')
        .optional(),
      jwt_subject: z.string().min(1).optional(),
      cert_subject: z.string().min(1).optional().describe('client certificate subject common name'),
      cert_fingerprint: z
        .string()
        .regex(/^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'expected a SHA-256 fingerprint: 64 hex digits, colons allowed')
        .optional(),
    })
    .refine((c) => Object.values(c).some((v) => v !== undefined), {
      message: `${who} needs at least one credential: basic_secret_hash, jwt_subject, cert_subject or cert_fingerprint`,
    });

const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const memberSchema = z.strictObject({
  id: z.string().regex(SLUG, 'expected a short name without spaces'),
  name: z.string().min(1),
  credentials: credentialsSchema('a member'),
  grants: z.array(grantSchema).default([]),
  policy: memberPolicySchema,
  // share-back: how the member is named, so anonymization can remove it (shareback/anonymize.ts)
  aliases: z.array(z.string().min(1)).default([]).describe('other names the member goes by: short names, former names, its domains'),
  identity_ids: z
    .array(z.string().regex(IDENTITY_ID, 'expected a STIX identity id ("identity--<UUID>")'))
    .default([])
    .describe("the member's own STIX identity ids (its created_by_ref)"),
});

/** Operators who review share-back over the admin API; not members: they hold no grants. */
const adminSchema = z.strictObject({
  id: z.string().regex(SLUG, 'expected a short name without spaces'),
  name: z.string().min(1),
  credentials: credentialsSchema('an admin'),
});

const sharebackSchema = z
  .strictObject({
    identity: z
      .strictObject({
        name: z.string().min(1).optional().describe("the ISAC's name as members and the hub know it; default: node.title"),
        id: z.string().regex(IDENTITY_ID, 'expected a STIX identity id ("identity--<UUID>")').optional(),
        description: z.string().optional(),
      })
      .default({}),
    federation: z
      .string()
      .min(1)
      .optional()
      .describe('fixes re-issued ids: the same on every node of the ISAC; default: the identity name'),
    forwarder: z
      .strictObject({
        batch_size: z.number().int().min(1).max(10_000).default(100),
        status_poll: z
          .string()
          .regex(/^\d+(ms|s|m)$/, 'expected a duration such as "250ms" or "2s"')
          .default('250ms')
          .describe("how often the hub's pending status resource is read"),
        status_timeout: z
          .string()
          .regex(/^\d+(ms|s|m|h)$/, 'expected a duration such as "5m"')
          .default('5m')
          .describe('how long a pending status is followed before the batch is retried'),
      })
      .default({ batch_size: 100, status_poll: '250ms', status_timeout: '5m' }),
  })
  .default({ identity: {}, forwarder: { batch_size: 100, status_poll: '250ms', status_timeout: '5m' } });

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

/** A federation name: one NATS subject token (no dots, wildcards or spaces) and part of a stream name. */
const FEDERATION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A node id as gossip envelopes carry it. */
const FEDERATION_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const NATS_URL = /^(nats|tls):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Federation over NATS (optional: without it the node runs alone). Always mutual TLS. */
const federationSchema = z
  .strictObject({
    servers: z
      .array(
        z
          .string()
          .regex(NATS_URL, 'expected a NATS server URL "nats://host:port" (or tls://host:port)')
          .refine((v) => !NATS_URL.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535'),
      )
      .min(1, 'list at least one NATS server'),
    tls: z.strictObject({
      cert: z.string().min(1).describe("this node's certificate (PEM), e.g. from `relay certs issue node NAME`"),
      key: z.string().min(1).describe('its private key (PEM)'),
      ca: z.string().min(1).describe("CA (PEM) the NATS servers' certificates must chain to"),
    }),
    connect_timeout_seconds: z.number().positive().max(300).default(10),
    name: z
      .string({ error: 'name the federation (e.g. name: isac-eu): the same on every node; it prefixes the NATS subjects and the stream' })
      .regex(
        FEDERATION_NAME,
        'expected letters, digits, "-" or "_" (at most 64): it becomes a NATS subject token and part of the stream name',
      ),
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe("this node's Ed25519 gossip key (owner-only), from `relay federation init`; default <data_dir>/federation/federation.key"),
    peers: z
      .array(
        z
          .strictObject({
            id: z.string().regex(FEDERATION_NODE_ID, 'expected a node id (node.id of that peer)'),
            public_key: z.string().min(1).optional().describe('the SPKI PEM or JWK `relay federation init` printed on that node'),
            public_key_file: z.string().min(1).optional().describe('a file holding it (federation.pub.pem or federation.jwk)'),
          })
          .refine((p) => (p.public_key === undefined) !== (p.public_key_file === undefined), {
            message: "give the peer's key as public_key (inline) or public_key_file, exactly one of them",
          }),
      )
      .default([])
      .describe('the peers whose gossip this node trusts; a node may be listed with several keys while it rotates'),
    revoked_keys: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a key id (the 43-character thumbprint `relay federation init` printed)'))
      .default([])
      .describe('key ids never trusted again, even when a peer lists them'),
    egress: z
      .strictObject({
        allow_red: z.boolean().default(false).describe('TLP:RED versions cross to peers'),
        allow_amber_strict: z.boolean().default(false).describe('TLP:AMBER+STRICT versions cross to peers'),
      })
      .default({ allow_red: false, allow_amber_strict: false }),
    stream: z
      .strictObject({
        replicas: z.number().int().min(1).max(5).default(1).describe('JetStream replicas of the gossip stream (3 on a 3-server cluster)'),
        max_age_hours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(7 * 24)
          .describe('how long envelopes stay in the stream'),
        duplicate_window_seconds: z.number().int().min(1).max(3600).default(120).describe('JetStream publish de-duplication window'),
      })
      .default({ replicas: 1, max_age_hours: 7 * 24, duplicate_window_seconds: 120 }),
    leases: z
      .strictObject({
        ttl: z
          .string()
          .regex(/^(\d+)(ms|s|m)$/, 'expected a duration such as "15s" (units: ms, s, m)')
          .refine((v) => parseDuration(v) >= 1000 && parseDuration(v) <= 600_000, 'must be between 1s and 10m')
          .default('15s')
          .describe('how long an upstream or forwarding lease lives unless its holder renews it (every ttl/3)'),
      })
      .default({ ttl: '15s' }),
    heartbeat: z
      .strictObject({
        interval: z
          .string()
          .regex(/^(\d+)(ms|s|m)$/, 'expected a duration such as "5s" (units: ms, s, m)')
          .refine((v) => parseDuration(v) >= 200 && parseDuration(v) <= 600_000, 'must be between 200ms and 10m')
          .default('5s')
          .describe('how often this node tells its peers its status (`relay peers`)'),
      })
      .default({ interval: '5s' }),
    reconcile: z
      .strictObject({
        interval_seconds: z
          .number()
          .positive()
          .max(24 * 3600)
          .default(300)
          .describe(
            'how often this node reconciles its mirror collections with every peer (anti-entropy); also at start and after a partition',
          ),
      })
      .default({ interval_seconds: 300 }),
  })
  .superRefine((f, ctx) => {
    if (f.stream.duplicate_window_seconds > f.stream.max_age_hours * 3600) {
      ctx.addIssue({ code: 'custom', path: ['stream', 'duplicate_window_seconds'], message: 'must not exceed stream.max_age_hours' });
    }
  })
  .optional();

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
    if (config.federation) {
      if (!FEDERATION_NODE_ID.test(config.node.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['node', 'id'],
          message: 'a federated node id is at most 64 letters, digits, ".", "_" or "-" (gossip envelopes name their origin by it)',
        });
      }
      config.federation.peers.forEach((p, i) => {
        if (p.id === config.node.id) {
          ctx.addIssue({ code: 'custom', path: ['federation', 'peers', i, 'id'], message: 'this is the node itself: list only its peers' });
        }
      });
    }
    checkUpstreams(config.upstreams, config.api_roots, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
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
    const memberIds = new Set<string>();
    config.members.forEach((m, i) => {
      if (memberIds.has(m.id)) {
        ctx.addIssue({ code: 'custom', path: ['members', i, 'id'], message: `duplicate member id "${m.id}"` });
      }
      memberIds.add(m.id);
      m.grants.forEach((g, j) => {
        const names = roots.get(g.api_root);
        if (!names) {
          ctx.addIssue({
            code: 'custom',
            path: ['members', i, 'grants', j, 'api_root'],
            message: `unknown API root "${g.api_root}"; expected one of: ${[...roots.keys()].join(', ')}`,
          });
        } else if (!names.has(g.collection)) {
          ctx.addIssue({
            code: 'custom',
            path: ['members', i, 'grants', j, 'collection'],
            message: `unknown collection "${g.collection}" in API root "${g.api_root}"`,
          });
        }
      });
    });
    const adminIds = new Set<string>();
    config.admins.forEach((a, i) => {
      if (adminIds.has(a.id)) ctx.addIssue({ code: 'custom', path: ['admins', i, 'id'], message: `duplicate admin id "${a.id}"` });
      if (memberIds.has(a.id)) {
        ctx.addIssue({ code: 'custom', path: ['admins', i, 'id'], message: `"${a.id}" is a member id; an admin needs an id of its own` });
      }
      adminIds.add(a.id);
    });
    checkDistinctCredentials(config.members, config.admins, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
  });

/**
 * A token subject or client certificate names one principal: shared between a member and an
 * admin, it would make one of them the other.
 */
function checkDistinctCredentials(
  members: ReadonlyArray<{ credentials: Record<string, string | undefined> }>,
  admins: ReadonlyArray<{ credentials: Record<string, string | undefined> }>,
  issue: (path: Array<string | number>, message: string) => void,
): void {
  const keys = ['jwt_subject', 'cert_subject', 'cert_fingerprint'] as const;
  const normalize = (key: string, value: string) => (key === 'cert_fingerprint' ? value.toLowerCase().replace(/[^0-9a-f]/g, '') : value);
  const held = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  for (const m of members)
    for (const k of keys) {
      const v = m.credentials[k];
      if (v !== undefined) held.get(k)?.add(normalize(k, v));
    }
  admins.forEach((a, i) => {
    for (const k of keys) {
      const v = a.credentials[k];
      if (v !== undefined && held.get(k)?.has(normalize(k, v))) {
        issue(['admins', i, 'credentials', k], `a member has this ${k}; an admin needs credentials of its own`);
      }
    }
  });
}

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
