/**
 * Bearer tokens against a running node over HTTPS: a token revoked with the key ring (as
 * `relay token revoke` does, from another process view of the same files) is refused without a
 * restart; rotation (as `relay token rotate`) keeps tokens signed with the previous key valid,
 * new tokens are signed with the new key, and the JWKS publishes both; an expired token is
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKeys, tokenSettings } from '../../src/auth/index.ts';
import { type TokenKeys } from '../../src/auth/tokens.ts';
import { COLLECTIONS, TAXII, startTestNode, type TestNode } from '../support/node.ts';

let t: TestNode;
let keys: TokenKeys; // a second view of the node's key files, like the CLI's

beforeAll(async () => {
  t = await startTestNode();
  keys = await loadOrCreateTokenKeys(t.config.data_dir);
});
afterAll(async () => {
  await t?.close();
});

async function statusWith(token: string): Promise<number> {
  const res = await t.request(`/isac/collections/${COLLECTIONS.shared}/`, { headers: { accept: TAXII, authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** The node re-reads the key files at most once a second: poll a bounded number of times. */
async function eventually(token: string, wanted: number): Promise<number> {
  let status = await statusWith(token);
  for (let i = 0; i < 30 && status !== wanted; i++) {
    await new Promise((r) => setTimeout(r, 200));
    status = await statusWith(token);
  }
  return status;
}

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string;

describe('bearer tokens over HTTPS', () => {
  it('a token revoked while the node runs is refused; other tokens of the member keep working', async () => {
    const settings = tokenSettings(t.config);
    const revoked = await keys.issue(settings, 'alice', '10m');
    const kept = await keys.issue(settings, 'alice', '10m');
    expect(await statusWith(revoked.token)).toBe(200);
    keys.revoke(revoked.jti);
    expect(await eventually(revoked.token, 401)).toBe(401);
    expect(await statusWith(kept.token)).toBe(200);
  });

  it('a token revoked by its text (not its jti) is refused too', async () => {
    const settings = tokenSettings(t.config);
    const issued = await keys.issue(settings, 'bob', '10m');
    expect(await statusWith(issued.token)).toBe(200);
    keys.revoke(issued.token);
    expect(await eventually(issued.token, 401)).toBe(401);
  });

  it('rotation: tokens signed with the previous key stay valid; new tokens use the new key; JWKS has both', async () => {
    const settings = tokenSettings(t.config);
    const before = await keys.issue(settings, 'alice', '10m');
    const oldKid = kidOf(before.token);
    const newKid = await keys.rotate(settings);
    expect(newKid).not.toBe(oldKid);
    const after = await keys.issue(settings, 'alice', '10m');
    expect(kidOf(after.token)).toBe(newKid);
    // the node learns the new key from the files without a restart
    expect(await eventually(after.token, 200)).toBe(200);
    expect(await statusWith(before.token)).toBe(200);
    const jwks = (await (await t.request('/.well-known/jwks.json')).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
  });

  it('an expired token is refused', async () => {
    const issued = await keys.issue(tokenSettings(t.config), 'alice', '1s');
    // wait (bounded) until it has expired: refusal is the behaviour under test, not the timing
    expect(await eventually(issued.token, 401)).toBe(401);
  });

  it('a token signed by a key the node does not know, and a tampered token, are refused', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const otherDir = mkdtempSync(join(tmpdir(), 'relay-other-keys-'));
    try {
      const stranger = await loadOrCreateTokenKeys(otherDir);
      const foreign = await stranger.issue(tokenSettings(t.config), 'alice', '10m');
      expect(await statusWith(foreign.token)).toBe(401);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    const good = await keys.issue(tokenSettings(t.config), 'bob', '10m');
    expect(await statusWith(good.token)).toBe(200);
    const [header, payload, signature] = good.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'alice' })).toString('base64url')}.${signature}`;
    expect(await statusWith(tampered)).toBe(401);
  });

  it('the refusals all look the same to the client', async () => {
    const settings = tokenSettings(t.config);
    const issued = await keys.issue(settings, 'alice', '10m');
    keys.revoke(issued.jti);
    await eventually(issued.token, 401);
    const revoked = await t.request('/taxii2/', { headers: { accept: TAXII, authorization: `Bearer ${issued.token}` } });
    const garbage = await t.request('/taxii2/', { headers: { accept: TAXII, authorization: 'Bearer abc.def.ghi' } });
    expect(revoked.status).toBe(401);
    expect(await revoked.text()).toBe(await garbage.text());
  });
});
