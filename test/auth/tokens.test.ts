import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenError, TokenKeys, type TokenSettings } from '../../src/auth/tokens.ts';

const settings: TokenSettings = { issuer: 'relay', audience: 'relay-taxii', maxTtlSeconds: 7 * 86_400 };
let dir: string;
let keys: TokenKeys;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-tokens-'));
  keys = await TokenKeys.load(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('member bearer tokens', () => {
  it('a token the node issued verifies to its subject; the key file is owner-only', async () => {
    const { token } = await keys.issue(settings, 'alice', '10m');
    expect(await keys.verify(settings, token)).toBe('alice');
    expect(statSync(join(dir, 'keys', 'jwt-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setSubject('alice')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setJti('expired-1')
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(keys.current.privateKey);
    await expect(keys.verify(settings, token)).rejects.toThrow(/exp/);
  });

  it('refuses a token for another audience', async () => {
    const { token } = await keys.issue({ ...settings, audience: 'someone-else' }, 'alice', '10m');
    await expect(keys.verify(settings, token)).rejects.toThrow(TokenError);
  });

  it('refuses a token signed by a key the node does not know', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'relay-tokens-other-'));
    try {
      const other = await TokenKeys.load(otherDir);
      const { token } = await other.issue(settings, 'alice', '10m');
      await expect(keys.verify(settings, token)).rejects.toThrow(/unknown signing key/);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses a tampered token', async () => {
    const { token } = await keys.issue(settings, 'alice', '10m');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
    await expect(keys.verify(settings, `${header}.${forged}.${signature}`)).rejects.toThrow(TokenError);
  });

  it('refuses a revoked token, also in another process view of the same keys', async () => {
    const { token, jti } = await keys.issue(settings, 'alice', '10m');
    const running = await TokenKeys.load(dir); // a running node's view
    expect(await running.verify(settings, token)).toBe('alice');
    expect(keys.revoke(token).jti).toBe(jti);
    const fresh = await TokenKeys.load(dir);
    await expect(fresh.verify(settings, token)).rejects.toThrow(/revoked/);
  });

  it('rotation keeps tokens signed with the previous key valid; new tokens use the new key', async () => {
    const before = await keys.issue(settings, 'alice', '10m');
    const oldKid = keys.kid;
    const newKid = await keys.rotate(settings);
    expect(newKid).not.toBe(oldKid);
    expect(await keys.verify(settings, before.token)).toBe('alice');
    const after = await keys.issue(settings, 'bob', '10m');
    const header = JSON.parse(Buffer.from(after.token.split('.')[0] as string, 'base64url').toString());
    expect(header.kid).toBe(newKid);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    expect(keys.jwks().keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('drops a retired key once no token signed with it can still be valid', async () => {
    const old = await keys.issue(settings, 'alice', '10m');
    await keys.rotate(settings);
    const path = join(dir, 'keys', 'jwt-keys.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.keys[0].retired = new Date(Date.now() - 8 * 86_400_000).toISOString(); // longer ago than max TTL
    writeFileSync(path, JSON.stringify(file));
    await keys.rotate(settings);
    await expect(keys.verify(settings, old.token)).rejects.toThrow(/unknown signing key/);
  });

  it('will not issue a token living longer than the configured maximum', async () => {
    await expect(keys.issue(settings, 'alice', '8d')).rejects.toThrow(/at most/);
  });
});
