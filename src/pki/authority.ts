/**
 * The node's certificate authority on disk: a CA (minted here or supplied as files), the
 * certificates it issued, and the serials it revoked. Private keys are written owner-only.
 *
 *   <dir>/ca.crt, ca.key              the CA (unless supplied elsewhere)
 *   <dir>/issued/<kind>-<name>.crt/.key[/.p12]
 *   <dir>/registry.json               serial -> {kind, name, notAfter, revokedAt?}
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { createCa, issueLeaf, type KeyAndCert } from './forge.ts';
import type { CertificateKind } from './kinds.ts';

/** The key usages and default names of each kind. */
const PROFILES: Record<CertificateKind, { usage: 'server' | 'client' | 'both'; namedBySan: boolean; days: number }> = {
  server: { usage: 'server', namedBySan: true, days: 397 },
  nats: { usage: 'both', namedBySan: true, days: 397 },
  node: { usage: 'both', namedBySan: false, days: 365 },
  member: { usage: 'client', namedBySan: false, days: 365 },
};

export interface IssuedRecord {
  readonly serial: string;
  readonly kind: CertificateKind;
  readonly name: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly revokedAt?: string;
}

export interface AuthorityFiles {
  /** directory for the registry and issued certificates */
  readonly dir: string;
  /** an existing CA's files; default `<dir>/ca.crt` and `<dir>/ca.key` */
  readonly caCert?: string | undefined;
  readonly caKey?: string | undefined;
}

/** Serial numbers as compared everywhere: lowercase hex, no separators, no leading zeros. */
export function normalizeSerial(serial: string): string {
  return serial
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '')
    .replace(/^0+(?=.)/, '');
}

export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** SHA-256 fingerprint of a PEM certificate, as lowercase hex without separators. */
export function fingerprintOf(certPem: string): string {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certPem))).getBytes();
  return forge.md.sha256.create().update(der).digest().toHex();
}

function writeOwnerOnly(path: string, content: string | Buffer): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export class CertificateAuthority {
  private constructor(
    private readonly files: Required<AuthorityFiles>,
    private readonly ca: KeyAndCert,
  ) {}

  static paths(files: AuthorityFiles): Required<AuthorityFiles> {
    return {
      dir: files.dir,
      caCert: files.caCert ?? join(files.dir, 'ca.crt'),
      caKey: files.caKey ?? join(files.dir, 'ca.key'),
    };
  }

  /** Creates a new CA in `dir` (refuses to overwrite one). */
  static async init(files: AuthorityFiles, commonName: string): Promise<CertificateAuthority> {
    const paths = CertificateAuthority.paths(files);
    if (existsSync(paths.caCert) || existsSync(paths.caKey)) {
      throw new PkiError(`a CA already exists at ${paths.caCert}; remove it first to start over`);
    }
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const ca = await createCa(commonName);
    writeOwnerOnly(paths.caKey, ca.keyPem);
    writeFileSync(paths.caCert, ca.certPem, { mode: 0o644 });
    return new CertificateAuthority(paths, ca);
  }

  /** Opens an existing CA (minted by init, or supplied as PEM files). */
  static open(files: AuthorityFiles): CertificateAuthority {
    const paths = CertificateAuthority.paths(files);
    if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
      throw new PkiError(`no CA at ${paths.caCert} / ${paths.caKey}: run "relay certs init" or configure pki.ca_cert and pki.ca_key`);
    }
    const ca = { certPem: readFileSync(paths.caCert, 'utf8'), keyPem: readFileSync(paths.caKey, 'utf8') };
    try {
      const cert = forge.pki.certificateFromPem(ca.certPem);
      const key = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
      const pub = cert.publicKey as forge.pki.rsa.PublicKey;
      if (pub.n.compareTo(key.n) !== 0) throw new Error('the CA key does not match the CA certificate');
    } catch (cause) {
      throw new PkiError(`cannot use the CA at ${paths.caCert}: ${(cause as Error).message}`, { cause });
    }
    return new CertificateAuthority(paths, ca);
  }

  get caCertPem(): string {
    return this.ca.certPem;
  }

  get caCertPath(): string {
    return this.files.caCert;
  }

  async issue(
    kind: CertificateKind,
    name: string,
    options: { days?: number; altNames?: readonly string[]; passphrase?: string; notBefore?: Date } = {},
  ): Promise<{ record: IssuedRecord; certPath: string; keyPath: string; p12Path?: string; keyPem: string; certPem: string }> {
    if (!NAME.test(name)) throw new PkiError(`invalid certificate name "${name}": letters, digits, ".", "_" and "-" only`);
    if (kind === 'member' && options.passphrase !== undefined && options.passphrase.length < 8) {
      throw new PkiError('a PKCS#12 passphrase needs at least 8 characters');
    }
    const profile = PROFILES[kind];
    const days = options.days ?? profile.days;
    const leaf = await issueLeaf(this.ca, {
      commonName: name,
      kind: profile.usage,
      altNames: options.altNames ?? (profile.namedBySan ? [name] : []),
      days,
      ...(options.notBefore ? { notBefore: options.notBefore } : {}),
    });
    const cert = forge.pki.certificateFromPem(leaf.certPem);
    const dir = join(this.files.dir, 'issued');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = join(dir, `${kind}-${name}`);
    writeOwnerOnly(`${base}.key`, leaf.keyPem);
    writeFileSync(`${base}.crt`, leaf.certPem + this.ca.certPem, { mode: 0o644 });
    let p12Path: string | undefined;
    if (kind === 'member' && options.passphrase !== undefined) {
      const p12 = forge.pkcs12.toPkcs12Asn1(
        forge.pki.privateKeyFromPem(leaf.keyPem),
        [cert, forge.pki.certificateFromPem(this.ca.certPem)],
        options.passphrase,
        { algorithm: 'aes256', friendlyName: name },
      );
      p12Path = `${base}.p12`;
      writeOwnerOnly(p12Path, Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary'));
    }
    const record: IssuedRecord = {
      serial: leaf.serial,
      kind,
      name,
      notAfter: cert.validity.notAfter.toISOString(),
      fingerprint: fingerprintOf(leaf.certPem),
    };
    this.saveRegistry([...this.list(), record]);
    return {
      record,
      certPath: `${base}.crt`,
      keyPath: `${base}.key`,
      ...(p12Path ? { p12Path } : {}),
      keyPem: leaf.keyPem,
      certPem: leaf.certPem,
    };
  }

  revoke(serial: string): IssuedRecord {
    const records = this.list();
    const wanted = normalizeSerial(serial);
    const index = records.findIndex((r) => normalizeSerial(r.serial) === wanted);
    if (index < 0) throw new PkiError(`no certificate with serial ${serial} was issued by this CA (see relay certs list)`);
    const record = records[index] as IssuedRecord;
    if (record.revokedAt) return record;
    const revoked = { ...record, revokedAt: new Date().toISOString() };
    records[index] = revoked;
    this.saveRegistry(records);
    return revoked;
  }

  list(): IssuedRecord[] {
    const path = join(this.files.dir, 'registry.json');
    if (!existsSync(path)) return [];
    return JSON.parse(readFileSync(path, 'utf8')) as IssuedRecord[];
  }

  revokedSerials(): Set<string> {
    return new Set(
      this.list()
        .filter((r) => r.revokedAt)
        .map((r) => normalizeSerial(r.serial)),
    );
  }

  private saveRegistry(records: readonly IssuedRecord[]): void {
    mkdirSync(this.files.dir, { recursive: true, mode: 0o700 });
    const path = join(this.files.dir, 'registry.json');
    // Write-then-rename: a crash never leaves a half-written registry.
    writeFileSync(`${path}.tmp`, JSON.stringify(records, null, 2), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
}

/**
 * A revocation check for a running node: reads the CA's registry and re-reads it when it
 * changes (looked at most once a second), so `relay certs revoke` takes effect without restart.
 */
export function revocationChecker(dir: string): (serial: string) => boolean {
  const path = join(dir, 'registry.json');
  let revoked = new Set<string>();
  let seenMtime = -1;
  let checkedAt = 0;
  return (serial: string) => {
    const now = Date.now();
    if (now - checkedAt >= 1000) {
      checkedAt = now;
      let mtime = 0;
      try {
        mtime = statSync(path).mtimeMs;
      } catch {
        mtime = 0;
      }
      if (mtime !== seenMtime) {
        seenMtime = mtime;
        revoked =
          mtime === 0
            ? new Set()
            : new Set(
                (JSON.parse(readFileSync(path, 'utf8')) as IssuedRecord[]).filter((r) => r.revokedAt).map((r) => normalizeSerial(r.serial)),
              );
      }
    }
    return revoked.has(normalizeSerial(serial));
  };
}
