/**
 * Turns an upstream's auth and TLS settings into TAXII client options: reads the environment
 * variables and files the config names. Secret values are returned to the client only; error
 * messages name the variable or file, never its content.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseDuration, type UpstreamConfig } from '../config/upstreams.ts';
import type { ClientOptions, ClientTls } from '../taxii/client/index.ts';

export class UpstreamConfigError extends Error {
  override readonly name = 'UpstreamConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export interface CredentialSettings {
  readonly auth?: UpstreamConfig['auth'];
  readonly tls?: Partial<UpstreamConfig['tls']>;
  /** the upstream's `insecure_http`: the client may talk plain HTTP */
  readonly insecureHttp?: boolean;
}

export function clientOptionsFor(
  name: string,
  settings: CredentialSettings,
  timeouts: { connectMs: number; responseMs: number } = { connectMs: 10_000, responseMs: 60_000 },
  env: Env = process.env,
): ClientOptions {
  const where = `upstream "${name}"`;
  const fromEnv = (variable: string, what: string) => {
    const value = env[variable];
    if (value === undefined || value === '')
      throw new UpstreamConfigError(`${where}: environment variable ${variable} (${what}) is not set`);
    return value;
  };
  const file = (path: string, what: string): Buffer => {
    const abs = isAbsolute(path) ? path : resolve(process.cwd(), path);
    try {
      return readFileSync(abs);
    } catch (cause) {
      throw new UpstreamConfigError(
        `${where}: cannot read ${what} ${abs}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
        { cause },
      );
    }
  };
  const secretFile = (path: string, what: string) =>
    file(path, what)
      .toString('utf8')
      .replace(/\r?\n$/, '');

  const a = settings.auth;
  let auth: ClientOptions['auth'];
  if (a?.password_env !== undefined || a?.password_file !== undefined) {
    const password =
      a.password_env !== undefined ? fromEnv(a.password_env, 'password') : secretFile(a.password_file as string, 'password_file');
    auth = { kind: 'basic', user: a.user ?? '', password };
  } else if (a?.token_env !== undefined || a?.token_file !== undefined) {
    const token = a.token_env !== undefined ? fromEnv(a.token_env, 'bearer token') : secretFile(a.token_file as string, 'token_file');
    auth = { kind: 'bearer', token };
  }

  const t = settings.tls ?? {};
  const tls: { -readonly [K in keyof ClientTls]: ClientTls[K] } = {};
  if (t.ca_file) tls.ca = file(t.ca_file, 'tls.ca_file');
  if (t.cert_file) tls.cert = file(t.cert_file, 'tls.cert_file');
  if (t.key_file) tls.key = file(t.key_file, 'tls.key_file');
  if (t.pfx_file) tls.pfx = file(t.pfx_file, 'tls.pfx_file');
  if (t.passphrase_env) tls.passphrase = fromEnv(t.passphrase_env, 'key passphrase');
  if (t.passphrase_file) tls.passphrase = secretFile(t.passphrase_file, 'tls.passphrase_file');
  if (t.server_name) tls.servername = t.server_name;

  return {
    ...(auth ? { auth } : {}),
    ...(settings.insecureHttp ? { allowPlainHttp: true } : {}),
    tls,
    connectTimeoutMs: timeouts.connectMs,
    headersTimeoutMs: timeouts.responseMs,
    bodyTimeoutMs: timeouts.responseMs,
  };
}

export function timeoutsOf(upstream: UpstreamConfig): { connectMs: number; responseMs: number } {
  return { connectMs: parseDuration(upstream.timeouts.connect), responseMs: parseDuration(upstream.timeouts.response) };
}
