/**
 * The Basic login path of the Authenticator in process (real scrypt, real key files in a temp
 * directory): the order limiter -> cache -> shared check -> queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, hashSecret, loadOrCreateTokenKeys, tokenSettings, type Authentication } from '../../src/auth/index.ts';
import { type TokenKeys } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import { basicAuth, testConfigData } from '../support/node.ts';

let dir: string;
let keys: TokenKeys;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-authenticator-'));
  keys = await loadOrCreateTokenKeys(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function authenticator(auth: Record<string, unknown>, admins: unknown[] = []): Authenticator {
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  data.auth = auth;
  data.admins = admins;
  return Authenticator.fromConfig(parseConfig(data), keys);
}

const outcome = (r: Authentication) =>
  r.ok ? (r.principal.kind === 'member' ? `ok ${r.principal.member.id}` : `ok admin ${r.principal.admin.id}`) : r.refusal;

describe('Authenticator: Basic logins', () => {
  it('shares one check among identical headers arriving together, and charges one attempt for them', async () => {
    const a = authenticator({ failed_logins: { per_address_member: 3 }, password_checks: { per_address: 1 } });
    const right = await Promise.all(Array.from({ length: 5 }, () => a.authenticate(basicAuth('alice'), { address: '192.0.2.1' })));
    expect(right.map(outcome)).toEqual(Array(5).fill('ok alice'));
    const wrong = await Promise.all(Array.from({ length: 5 }, () => a.authenticate(basicAuth('bob', 'guess'), { address: '192.0.2.1' })));
    expect(wrong.map(outcome)).toEqual(Array(5).fill('unauthorized'));
    // the five identical guesses cost one attempt: two more are checked, then the limit
    const more = [];
    for (const guess of ['g2', 'g3', 'g4']) more.push(outcome(await a.authenticate(basicAuth('bob', guess), { address: '192.0.2.1' })));
    expect(more).toEqual(['unauthorized', 'unauthorized', 'too-many-failures']);
  });

  it('refuses different logins beyond an address share of the queue with too-many-checks, not a check', async () => {
    const a = authenticator({ password_checks: { per_address: 2 } });
    const results = await Promise.all(
      ['g1', 'g2', 'g3', 'g4'].map((guess) => a.authenticate(basicAuth('alice', guess), { address: '192.0.2.1' })),
    );
    expect(results.map(outcome)).toEqual(['unauthorized', 'unauthorized', 'too-many-checks', 'too-many-checks']);
    expect(results[2]).toMatchObject({ retryAfterSeconds: 1 });
    // the refused ones cost no attempt: 10 per member id, 2 used
    for (let i = 0; i < 8; i++)
      expect(outcome(await a.authenticate(basicAuth('alice', `h${i}`), { address: '192.0.2.1' }))).toBe('unauthorized');
    expect(outcome(await a.authenticate(basicAuth('alice', 'h9'), { address: '192.0.2.1' }))).toBe('too-many-failures');
  });

  it('refuses a blocked address even a password that is in the cache; the member elsewhere is unaffected', async () => {
    const a = authenticator({ failed_logins: { per_address_member: 2 } });
    expect(outcome(await a.authenticate(basicAuth('alice'), { address: '192.0.2.1' }))).toBe('ok alice');
    for (const guess of ['g1', 'g2']) await a.authenticate(basicAuth('alice', guess), { address: '198.51.100.7' });
    const blocked = await a.authenticate(basicAuth('alice'), { address: '198.51.100.7' });
    expect(blocked).toMatchObject({ ok: false, refusal: 'too-many-failures' });
    expect(blocked.ok === false && blocked.reason).toMatch(/"alice" from 198\.51\.100\.7/);
    expect(outcome(await a.authenticate(basicAuth('alice'), { address: '192.0.2.1' }))).toBe('ok alice');
    expect(outcome(await a.authenticate(basicAuth('alice'), { address: '203.0.113.5' }))).toBe('ok alice');
  });

  it('counts unknown member ids like known ones, so the limit does not tell which ids exist', async () => {
    const a = authenticator({ failed_logins: { per_address_member: 2 } });
    const tries = async (id: string, address: string) => {
      const out = [];
      for (const guess of ['g1', 'g2', 'g3']) out.push(outcome(await a.authenticate(basicAuth(id, guess), { address })));
      return out;
    };
    expect(await tries('alice', '192.0.2.1')).toEqual(await tries('nobody-here', '192.0.2.2'));
  });
});

describe('Authenticator: admins', () => {
  const reviewer = {
    id: 'reviewer',
    name: 'Analyst on duty',
    credentials: { basic_secret_hash: hashSecret('reviewer-secret'), jwt_subject: 'reviewer-sub', cert_subject: 'reviewer-cert' },
  };

  it('names the kind of principal: members stay members, an admin is an admin by Basic, token or certificate', async () => {
    const a = authenticator({}, [reviewer]);
    expect(outcome(await a.authenticate(basicAuth('alice'), { address: '192.0.2.1' }))).toBe('ok alice');
    expect(outcome(await a.authenticate(basicAuth('reviewer'), { address: '192.0.2.1' }))).toBe('ok admin reviewer');
    // the cache answers the second time, with the same kind
    expect(outcome(await a.authenticate(basicAuth('reviewer'), { address: '192.0.2.1' }))).toBe('ok admin reviewer');
    const settings = tokenSettings(parseConfig(testConfigData(join(dir, 'data'), join(dir, 'certs'))));
    const { token } = await keys.issue(settings, 'reviewer-sub', '10m');
    expect(outcome(await a.authenticate(`Bearer ${token}`))).toBe('ok admin reviewer');
    expect(outcome(a.authenticateCertificate({ authorized: true, subjectCommonName: 'reviewer-cert' }))).toBe('ok admin reviewer');
    expect(a.acceptsCertificates).toBe(true);
  });

  it("counts an admin's failed logins under the same limits as a member's", async () => {
    const a = authenticator({ failed_logins: { per_address_member: 2 } }, [reviewer]);
    const tries = async (id: string, address: string) => {
      const out = [];
      for (const guess of ['g1', 'g2', 'g3']) out.push(outcome(await a.authenticate(basicAuth(id, guess), { address })));
      return out;
    };
    expect(await tries('reviewer', '192.0.2.1')).toEqual(['unauthorized', 'unauthorized', 'too-many-failures']);
    expect(await tries('alice', '192.0.2.2')).toEqual(await tries('reviewer', '192.0.2.3'));
  });

  it('accepts Basic when only an admin has a secret', async () => {
    const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
    data.members = [];
    data.admins = [reviewer];
    const a = Authenticator.fromConfig(parseConfig(data), keys);
    expect(a.methods.basic).toBe(true);
    expect(outcome(await a.authenticate(basicAuth('reviewer'), { address: '192.0.2.1' }))).toBe('ok admin reviewer');
  });
});
