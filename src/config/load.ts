/**
 * Loads, validates and resolves the YAML configuration. Errors name the key path and what is
 * expected, so an operator can fix the file without reading code.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { configSchema, listenAddress, typedCollection, type RelayConfig } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message, options);
  }
}

/**
 * A file or directory the configuration names cannot be used: the error names the key, the path,
 * the reason the OS (or OpenSSL, LMDB) gave, and the fix.
 */
export function configuredPathError(key: string, path: string, cause: unknown, fix: string): ConfigError {
  return new ConfigError(`${key}: cannot use ${path}: ${reasonOf(cause)}\n  fix: ${fix}`, [], { cause });
}

/**
 * Runs `use`; what it throws (or the promise it returns rejects with) becomes a
 * configuredPathError. A ConfigError passes unchanged.
 */
export function usingConfiguredPath<T>(key: string, path: string, fix: string, use: () => T): T {
  const fail = (cause: unknown): never => {
    throw cause instanceof ConfigError ? cause : configuredPathError(key, path, cause, fix);
  };
  try {
    const result = use();
    return (result instanceof Promise ? result.catch(fail) : result) as T;
  } catch (cause) {
    return fail(cause);
  }
}

/** Opens something in data_dir (the store, token keys); a failure names data_dir and the fix. */
export function inDataDir<T>(config: { readonly data_dir: string }, open: (dir: string) => T): T {
  const fix = 'set data_dir (or RELAY_DATA_DIR) to a directory the node may create and write';
  return usingConfiguredPath('data_dir', config.data_dir, fix, () => open(config.data_dir));
}

/** The messages along an error's cause chain ("cannot open the LMDB store at …: Not a directory"). */
function reasonOf(error: unknown): string {
  const messages: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    messages.push(e instanceof Error ? e.message : String(e));
  }
  return messages.join(': ');
}

/** Environment overrides for tests and containers. */
export interface ConfigEnvironment {
  readonly RELAY_LISTEN?: string | undefined;
  readonly RELAY_DATA_DIR?: string | undefined;
}

export function loadConfig(path: string, env: ConfigEnvironment = process.env as ConfigEnvironment): RelayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    // The container image has no configuration of its own: say what to mount.
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    const fix = missing
      ? '\n  fix: pass --config with the path of your configuration; in the container image, mount it at' +
        ' /etc/relay/relay.yaml (for example -v ./relay.yaml:/etc/relay/relay.yaml:ro; see docs/operations.md)'
      : '';
    throw new ConfigError(`cannot read config file ${path}: ${(cause as Error).message}${fix}`, [], { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    const detail = cause instanceof YAMLParseError ? cause.message : String(cause);
    throw new ConfigError(`config file ${path} is not valid YAML`, [detail], { cause });
  }
  return parseConfig(raw, path, env);
}

export function parseConfig(raw: unknown, path = '<config>', env: ConfigEnvironment = {}): RelayConfig {
  const result = configSchema.safeParse(withoutNulls(raw ?? {}));
  if (!result.success) {
    throw new ConfigError(`invalid configuration in ${path}`, describeIssues(result.error.issues));
  }
  const parsed = result.data;
  const config: RelayConfig = {
    ...parsed,
    api_roots: parsed.api_roots.map((root) => ({
      ...root,
      collections: root.collections.map((c) => typedCollection(c, root.collections)),
    })),
    pki: { ...parsed.pki, dir: parsed.pki.dir ?? 'pki' },
  };
  if (env.RELAY_LISTEN !== undefined && env.RELAY_LISTEN !== '') {
    const listen = listenAddress.safeParse(env.RELAY_LISTEN);
    if (!listen.success) {
      throw new ConfigError('invalid environment override', describeIssues(listen.error.issues, 'RELAY_LISTEN'));
    }
    config.listen = listen.data;
  }
  if (env.RELAY_DATA_DIR !== undefined && env.RELAY_DATA_DIR !== '') config.data_dir = env.RELAY_DATA_DIR;
  // Relative paths are relative to the working directory the node was started from.
  const base = process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  config.data_dir = abs(config.data_dir);
  config.tls.dev_certs_dir = abs(config.tls.dev_certs_dir);
  config.pki.dir = abs(parsed.pki.dir ?? resolve(config.data_dir, 'pki'));
  if (config.pki.ca_cert) config.pki.ca_cert = abs(config.pki.ca_cert);
  if (config.pki.ca_key) config.pki.ca_key = abs(config.pki.ca_key);
  if (config.tls.cert) config.tls.cert = abs(config.tls.cert);
  if (config.tls.key) config.tls.key = abs(config.tls.key);
  if (config.tls.client_ca) config.tls.client_ca = abs(config.tls.client_ca);
  if (config.federation) {
    const tls = config.federation.tls;
    config.federation.tls = { cert: abs(tls.cert), key: abs(tls.key), ca: abs(tls.ca) };
    config.federation.key_file = abs(config.federation.key_file ?? federationKeyFile(config));
    config.federation.peers = config.federation.peers.map((p) =>
      p.public_key_file !== undefined ? { ...p, public_key_file: abs(p.public_key_file) } : p,
    );
  }
  return config;
}

/**
 * YAML reads a key with no value, or a section whose keys are all commented out (`pki:` followed
 * by `# dir: …` lines), as null. That means "not set": drop it so the default applies.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix?: string): string[] {
  const where = (path: readonly PropertyKey[]) =>
    [prefix, ...path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
      .filter((p) => p !== undefined)
      .join('.')
      .replace(/\.\[/g, '[') || '(top level)';
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // Name each unknown key by its full path, and say which keys are allowed there.
      const allowed = prefix === undefined ? knownKeys(issue.path) : undefined;
      const expected = allowed ? `; expected one of: ${allowed.join(', ')}` : '';
      return issue.keys.map((key) => `${where([...issue.path, key])}: unknown key${expected}`);
    }
    return [`${where(issue.path)}: ${issue.message}`];
  });
}

/** The keys the config schema allows at `path` (for "unknown key" errors). */
function knownKeys(path: readonly PropertyKey[]): string[] | undefined {
  const unwrap = (schema: unknown): unknown => {
    let s = schema;
    for (let i = 0; i < 8; i++) {
      if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
      else if (s instanceof z.ZodPipe) s = s.in;
      else break;
    }
    return s;
  };
  let schema: unknown = configSchema;
  for (const segment of path) {
    const s = unwrap(schema);
    if (s instanceof z.ZodObject) schema = (s.shape as Record<PropertyKey, unknown>)[segment];
    else if (s instanceof z.ZodArray) schema = s.element;
    else return undefined;
  }
  const s = unwrap(schema);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/** Where this node's federation key is when `federation.key_file` does not say: under the data directory. */
export function federationKeyFile(config: Pick<RelayConfig, 'data_dir' | 'federation'>): string {
  return config.federation?.key_file ?? resolve(config.data_dir, 'federation', 'federation.key');
}
