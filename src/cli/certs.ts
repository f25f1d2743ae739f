/** `relay certs init|issue|revoke|list`: the node's certificate authority. */
import type { RelayConfig } from '../config/index.ts';
import { CertificateAuthority, type CertificateKind } from '../pki/index.ts';
import { CliError } from './errors.ts';

export interface CertsOptions {
  readonly days: string | undefined;
  readonly san: string | undefined;
  readonly passphraseEnv: string | undefined;
  readonly json: boolean;
}

const KINDS: readonly CertificateKind[] = ['server', 'member', 'node'];

function authorityFiles(config: RelayConfig) {
  return { dir: config.pki.dir as string, caCert: config.pki.ca_cert, caKey: config.pki.ca_key };
}

export async function runCerts(config: RelayConfig, args: readonly string[], options: CertsOptions): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'init': {
      if (config.pki.ca_cert) throw new CliError('pki.ca_cert is configured: the node uses that existing CA; nothing to init');
      const ca = await CertificateAuthority.init(authorityFiles(config), `${config.node.title} CA`);
      console.log(`CA created: ${ca.caCertPath} (key beside it, owner-only)`);
      return 0;
    }
    case 'issue': {
      const [kind, name] = rest as [string | undefined, string | undefined];
      if (!kind || !KINDS.includes(kind as CertificateKind) || !name) {
        throw new CliError('usage: relay certs issue server|member|node NAME --config PATH [--days N] [--san a,b] [--passphrase-env VAR]');
      }
      let passphrase: string | undefined;
      if (options.passphraseEnv) {
        passphrase = process.env[options.passphraseEnv];
        if (!passphrase) throw new CliError(`environment variable ${options.passphraseEnv} is empty or unset`);
      }
      const days = options.days === undefined ? undefined : Number(options.days);
      if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new CliError('--days must be a positive integer');
      const ca = CertificateAuthority.open(authorityFiles(config));
      const issued = await ca.issue(kind as CertificateKind, name, {
        ...(days ? { days } : {}),
        ...(options.san
          ? {
              altNames: options.san
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(passphrase !== undefined ? { passphrase } : {}),
      });
      if (options.json) {
        console.log(
          JSON.stringify({ ...issued.record, certPath: issued.certPath, keyPath: issued.keyPath, p12Path: issued.p12Path }, null, 2),
        );
      } else {
        console.log(`issued ${kind} certificate "${name}" serial ${issued.record.serial}, valid until ${issued.record.notAfter}`);
        console.log(`  certificate: ${issued.certPath}\n  key:         ${issued.keyPath}`);
        if (issued.p12Path) console.log(`  PKCS#12:     ${issued.p12Path}`);
        console.log(`  fingerprint: sha256:${issued.record.fingerprint}`);
      }
      return 0;
    }
    case 'revoke': {
      const [serial] = rest;
      if (!serial) throw new CliError('usage: relay certs revoke SERIAL --config PATH');
      const record = CertificateAuthority.open(authorityFiles(config)).revoke(serial);
      console.log(`revoked ${record.kind} certificate "${record.name}" serial ${record.serial} at ${record.revokedAt}`);
      console.log('a running node picks the revocation up within its reload interval');
      return 0;
    }
    case 'list': {
      const records = CertificateAuthority.open(authorityFiles(config)).list();
      if (options.json) {
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
    default:
      throw new CliError('usage: relay certs init|issue|revoke|list --config PATH');
  }
}
