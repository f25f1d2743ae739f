/**
 * Development TLS: when no certificate is configured the node mints a self-signed development
 * CA and a loopback server certificate into the configured directory, once, and reuses them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueLeaf } from './forge.ts';

export interface TlsFiles {
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

export async function ensureDevCertificates(dir: string, hostNames: readonly string[]): Promise<TlsFiles> {
  const files: TlsFiles = {
    caPath: join(dir, 'dev-ca.crt'),
    certPath: join(dir, 'dev-server.crt'),
    keyPath: join(dir, 'dev-server.key'),
  };
  if (existsSync(files.certPath) && existsSync(files.keyPath) && existsSync(files.caPath)) return files;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa('relay development CA');
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hostNames])];
  const server = await issueLeaf(ca, { commonName: 'localhost', kind: 'server', altNames: names, days: 825 });
  writeFileSync(join(dir, 'dev-ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(files.caPath, ca.certPem, { mode: 0o644 });
  writeFileSync(files.keyPath, server.keyPem, { mode: 0o600 });
  writeFileSync(files.certPath, server.certPem, { mode: 0o644 });
  return files;
}

export function readTls(certPath: string, keyPath: string): TlsMaterial {
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}
