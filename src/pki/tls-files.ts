/**
 * TLS files the configuration names (tls.cert, tls.key, tls.client_ca …), read and checked with
 * OpenSSL before the server is built, so a missing or unusable file is reported by its config
 * key and path with the OS's or OpenSSL's reason, not as a bare "PEM routines::no start line".
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { configuredPathError, usingConfiguredPath } from '../config/load.ts';
import type { TlsMaterial } from './dev.ts';

/** A file and the config key that names it. */
export interface ConfiguredFile {
  readonly key: string;
  readonly path: string;
}

const readText = (file: ConfiguredFile, fix: string) =>
  usingConfiguredPath(file.key, file.path, fix, () => readFileSync(file.path, 'utf8'));

/** The server's certificate (chain) and private key; refuses files OpenSSL cannot use, or a key of another certificate. */
export function readServerTls(cert: ConfiguredFile, key: ConfiguredFile): TlsMaterial {
  const certFix = `point ${cert.key} at a readable PEM certificate (chain) for this server`;
  const keyFix = `point ${key.key} at the readable PEM private key of the certificate in ${cert.key}`;
  const material = { cert: readText(cert, certFix), key: readText(key, keyFix) };
  usingConfiguredPath(cert.key, cert.path, certFix, () => createSecureContext({ cert: material.cert }));
  usingConfiguredPath(key.key, key.path, keyFix, () => createSecureContext({ key: material.key }));
  usingConfiguredPath(key.key, key.path, `${keyFix} (${cert.path})`, () => createSecureContext(material));
  return material;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A PEM bundle of CA certificates; each must parse (OpenSSL would skip a bad one silently). */
export function readCaBundle(file: ConfiguredFile): string {
  const fix = `point ${file.key} at a readable PEM file of CA certificates`;
  const pem = readText(file, fix);
  const blocks = pem.match(CERTIFICATE) ?? [];
  if (blocks.length === 0)
    throw configuredPathError(file.key, file.path, new Error('no PEM certificate ("-----BEGIN CERTIFICATE-----") in it'), fix);
  blocks.forEach((block, i) =>
    usingConfiguredPath(file.key, file.path, fix, () => {
      try {
        return new X509Certificate(block);
      } catch (cause) {
        throw new Error(`certificate ${i + 1} of ${blocks.length}`, { cause });
      }
    }),
  );
  return pem;
}
