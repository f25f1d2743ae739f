/**
 * The `upstreams` section: TAXII 2.1 servers this node polls, and which of their collections
 * feed which local collection. Secrets are never written in the file itself: the file names an
 * environment variable or a file that holds them.
 */
import { z } from 'zod';

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** "250ms", "30s", "5m", "12h", "7d" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const duration = (example: string) => z.string().regex(DURATION, `expected a duration such as "${example}" (units: ms, s, m, h, d)`);

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable');
const filePath = z.string().min(1);

const authSchema = z
  .strictObject({
    user: z.string().min(1).optional(),
    password_env: envName.optional(),
    password_file: filePath.optional(),
    token_env: envName.optional(),
    token_file: filePath.optional(),
  })
  .superRefine((a, ctx) => {
    const basic = a.password_env !== undefined || a.password_file !== undefined;
    const bearer = a.token_env !== undefined || a.token_file !== undefined;
    if (a.password_env !== undefined && a.password_file !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set password_env or password_file, not both' });
    }
    if (a.token_env !== undefined && a.token_file !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set token_env or token_file, not both' });
    }
    if (basic && bearer)
      ctx.addIssue({ code: 'custom', message: 'use HTTP Basic (user + password_*) or a bearer token (token_*), not both' });
    if (basic && a.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'HTTP Basic needs a user' });
    if (a.user !== undefined && !basic) {
      ctx.addIssue({
        code: 'custom',
        message: 'HTTP Basic needs password_env or password_file (the password itself never goes in this file)',
      });
    }
  });

const tlsSchema = z
  .strictObject({
    ca_file: filePath.optional().describe('PEM bundle of CAs to trust for this upstream'),
    cert_file: filePath.optional(),
    key_file: filePath.optional(),
    pfx_file: filePath.optional(),
    passphrase_env: envName.optional(),
    passphrase_file: filePath.optional(),
    server_name: z.string().min(1).optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set both cert_file and key_file (PEM client certificate), or neither' });
    }
    if (t.pfx_file !== undefined && t.cert_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'use a PEM client certificate (cert_file + key_file) or a PKCS#12 file (pfx_file), not both',
      });
    }
    if (t.passphrase_env !== undefined && t.passphrase_file !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set passphrase_env or passphrase_file, not both' });
    }
  });

/** Settings a collection inherits from its upstream's `defaults` unless it sets them itself. */
const pollSettings = {
  poll_interval: duration('5m').optional(),
  page_size: z.number().int().positive().max(10_000).optional(),
  start: z
    .string()
    .refine((s) => s === 'beginning' || RFC3339.test(s) || DURATION.test(s), {
      message: 'expected "beginning", an RFC 3339 timestamp ("2025-01-01T00:00:00Z") or a look-back such as "48h"',
    })
    .optional(),
  match_version_all: z.boolean().optional(),
  enabled: z.boolean().optional(),
};

const subscriptionSchema = z.strictObject({
  remote: z.string().min(1).describe('remote collection id, alias or title'),
  local: z.string().min(1).describe('local collection id or alias'),
  ...pollSettings,
});

const PLAIN_HTTP = /^http:\/\//i;

export const upstreamSchema = z
  .strictObject({
    name: z.string().regex(SLUG, 'expected a short name without spaces (used in logs and provenance)'),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/i, 'expected an https:// URL (discovery or API root)')
      .refine(
        (u) => !/^https?:\/\/[^/]*@/i.test(u),
        'credentials do not belong in the URL; use auth.user with auth.password_env or auth.password_file',
      ),
    api_root: z.string().min(1).optional().describe('which API root when url is the discovery URL'),
    /** allows an http:// url: traffic and credentials travel unencrypted (lab servers only) */
    insecure_http: z.boolean().default(false),
    enabled: z.boolean().default(true),
    auth: authSchema.optional(),
    tls: tlsSchema.default({}),
    timeouts: z
      .strictObject({
        connect: duration('10s').default('10s'),
        response: duration('60s').default('60s').describe('until headers arrive, and between body chunks'),
      })
      .default({ connect: '10s', response: '60s' }),
    backoff: z
      .strictObject({
        initial: duration('1s').default('1s'),
        max: duration('5m').default('5m'),
        auth_retry: duration('30m').default('30m').describe('retry after 401/403 or a TLS failure'),
        attempts_per_cycle: z.number().int().positive().max(100).default(8),
      })
      .default({ initial: '1s', max: '5m', auth_retry: '30m', attempts_per_cycle: 8 }),
    defaults: z.strictObject(pollSettings).default({}),
    // empty only for an upstream that inboxes forward to and that is not polled (checked with the inboxes)
    collections: z.array(subscriptionSchema).default([]),
  })
  .superRefine((u, ctx) => {
    if (!PLAIN_HTTP.test(u.url)) return;
    if (!u.insecure_http) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          'plain http:// is refused (traffic and credentials would be unencrypted): use https://, or set insecure_http: true on this upstream to accept that',
      });
    }
    if (Object.values(u.tls).some((v) => v !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls settings apply to https:// only; this upstream uses plain http://' });
    }
  });

/** Whether an upstream is reached over plain HTTP (allowed only with insecure_http: true). */
export function isPlainHttp(upstream: Pick<UpstreamConfig, 'url'>): boolean {
  return PLAIN_HTTP.test(upstream.url);
}

export const upstreamsSchema = z.array(upstreamSchema).default([]);

export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type SubscriptionConfig = UpstreamConfig['collections'][number];

/** Cross-checks against the rest of the config: names unique, local collections exist. */
export function checkUpstreams(
  upstreams: readonly UpstreamConfig[],
  apiRoots: ReadonlyArray<{ path: string; collections: ReadonlyArray<{ id: string; alias?: string | undefined }> }>,
  addIssue: (path: (string | number)[], message: string) => void,
): void {
  const names = new Set<string>();
  upstreams.forEach((u, i) => {
    if (names.has(u.name)) addIssue(['upstreams', i, 'name'], `duplicate upstream name "${u.name}"`);
    names.add(u.name);
    const pairs = new Set<string>();
    u.collections.forEach((c, j) => {
      const matches = new Set(
        apiRoots.flatMap((r) => r.collections.filter((lc) => lc.id === c.local || lc.alias === c.local).map((lc) => lc.id)),
      );
      if (matches.size === 0) {
        const known = apiRoots.flatMap((r) => r.collections.map((lc) => lc.alias ?? lc.id));
        addIssue(
          ['upstreams', i, 'collections', j, 'local'],
          `unknown local collection "${c.local}"; expected one of: ${known.join(', ') || '(none)'}`,
        );
      } else if (matches.size > 1) {
        addIssue(
          ['upstreams', i, 'collections', j, 'local'],
          `local collection "${c.local}" is ambiguous (an alias in several API roots); use its id`,
        );
      }
      const pair = `${c.remote}\u0000${c.local}`;
      if (pairs.has(pair)) addIssue(['upstreams', i, 'collections', j], `remote "${c.remote}" is mapped to "${c.local}" twice`);
      pairs.add(pair);
    });
    const b = u.backoff;
    if (parseDuration(b.initial) > parseDuration(b.max))
      addIssue(['upstreams', i, 'backoff'], 'backoff.initial must not exceed backoff.max');
  });
}
