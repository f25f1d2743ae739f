/**
 * The 401 names the methods the node accepts, and only those: WWW-Authenticate carries the HTTP
 * schemes some member can use, the TAXII error's description names them and the client
 * certificate when members are mapped to certificates. Real nodes over HTTPS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKeys, tokenSettings } from '../../../src/auth/index.ts';
import { issueToken } from '../../../src/auth/tokens.ts';
import { CertificateAuthority } from '../../../src/pki/index.ts';
import { basicAuth, startTestNode, TAXII, type TestNode } from '../../support/node.ts';

const nodes: TestNode[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const node of nodes) await node.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(adjust: (data: Record<string, any>) => void): Promise<TestNode> {
  const node = await startTestNode(adjust);
  nodes.push(node);
  return node;
}

async function refusal(t: TestNode, authorization?: string) {
  const res = await t.request('/taxii2/', { headers: { accept: TAXII, ...(authorization ? { authorization } : {}) } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, string> };
}

async function bearerFor(t: TestNode, subject: string): Promise<string> {
  const keys = await loadOrCreateTokenKeys(t.config.data_dir);
  return `Bearer ${await issueToken(keys, tokenSettings(t.config), subject, '5m')}`;
}

describe('the 401 names the methods the node accepts', () => {
  it('Basic and Bearer when members use both', async () => {
    const t = await start(() => {});
    const r = await refusal(t);
    expect(r.status).toBe(401);
    expect(r.challenge).toBe('Basic realm="relay", charset="UTF-8", Bearer realm="relay"');
    expect(r.body).toMatchObject({
      title: 'Unauthorized',
      description: 'Valid credentials are required: HTTP Basic or a Bearer token.',
      http_status: '401',
    });
  });

  it('only Basic when no member has a token subject; a signed token is then refused the same way', async () => {
    const t = await start((data) => {
      for (const m of data.members) delete m.credentials.jwt_subject;
    });
    const none = await refusal(t);
    expect(none.challenge).toBe('Basic realm="relay", charset="UTF-8"');
    expect(none.body.description).toBe('Valid credentials are required: HTTP Basic.');
    const token = await refusal(t, await bearerFor(t, 'alice'));
    expect(token).toEqual(none);
    expect((await t.get('/taxii2/', 'alice')).status).toBe(200);
  });

  it('Bearer and the client certificate when no member has a Basic secret; Basic is then refused', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'relay-auth-methods-'));
    dirs.push(pki);
    await CertificateAuthority.init({ dir: pki }, 'Member CA');
    const t = await start((data) => {
      data.pki = { dir: pki };
      for (const m of data.members) delete m.credentials.basic_secret_hash;
      data.members = data.members.filter((m: { credentials: object }) => Object.keys(m.credentials).length > 0);
      data.members.push({ id: 'acme', name: 'Acme by certificate', credentials: { cert_subject: 'acme' }, grants: [] });
    });
    const none = await refusal(t);
    expect(none.status).toBe(401);
    expect(none.challenge).toBe('Bearer realm="relay"');
    expect(none.body.description).toBe('Valid credentials are required: a Bearer token or a TLS client certificate.');
    const basic = await refusal(t, basicAuth('alice'));
    expect(basic).toEqual(none);
    const ok = await t.request('/taxii2/', { headers: { accept: TAXII, authorization: await bearerFor(t, 'alice') } });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });
});
