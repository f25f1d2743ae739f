/**
 * Every `relay` command: its words, summary, positional arguments, option table and what it runs.
 * Adding a command is one entry here (and its module). Each command's module is loaded only when
 * it runs: `relay import` or `relay check` need not load the TAXII server, the PKI and the
 * upstream client that `relay start` does (about a second).
 */
import { loadConfig } from '../config/index.ts';
import { CERTIFICATE_KINDS } from '../pki/kinds.ts';
import {
  choice,
  duration,
  envName,
  flag,
  instant,
  list,
  oneOf,
  positiveInteger,
  text,
  type ArgumentSpec,
  type OptionTable,
  type Parsed,
  type PositionalSpec,
} from './args.ts';

export interface Command<
  O extends OptionTable = OptionTable,
  P extends readonly PositionalSpec[] = readonly PositionalSpec[],
> extends ArgumentSpec {
  readonly options: O;
  readonly positionals: P;
  run(input: Parsed<O, P>): Promise<number> | number;
}

/** Declares a command; its option values and positionals are typed from the tables. */
function command<const O extends OptionTable, const P extends readonly PositionalSpec[] = readonly []>(
  spec: Omit<Command<O, P>, 'positionals'> & { readonly positionals?: P },
): Command<O, P> {
  return { ...spec, positionals: spec.positionals ?? ([] as unknown as P) };
}

// Options several commands share.
const config = text('PATH', "the node's configuration file (YAML)").alias('c').required();
const json = flag('print JSON instead of text');

export const COMMANDS: readonly Command[] = [
  command({
    name: 'start',
    summary: 'run the node until SIGINT or SIGTERM',
    options: { config },
    run: async ({ options }) => (await import('./start.ts')).runStart(loadConfig(options.config)),
  }),
  command({
    name: 'import',
    summary: 'load STIX bundles, TAXII envelopes or JSON arrays into a collection through the ingest path',
    positionals: [{ name: 'FILE', variadic: true }],
    options: {
      config,
      collection: text('ID', 'the collection: its id or alias').required(),
      'batch-size': positiveInteger('N', 'object versions per transaction (default 10000)'),
      json,
    },
    details: 'Prints stored / duplicate / rejected counts and each rejection with its reason; progress on stderr for large files.',
    run: async ({ options, args }) =>
      (await import('./import.ts')).runImport(loadConfig(options.config), {
        collection: options.collection,
        files: args.FILE,
        batchSize: options['batch-size'],
        json: options.json,
      }),
  }),
  command({
    name: 'members list',
    summary: 'members, their credential kinds, policy (TLP ceiling, sectors, floors, types, consent) and grants',
    options: { config, json },
    run: async ({ options }) => (await import('./members.ts')).runMembersList(loadConfig(options.config), options.json),
  }),
  command({
    name: 'members hash-secret',
    summary: 'read a secret on stdin and print its scrypt hash for credentials.basic_secret_hash',
    options: {},
    run: async () => (await import('./members.ts')).runHashSecret(),
  }),
  command({
    name: 'token issue',
    summary: 'mint a bearer token (JWT, ES256) for a member (or admin) with credentials.jwt_subject; prints the token',
    positionals: [{ name: 'MEMBER' }],
    options: { config, ttl: duration('DURATION', 'lifetime such as 30m, 12h or 7d (default auth.token_ttl)', ['s', 'm', 'h', 'd']) },
    run: async ({ options, args }) => (await import('./token.ts')).runTokenIssue(loadConfig(options.config), args.MEMBER, options.ttl),
  }),
  command({
    name: 'token rotate',
    summary: 'new signing key; tokens signed with earlier keys stay valid until they expire',
    options: { config },
    run: async ({ options }) => (await import('./token.ts')).runTokenRotate(loadConfig(options.config)),
  }),
  command({
    name: 'token revoke',
    summary: 'refuse one token (given whole, or by its jti) from now on',
    positionals: [{ name: 'TOKEN-OR-JTI' }],
    options: { config },
    run: async ({ options, args }) => (await import('./token.ts')).runTokenRevoke(loadConfig(options.config), args['TOKEN-OR-JTI']),
  }),
  command({
    name: 'token jwks',
    summary: 'print the public keys (JWKS) verifiers of member tokens need',
    options: { config },
    run: async ({ options }) => (await import('./token.ts')).runTokenJwks(loadConfig(options.config)),
  }),
  command({
    name: 'stats',
    summary: 'object versions per collection and their date_added range',
    options: { config, json },
    run: async ({ options }) => (await import('./inspect.ts')).runStats(loadConfig(options.config), options.json),
  }),
  command({
    name: 'check',
    summary: 'verify that indexes, objects, counters and the clock agree; exit 0 if so, 1 if not',
    options: { config, json },
    run: async ({ options }) => (await import('./inspect.ts')).runCheck(loadConfig(options.config), options.json),
  }),
  command({
    name: 'report',
    summary:
      'the figures audits count for a period: received per upstream, delivered per member/sector/TLP, share-back producers, active participants',
    options: {
      config,
      since: instant('DATE', 'start of the period (UTC date or RFC 3339 timestamp)').required(),
      until: instant('DATE', 'end of the period, exclusive (default: now)'),
      format: oneOf('output format', ['table', 'json', 'csv']).orElse('table'),
    },
    details: 'Reads the audit trail (kept for audit.retention_days). Delivered counts are objects served in pages to members.',
    run: async ({ options }) =>
      (await import('./report.ts')).runReport(loadConfig(options.config), {
        since: options.since,
        until: options.until,
        format: options.format,
      }),
  }),
  command({
    name: 'backup',
    summary: "copy the node's data directory to DIR, consistent while the node runs (the LMDB store through LMDB)",
    positionals: [{ name: 'DIR' }],
    options: { config, compact: flag('leave free pages out of the store copy (slower, smaller)'), json },
    details: 'DIR must be new or empty. To restore: stop the node, copy DIR (except relay-backup.json) into data_dir, run relay check.',
    run: async ({ options, args }) =>
      (await import('./backup.ts')).runBackup(loadConfig(options.config), args.DIR, { compact: options.compact, json: options.json }),
  }),
  command({
    name: 'ready',
    summary: "ask the node this config describes for /readyz; exit 0 only if it is ready (the container's health check)",
    options: {
      config,
      url: text('URL', 'the /readyz URL (default: https on loopback at the port of listen)'),
      timeout: duration('DURATION', 'how long to wait for the answer').orElse(5_000, '5s'),
    },
    run: async ({ options }) =>
      (await import('./ready.ts')).runReady(loadConfig(options.config), { url: options.url, timeoutMs: options.timeout }),
  }),
  command({
    name: 'reindex',
    summary: 'derive every object again (facts, linked attributes, filing); entries that may now reach more members are announced again',
    options: { config, collection: text('C', 'only this collection (id or alias)'), json },
    details: 'Rarely needed: a node derives everything again by itself when the policy settings derivation reads change.',
    run: async ({ options }) =>
      (await import('./reindex.ts')).runReindex(loadConfig(options.config), { collection: options.collection, json: options.json }),
  }),
  command({
    name: 'federation init',
    summary: "create this node's federation (gossip) key and print the public key and key id to give its peers",
    options: { config, json },
    details:
      'The key goes to federation.key_file (default <data_dir>/federation/federation.key), owner-only; an existing key is kept. Peers list the public key under federation.peers.',
    run: async ({ options }) => (await import('./federation.ts')).runFederationInit(loadConfig(options.config), options.json),
  }),
  command({
    name: 'peers',
    summary:
      "the federation's other nodes: last heartbeat, up / stale / down, versions behind or ahead per collection, last reconciliation",
    options: { config, json },
    details:
      "Read from the store, where the running node records each peer's latest heartbeat: up while heartbeats arrive (3 intervals), stale up to 10 intervals, then down. The version difference is the peer's count (as of its heartbeat) minus this node's.",
    run: async ({ options }) => (await import('./peers.ts')).runPeers(loadConfig(options.config), options.json),
  }),
  command({
    name: 'certs init',
    summary: "create the node's certificate authority in pki.dir",
    options: { config },
    run: async ({ options }) => (await import('./certs.ts')).runCertsInit(loadConfig(options.config)),
  }),
  command({
    name: 'certs issue',
    summary: 'issue a server, member, node or nats certificate signed by the node CA (PKCS#12 too for a member with --passphrase-env)',
    positionals: [{ name: 'KIND', choices: CERTIFICATE_KINDS }, { name: 'NAME' }],
    options: {
      config,
      days: positiveInteger('N', 'validity in days (default 397 for server and nats, 365 otherwise)'),
      san: list('a,b', 'subject alternative names (DNS names or IP addresses)'),
      'passphrase-env': envName('VAR', 'environment variable holding the PKCS#12 passphrase (member certificates)'),
      json,
    },
    details:
      'A member certificate authenticates the member whose credentials.cert_subject is NAME (or whose cert_fingerprint is its fingerprint).',
    run: async ({ options, args }) =>
      (await import('./certs.ts')).runCertsIssue(loadConfig(options.config), args.KIND, args.NAME, {
        days: options.days,
        san: options.san,
        passphraseEnv: options['passphrase-env'],
        json: options.json,
      }),
  }),
  command({
    name: 'certs revoke',
    summary: 'revoke a certificate the node CA issued; a running node picks it up within a second',
    positionals: [{ name: 'SERIAL' }],
    options: { config },
    run: async ({ options, args }) => (await import('./certs.ts')).runCertsRevoke(loadConfig(options.config), args.SERIAL),
  }),
  command({
    name: 'certs list',
    summary: 'certificates the node CA issued and their state',
    options: { config, json },
    run: async ({ options }) => (await import('./certs.ts')).runCertsList(loadConfig(options.config), options.json),
  }),
  command({
    name: 'probe',
    summary: 'check a TAXII 2.1 server before subscribing to it: a pass/fail line per named check; exit 0 only if none fails',
    positionals: [{ name: 'URL' }],
    options: {
      'api-root': text('R', 'the API root to check (path, URL or title) when URL is a discovery URL'),
      collection: text('C', 'a collection to check (id, alias or title)'),
      user: text('U', 'HTTP Basic user name (with --password-env)'),
      'password-env': envName('VAR', 'environment variable holding the Basic password'),
      'token-env': envName('VAR', 'environment variable holding a bearer token'),
      ca: text('FILE', 'PEM CA bundle to trust for this server'),
      cert: text('FILE', 'client certificate (PEM, with --key)'),
      key: text('FILE', 'its private key (PEM)'),
      pfx: text('FILE', 'client certificate and key as PKCS#12'),
      'passphrase-env': envName('VAR', 'environment variable holding the PKCS#12 passphrase'),
      timeout: duration('DURATION', 'connect and response timeout').orElse(30_000, '30s'),
      'insecure-http': flag('allow a plain http:// URL (unencrypted: traffic and credentials readable on the wire)'),
      json,
    },
    run: async ({ options, args }) =>
      (await import('./upstream.ts')).runProbe({
        url: args.URL,
        apiRoot: options['api-root'],
        collection: options.collection,
        user: options.user,
        passwordEnv: options['password-env'],
        tokenEnv: options['token-env'],
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        pfx: options.pfx,
        passphraseEnv: options['passphrase-env'],
        timeoutMs: options.timeout,
        insecureHttp: options['insecure-http'],
        json: options.json,
      }),
  }),
  command({
    name: 'upstreams',
    summary: 'each upstream subscription: state, last success, lag, cursor, objects ingested, last error',
    options: { config, json },
    run: async ({ options }) => (await import('./upstream.ts')).runUpstreams(loadConfig(options.config), options.json),
  }),
  command({
    name: 'quarantine list',
    summary: 'invalid objects and unreadable upstream pages that were set aside, newest first, with the reason',
    options: { config, limit: positiveInteger('N', 'show at most N records').orElse(50), json },
    run: async ({ options }) => (await import('./upstream.ts')).runQuarantineList(loadConfig(options.config), options.limit, options.json),
  }),
  command({
    name: 'quarantine show',
    summary: 'one quarantine record with its content',
    positionals: [{ name: 'ID' }],
    options: { config },
    run: async ({ options, args }) => (await import('./upstream.ts')).runQuarantineShow(loadConfig(options.config), args.ID),
  }),
  command({
    name: 'outbox',
    summary:
      "share-back's forwarding upstream: counts per state, and each entry (newest first) with its attempts, last error and the upstream's status id",
    options: {
      config,
      state: choice(['pending', 'sent', 'failed'] as const, 'only entries in this state'),
      member: text('ID', "only this member's shares"),
      limit: positiveInteger('N', 'show at most N entries').orElse(100),
      json: flag('one JSON object per line: {"counts": {...}} first, then one per entry'),
    },
    run: async ({ options }) =>
      (await import('./outbox.ts')).runOutbox(loadConfig(options.config), {
        state: options.state,
        member: options.member,
        limit: options.limit,
        json: options.json,
      }),
  }),
  command({
    name: 'policy explain',
    summary: 'rule by rule why a member does or does not receive an object (its latest version) from each collection, and what is redacted',
    options: {
      config,
      member: text('M', 'the member id').required(),
      object: text('ID', 'the STIX id of the object').required(),
      collection: text('C', 'only this collection (id or alias); default: every collection holding the object'),
      json,
    },
    run: async ({ options }) =>
      (await import('./policy.ts')).runPolicyExplain(loadConfig(options.config), {
        member: options.member,
        object: options.object,
        collection: options.collection,
        json: options.json,
      }),
  }),
  command({
    name: 'review list',
    summary: 'share-back review items (personal data waiting for a reviewer), oldest first',
    options: {
      config,
      state: text('S', 'only these states, comma-separated: open, decided, approved, rejected, superseded, failed'),
      member: text('M', 'only this member'),
      json,
    },
    details: '--json prints what the admin API answers for GET /admin/reviews.',
    run: async ({ options }) =>
      (await import('./review.ts')).runReviewList(loadConfig(options.config), {
        state: options.state,
        member: options.member,
        json: options.json,
      }),
  }),
  command({
    name: 'review show',
    summary: 'one review item: findings with the flagged text, what was withheld or why it is held, the submitted object',
    positionals: [{ name: 'ID' }],
    options: { config, json },
    run: async ({ options, args }) => (await import('./review.ts')).runReviewShow(loadConfig(options.config), args.ID, options.json),
  }),
  command({
    name: 'review approve',
    summary: 'approve a review item (optionally with an edited object); the node releases it',
    positionals: [{ name: 'ID' }],
    options: {
      config,
      note: text('TEXT', "the reviewer's note"),
      edited: text('FILE', 'the whole object with its text edited (JSON); only text may change'),
      by: text('NAME', 'who decides (default cli:<OS user>)'),
      json,
    },
    details: 'Exit 2 when the id is unknown or the item is already decided.',
    run: async ({ options, args }) =>
      (await import('./review.ts')).runReviewDecide(loadConfig(options.config), args.ID, 'approve', {
        note: options.note,
        edited: options.edited,
        by: options.by,
        json: options.json,
      }),
  }),
  command({
    name: 'review reject',
    summary: 'reject a review item: what it withholds never leaves the node',
    positionals: [{ name: 'ID' }],
    options: { config, note: text('TEXT', "the reviewer's note"), by: text('NAME', 'who decides (default cli:<OS user>)'), json },
    details: 'Exit 2 when the id is unknown or the item is already decided.',
    run: async ({ options, args }) =>
      (await import('./review.ts')).runReviewDecide(loadConfig(options.config), args.ID, 'reject', {
        note: options.note,
        by: options.by,
        json: options.json,
      }),
  }),
  command({
    name: 'pii scan',
    summary: 'find personal data in STIX files (bundles, envelopes or arrays) with the share-back scanner; no node or config needed',
    positionals: [{ name: 'FILE', variadic: true }],
    options: { json: flag('one JSON line per object: {"id", "findings": [{"path", "kind", "start", "end"}]}') },
    details: 'Exit 0 when every file was scanned (with or without findings), 1 when a file could not be read.',
    run: async ({ options, args }) => (await import('./pii.ts')).runPiiScan(args.FILE, { json: options.json }),
  }),
];
