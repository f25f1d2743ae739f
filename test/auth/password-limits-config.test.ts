import { describe, expect, it } from 'vitest';
import { passwordCheckLimits } from '../../src/auth/authenticator.ts';
import { parseConfig } from '../../src/config/load.ts';

const minimal = (auth?: unknown) => ({
  node: { id: 'n', title: 'N' },
  api_roots: [{ path: 'isac', title: 'ISAC' }],
  ...(auth !== undefined ? { auth } : {}),
});

function problems(auth: unknown): string {
  try {
    parseConfig(minimal(auth), 'relay.yaml');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('auth.failed_logins and auth.password_checks', () => {
  it('default to 30 failures per address and 10 per member id in 15 minutes, one scrypt check at a time', () => {
    const config = parseConfig(minimal());
    expect(config.auth.failed_logins).toEqual({
      per_address: 30,
      per_address_member: 10,
      window: '15m',
      tracked_keys: 100_000,
    });
    expect(config.auth.password_checks).toEqual({ concurrency: 1, queue: 32, per_address: 4 });
    expect(passwordCheckLimits(config)).toEqual({
      failedLogins: { perAddress: 30, perAddressMember: 10, windowMs: 900_000, maxTracked: 100_000 },
      checks: { concurrency: 1, queue: 32, perClient: 4 },
    });
  });

  it('fill in what a partial section leaves out', () => {
    const config = parseConfig(minimal({ failed_logins: { window: '1h' }, password_checks: { concurrency: 2 } }));
    expect(passwordCheckLimits(config)).toMatchObject({
      failedLogins: { perAddress: 30, windowMs: 3_600_000 },
      checks: { concurrency: 2, queue: 32 },
    });
  });

  it('name the key and the fix when a value is wrong', () => {
    expect(problems({ failed_logins: { per_address: 5, per_address_member: 6 } })).toMatch(
      /auth\.failed_logins: per_address_member must not exceed per_address/,
    );
    expect(problems({ failed_logins: { window: '0m' } })).toMatch(/auth\.failed_logins\.window: expected a duration such as "15m"/);
    expect(problems({ failed_logins: { per_user: 3 } })).toMatch(
      /auth\.failed_logins\.per_user: unknown key; expected one of: per_address/,
    );
    expect(problems({ password_checks: { concurrency: 0 } })).toMatch(/auth\.password_checks\.concurrency/);
  });
});
