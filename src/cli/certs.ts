/** `relay certs init|issue|revoke|list`: the node's certificate authority. */
import type { RelayConfig } from '../config/index.ts';
import { CERTIFICATE_KINDS, CertificateAuthority, type CertificateKind } from '../pki/index.ts';
import { CliError } from './errors.ts';

export interface IssueOptions {
  readonly days: number | undefined;
  readonly san: readonly string[] | undefined;
  readonly passphraseEnv: string | undefined;
  readonly json: boolean;
}

function authorityFiles(config: RelayConfig) {
  return { dir: config.pki.dir, caCert: config.pki.ca_cert, caKey: config.pki.ca_key };
}

export async function runCertsInit(config: RelayConfig): Promise<number> {
  if (config.pki.ca_cert) throw new CliError('pki.ca_cert is configured: the node uses that existing CA; nothing to init');
  const ca = await CertificateAuthority.init(authorityFiles(config), `${config.node.title} CA`);
  console.log(`CA created: ${ca.caCertPath} (key beside it, owner-only)`);
  return 0;
}

export async function runCertsIssue(config: RelayConfig, kind: string, name: string, options: IssueOptions): Promise<number> {
  if (!isCertificateKind(kind)) throw new CliError(`certificate kind must be ${CERTIFICATE_KINDS.join('|')}, not "${kind}"`);
  let passphrase: string | undefined;
  if (options.passphraseEnv) {
    passphrase = process.env[options.passphraseEnv];
    if (!passphrase) throw new CliError(`environment variable ${options.passphraseEnv} is empty or unset`);
  }
  const ca = CertificateAuthority.open(authorityFiles(config));
  const issued = await ca.issue(kind, name, {
    ...(options.days ? { days: options.days } : {}),
    ...(options.san ? { altNames: options.san } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
  });
  if (options.json) {
    console.log(JSON.stringify({ ...issued.record, certPath: issued.certPath, keyPath: issued.keyPath, p12Path: issued.p12Path }, null, 2));
  } else {
    console.log(`issued ${kind} certificate "${name}" serial ${issued.record.serial}, valid until ${issued.record.notAfter}`);
    console.log(`  certificate: ${issued.certPath}\n  key:         ${issued.keyPath}`);
    if (issued.p12Path) console.log(`  PKCS#12:     ${issued.p12Path}`);
    console.log(`  fingerprint: sha256:${issued.record.fingerprint}`);
  }
  if (kind === 'member') {
    const warning = memberWarning(config, name, issued.record.fingerprint);
    if (warning) console.error(`warning: ${warning}`);
  }
  return 0;
}

/**
 * A member certificate authenticates the member whose credentials.cert_subject is its name (or
 * whose cert_fingerprint is its fingerprint): say so when no configured member does yet.
 */
function memberWarning(config: RelayConfig, name: string, fingerprint: string): string | undefined {
  const matches = config.members.some(
    (m) => m.credentials.cert_subject === name || sameFingerprint(m.credentials.cert_fingerprint, fingerprint),
  );
  if (matches) return undefined;
  const fix = `credentials.cert_subject: ${name} (or cert_fingerprint: ${fingerprint})`;
  return config.members.some((m) => m.id === name)
    ? `member "${name}" has no ${fix}; until it does, this certificate authenticates nobody`
    : `"${name}" is no configured member: this certificate authenticates nobody until a member in the config has ${fix}`;
}

const sameFingerprint = (configured: string | undefined, hex: string) =>
  configured !== undefined && configured.replace(/:/g, '').toLowerCase() === hex.toLowerCase();

export async function runCertsRevoke(config: RelayConfig, serial: string): Promise<number> {
  const record = CertificateAuthority.open(authorityFiles(config)).revoke(serial);
  console.log(`revoked ${record.kind} certificate "${record.name}" serial ${record.serial} at ${record.revokedAt}`);
  console.log('a running node picks the revocation up within its reload interval');
  return 0;
}

export async function runCertsList(config: RelayConfig, json: boolean): Promise<number> {
  const records = CertificateAuthority.open(authorityFiles(config)).list();
  if (json) {
    console.log(JSON.stringify(records, null, 2));
    return 0;
  }
  if (records.length === 0) console.log('(no certificates issued)');
  for (const r of records) {
    const state = r.revokedAt ? `REVOKED ${r.revokedAt}` : new Date(r.notAfter) < new Date() ? 'expired' : 'valid';
    console.log(`${r.serial}  ${r.kind.padEnd(6)}  ${r.name}  until ${r.notAfter}  ${state}`);
  }
  return 0;
}

function isCertificateKind(kind: string): kind is CertificateKind {
  return (CERTIFICATE_KINDS as readonly string[]).includes(kind);
}
