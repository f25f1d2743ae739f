import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { PkiError, normalizeSerial } from '../../src/pki/authority.ts';

let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-pki-'));
  ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Test ISAC CA');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('certificate authority', () => {
  it('writes the CA key owner-only and refuses to overwrite an existing CA', async () => {
    expect(mode(join(dir, 'pki', 'ca.key'))).toBe(0o600);
    await expect(CertificateAuthority.init({ dir: join(dir, 'pki') }, 'again')).rejects.toThrow(PkiError);
  });

  it('issues a server certificate signed by the CA with the requested names', async () => {
    const issued = await ca.issue('server', 'relay.example.org', { altNames: ['relay.example.org', '127.0.0.1'] });
    expect(mode(issued.keyPath)).toBe(0o600);
    const cert = new X509Certificate(issued.certPem);
    expect(cert.verify(new X509Certificate(ca.caCertPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('DNS:relay.example.org');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(normalizeSerial(cert.serialNumber)).toBe(normalizeSerial(issued.record.serial));
  });

  it('issues a member certificate with a PKCS#12 bundle that opens only with its passphrase', async () => {
    const issued = await ca.issue('member', 'acme', { passphrase: 'correct horse battery' });
    expect(issued.p12Path).toBeDefined();
    expect(mode(issued.p12Path as string)).toBe(0o600);
    const der = readFileSync(issued.p12Path as string).toString('binary');
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), 'correct horse battery');
    const certBag = forge.pki.oids.certBag as string;
    const bags = p12.getBags({ bagType: certBag })[certBag] ?? [];
    expect(bags.map((b: forge.pkcs12.Bag) => b.cert?.subject.getField('CN')?.value)).toContain('acme');
    expect(() => forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), 'wrong passphrase')).toThrow();
    expect(new X509Certificate(issued.certPem).keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
  });

  it('gives node certificates both server and client usage (federation runs both ways)', async () => {
    const issued = await ca.issue('node', 'relay-east');
    const usage = new X509Certificate(issued.certPem).keyUsage ?? [];
    expect(usage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
  });

  it('gives a NATS server certificate both usages (its routes to the other servers are TLS clients) and its name as a SAN', async () => {
    const issued = await ca.issue('nats', 'nats-1');
    const cert = new X509Certificate(issued.certPem);
    expect(cert.keyUsage ?? []).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.subjectAltName).toBe('DNS:nats-1');
    expect(issued.certPath).toMatch(/issued\/nats-nats-1\.crt$/);
  });

  it('lists issued certificates and records revocations by serial', async () => {
    const issued = await ca.issue('member', 'to-revoke');
    const upper = issued.record.serial.toUpperCase();
    ca.revoke(upper);
    const reopened = CertificateAuthority.open({ dir: join(dir, 'pki') });
    const record = reopened.list().find((r) => r.name === 'to-revoke');
    expect(record?.revokedAt).toBeDefined();
    expect(reopened.revokedSerials().has(normalizeSerial(issued.record.serial))).toBe(true);
    expect(() => reopened.revoke('00ff00')).toThrow(/no certificate with serial/);
  });

  it('uses an existing CA supplied as files, and refuses a key that does not match', async () => {
    const other = await CertificateAuthority.init({ dir: join(dir, 'other') }, 'Other CA');
    const supplied = { dir: join(dir, 'supplied'), caCert: join(dir, 'pki', 'ca.crt'), caKey: join(dir, 'pki', 'ca.key') };
    const opened = CertificateAuthority.open(supplied);
    const issued = await opened.issue('member', 'from-supplied');
    expect(new X509Certificate(issued.certPem).verify(new X509Certificate(ca.caCertPem).publicKey)).toBe(true);
    copyFileSync(join(dir, 'other', 'ca.key'), join(dir, 'mismatched.key'));
    expect(() => CertificateAuthority.open({ ...supplied, caKey: join(dir, 'mismatched.key') })).toThrow(/does not match/);
    void other;
  });

  it('its certificates complete a real mutual-TLS handshake, and a client without one is refused', async () => {
    const server = await ca.issue('server', 'localhost', { altNames: ['localhost', '127.0.0.1'] });
    const member = await ca.issue('member', 'mtls-member');
    const https = createServer(
      { key: server.keyPem, cert: server.certPem, ca: ca.caCertPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(peer.subject?.CN ?? '');
      },
    );
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    const get = (withCert: boolean) =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/',
            ca: ca.caCertPem,
            servername: 'localhost',
            ...(withCert ? { key: member.keyPem, cert: member.certPem } : {}),
          },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get(true)).toBe('mtls-member');
      await expect(get(false)).rejects.toThrow();
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});
