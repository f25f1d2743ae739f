import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../src/pki/index.ts';
import { COLLECTIONS, startTestNode, TAXII, type TestNode } from '../../support/node.ts';

interface Pair {
  keyPem: string;
  certPem: string;
  record: { serial: string; fingerprint: string };
}

describe('mutual TLS member authentication', () => {
  let dir: string;
  let t: TestNode;
  let serverCa: string;
  const certs = {} as Record<'valid' | 'revoked' | 'expired' | 'foreign' | 'unmapped' | 'revokedNow', Pair>;
  const agents: Agent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-mtls-'));
    const ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Member CA');
    const foreign = await CertificateAuthority.init({ dir: join(dir, 'foreign') }, 'Some other CA');
    certs.valid = await ca.issue('member', 'acme');
    certs.revoked = await ca.issue('member', 'acme-old');
    certs.expired = await ca.issue('member', 'acme-expired', { days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) });
    certs.foreign = await foreign.issue('member', 'acme');
    certs.unmapped = await ca.issue('member', 'stranger');
    const revoked = await ca.issue('member', 'acme-revoked');
    certs.revokedNow = revoked;
    ca.revoke(certs.revoked.record.serial);

    t = await startTestNode((data) => {
      data.pki = { dir: join(dir, 'pki') };
      // Members who read `shared` with a certificate, mapped by subject or by fingerprint.
      const certificateMember = (id: string, credentials: Record<string, string>) => ({
        id,
        name: `${id} by certificate`,
        credentials,
        grants: [{ api_root: 'isac', collection: 'shared', read: true }],
      });
      data.members.push(
        certificateMember('acme', { cert_subject: 'acme' }),
        certificateMember('acme-old', { cert_subject: 'acme-old' }),
        certificateMember('acme-expired', { cert_subject: 'acme-expired' }),
        certificateMember('acme-revoked', { cert_fingerprint: revoked.record.fingerprint }),
      );
    });
    serverCa = readFileSync(join(t.dir, 'certs', 'dev-ca.crt'), 'utf8');
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function getCollections(pair: Pair | undefined): Promise<number> {
    const agent = new Agent({ connect: { ca: serverCa, ...(pair ? { key: pair.keyPem, cert: pair.certPem } : {}) } });
    agents.push(agent);
    const res = await fetch(`${t.baseUrl}/isac/collections/${COLLECTIONS.shared}/`, {
      dispatcher: agent,
      headers: { accept: TAXII },
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('a member with a valid certificate reads its collection', async () => {
    expect(await getCollections(certs.valid)).toBe(200);
  });

  it('without a certificate (and no other credential) the request is refused', async () => {
    expect(await getCollections(undefined)).toBe(401);
  });

  it('a certificate from another CA is refused, even with a member subject', async () => {
    expect(await getCollections(certs.foreign)).toBe(401);
  });

  it('a revoked certificate is refused', async () => {
    expect(await getCollections(certs.revoked)).toBe(401);
  });

  it('an expired certificate is refused', async () => {
    expect(await getCollections(certs.expired)).toBe(401);
  });

  it('a valid certificate that maps to no member is refused', async () => {
    expect(await getCollections(certs.unmapped)).toBe(401);
  });

  it('a revocation made while the node runs takes effect without a restart', async () => {
    expect(await getCollections(certs.revokedNow)).toBe(200);
    const ca = CertificateAuthority.open({ dir: join(dir, 'pki') });
    ca.revoke(certs.revokedNow.record.serial);
    // The node re-reads the registry at most once a second: poll a bounded number of times.
    let status = 200;
    for (let i = 0; i < 30 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await getCollections(certs.revokedNow);
    }
    expect(status).toBe(401);
  });

  it('Basic members keep working beside certificate members', async () => {
    const res = await t.get(`/isac/collections/${COLLECTIONS.shared}/`, 'alice');
    expect(res.status).toBe(200);
  });
});

describe('published token keys', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode();
  });
  afterAll(async () => t?.close());

  it('serves the JWKS without credentials and it verifies the node tokens', async () => {
    const { createLocalJWKSet, jwtVerify } = await import('jose');
    const { loadOrCreateTokenKeys, issueToken } = await import('../../../src/auth/tokens.ts');
    const res = await t.request('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    const jwks = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const keys = await loadOrCreateTokenKeys(t.config.data_dir);
    const token = await issueToken(keys, { issuer: t.config.auth.jwt_issuer, audience: t.config.auth.jwt_audience }, 'alice', '5m');
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never));
    expect(payload.sub).toBe('alice');
  });
});
