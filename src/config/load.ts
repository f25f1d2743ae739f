/**
 * Loads, validates and resolves the YAML configuration. Errors name the key path and what is
 * expected, so an operator can fix the file without reading code.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, listenAddress, type RelayConfig } from './schema.ts';

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
    throw new ConfigError(`cannot read config file ${path}: ${(cause as Error).message}`, [], { cause });
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
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`invalid configuration in ${path}`, describeIssues(result.error.issues));
  }
  const config = result.data;
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
  config.pki.dir = abs(config.pki.dir ?? resolve(config.data_dir, 'pki'));
  if (config.pki.ca_cert) config.pki.ca_cert = abs(config.pki.ca_cert);
  if (config.pki.ca_key) config.pki.ca_key = abs(config.pki.ca_key);
  if (config.tls.cert) config.tls.cert = abs(config.tls.cert);
  if (config.tls.key) config.tls.key = abs(config.tls.key);
  if (config.tls.client_ca) config.tls.client_ca = abs(config.tls.client_ca);
  return config;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix?: string): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
      .filter((p) => p !== undefined)
      .join('.')
      .replace(/\.\[/g, '[');
    return `${path || '(top level)'}: ${issue.message}`;
  });
}
