#!/usr/bin/env node
/**
 * The `relay` command line. Each subcommand is a small function over the same parts node.ts
 * uses; output for people goes to stdout, progress and errors to stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';
// Each command's module is loaded when it runs: `relay import` or `relay check` need not load
// the TAXII server, the PKI and the upstream client that `relay start` does (about a second).

const USAGE = `usage: relay <command> [options]

commands:
  start   --config PATH                        run the node
  import  --config PATH --collection ID FILE…  load STIX bundles, envelopes or JSON arrays
          [--batch-size N] [--json]
  members list --config PATH                   members, credentials kinds and grants
  members hash-secret                          read a secret on stdin, print its scrypt hash
  token issue MEMBER --config PATH [--ttl 12h] mint a bearer token (JWT) for a member
  token rotate --config PATH                   new signing key; older tokens stay valid until expiry
  token revoke TOKEN-OR-JTI --config PATH      refuse one token from now on
  token jwks --config PATH                     the public keys (JWKS) verifiers need
  stats   --config PATH [--json]               collections, versions, date_added range
  check   --config PATH [--json]               verify indexes, objects and counts agree
  certs init --config PATH                     create the node's certificate authority
  certs issue server|member|node NAME --config PATH [--days N] [--san a,b]
          [--passphrase-env VAR]               issue a certificate (PKCS#12 for members with a passphrase)
  certs revoke SERIAL --config PATH            revoke an issued certificate
  certs list --config PATH [--json]            issued certificates and their state
  probe URL [--api-root R] [--collection C]    check a TAXII 2.1 server before subscribing to it:
          [--user U --password-env VAR | --token-env VAR] [--ca FILE]
          [--cert FILE --key FILE | --pfx FILE --passphrase-env VAR] [--timeout 30s] [--json]
  upstreams --config PATH [--json]             each upstream subscription's state, cursor, lag, errors
  quarantine list --config PATH [--limit N] [--json]  invalid objects and unreadable upstream pages
  quarantine show ID --config PATH             one quarantine record with its content
  policy explain --config PATH --member M --object ID [--collection C] [--json]
                                               rule by rule why member M does or does not get
                                               object ID (latest version), and what is redacted

environment: RELAY_LISTEN (host:port) and RELAY_DATA_DIR override the config file.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      collection: { type: 'string' },
      'batch-size': { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean', default: false },
      days: { type: 'string' },
      san: { type: 'string' },
      'passphrase-env': { type: 'string' },
      'api-root': { type: 'string' },
      user: { type: 'string' },
      'password-env': { type: 'string' },
      'token-env': { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      pfx: { type: 'string' },
      timeout: { type: 'string' },
      limit: { type: 'string' },
      member: { type: 'string' },
      object: { type: 'string' },
    },
  });
  const config = (): RelayConfig => {
    if (!values.config) throw new CliError(`relay ${command}: --config PATH is required`);
    return loadConfig(values.config);
  };
  switch (command) {
    case 'start':
      return (await import('./start.ts')).runStart(config());
    case 'import':
      return (await import('./import.ts')).runImport(config(), {
        collection: values.collection,
        files: positionals,
        batchSize: values['batch-size'] === undefined ? undefined : Number(values['batch-size']),
        json: values.json ?? false,
      });
    case 'members':
      if (positionals[0] === 'list') return (await import('./members.ts')).runMembersList(config());
      if (positionals[0] === 'hash-secret') return (await import('./members.ts')).runHashSecret();
      throw new CliError('usage: relay members list --config PATH | relay members hash-secret');
    case 'token':
      return (await import('./token.ts')).runToken(config(), positionals, values.ttl);
    case 'stats':
      return (await import('./inspect.ts')).runStats(config(), values.json ?? false);
    case 'check':
      return (await import('./inspect.ts')).runCheck(config(), values.json ?? false);
    case 'certs':
      return (await import('./certs.ts')).runCerts(config(), positionals, {
        days: values.days,
        san: values.san,
        passphraseEnv: values['passphrase-env'],
        json: values.json ?? false,
      });
    case 'probe':
      return (await import('./upstream.ts')).runProbe({
        url: positionals[0],
        apiRoot: values['api-root'],
        collection: values.collection,
        user: values.user,
        passwordEnv: values['password-env'],
        tokenEnv: values['token-env'],
        ca: values.ca,
        cert: values.cert,
        key: values.key,
        pfx: values.pfx,
        passphraseEnv: values['passphrase-env'],
        timeout: values.timeout,
        json: values.json ?? false,
      });
    case 'upstreams':
      return (await import('./upstream.ts')).runUpstreams(config(), values.json ?? false);
    case 'quarantine': {
      const q = await import('./upstream.ts');
      if (positionals[0] === 'list')
        return q.runQuarantineList(config(), values.limit === undefined ? 50 : Number(values.limit), values.json ?? false);
      if (positionals[0] === 'show' && positionals[1]) return q.runQuarantineShow(config(), positionals[1]);
      throw new CliError('usage: relay quarantine list --config PATH [--limit N] [--json] | relay quarantine show ID --config PATH');
    }
    case 'policy':
      if (positionals[0] === 'explain') {
        return (await import('./policy.ts')).runPolicyExplain(config(), {
          member: values.member,
          object: values.object,
          collection: values.collection,
          json: values.json ?? false,
        });
      }
      throw new CliError('usage: relay policy explain --config PATH --member M --object ID [--collection C] [--json]');
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliError) {
      console.error(error.message);
    } else if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${error.message}\n\n${USAGE}`);
    } else {
      console.error(`relay: ${(error as Error).message ?? String(error)}`);
    }
    process.exitCode = 2;
  },
);
