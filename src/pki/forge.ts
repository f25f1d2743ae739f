/**
 * Certificates with node-forge: a CA, and leaf certificates it signs. Keys are RSA 2048 (a
 * conservative choice every TAXII client's TLS stack accepts).
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

const { pki, md } = forge;

export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
}

export interface LeafOptions {
  readonly commonName: string;
  /** extended key usage: server, client, or both (federation node certificates) */
  readonly kind: 'server' | 'client' | 'both';
  /** DNS names and IP addresses for a server certificate */
  readonly altNames?: readonly string[];
  readonly days: number;
  /** backdate notBefore (tests of expiry use a negative validity) */
  readonly notBefore?: Date;
}

function serialNumber(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function generateKeyPair(): Promise<forge.pki.rsa.KeyPair> {
  return new Promise((resolve, reject) =>
    pki.rsa.generateKeyPair({ bits: 2048, workers: -1 }, (error, keys) => (error ? reject(error) : resolve(keys))),
  );
}

export async function createCa(commonName: string, days = 3650): Promise<KeyAndCert> {
  const keys = await generateKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, md.sha256.create());
  return { keyPem: pki.privateKeyToPem(keys.privateKey), certPem: pki.certificateToPem(cert) };
}

export async function issueLeaf(ca: KeyAndCert, options: LeafOptions): Promise<KeyAndCert & { serial: string }> {
  const caCert = pki.certificateFromPem(ca.certPem);
  const caKey = pki.privateKeyFromPem(ca.keyPem);
  const keys = await generateKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + options.days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = (options.altNames ?? []).map((name) =>
    /^[\d.]+$/.test(name) || name.includes(':') ? { type: 7, ip: name } : { type: 2, value: name },
  );
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: options.kind !== 'client', clientAuth: options.kind !== 'server' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, md.sha256.create());
  return {
    keyPem: pki.privateKeyToPem(keys.privateKey),
    certPem: pki.certificateToPem(cert),
    serial: cert.serialNumber,
  };
}
