import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientKey, FailedLoginLimiter, type FailedLoginLimits } from '../../src/auth/failed-logins.ts';

const LIMITS: FailedLoginLimits = { perAddress: 6, perAddressMember: 3, windowMs: 60_000, maxTracked: 1000 };

/** A limiter on a clock the test moves. */
function limiter(limits: Partial<FailedLoginLimits> = {}) {
  const clock = { now: 0 };
  return { clock, limiter: new FailedLoginLimiter({ ...LIMITS, ...limits }, () => clock.now) };
}

/** One failed login (admitted, then the password was wrong); false when refused unchecked. */
function failOnce(l: FailedLoginLimiter, address: string, member: string): boolean {
  const admission = l.admit(address, member);
  if (!admission.ok) return false;
  admission.attempt.fail();
  return true;
}

describe('FailedLoginLimiter', () => {
  it('refuses a member id from an address after its failures, with the wait until the next attempt', () => {
    const { limiter: l } = limiter();
    expect([1, 2, 3, 4].map(() => failOnce(l, '192.0.2.1', 'alice'))).toEqual([true, true, true, false]);
    // window 60 s, 3 attempts: one attempt comes back every 20 s
    expect(l.admit('192.0.2.1', 'alice')).toEqual({ ok: false, retryAfterSeconds: 20, limit: 'address-member' });
    expect(l.blocked('192.0.2.1', 'alice')).toMatchObject({ retryAfterSeconds: 20 });
  });

  it('never limits a member id across addresses: other addresses keep their own allowance', () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 3; i++) failOnce(l, '192.0.2.1', 'alice');
    expect(l.blocked('192.0.2.1', 'alice')).toBeDefined();
    expect(l.blocked('192.0.2.2', 'alice')).toBeUndefined();
    expect(l.admit('198.51.100.7', 'alice').ok).toBe(true);
  });

  it('counts failures per address across member ids', () => {
    const { limiter: l } = limiter();
    for (const member of ['alice', 'alice', 'alice', 'bob', 'bob', 'bob']) expect(failOnce(l, '192.0.2.1', member)).toBe(true);
    // the address's 6 are used although carol was never tried from it
    expect(l.admit('192.0.2.1', 'carol')).toMatchObject({ ok: false, limit: 'address' });
  });

  it('charges nothing for a correct password (the attempt is given back)', () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 20; i++) {
      const admission = l.admit('192.0.2.1', 'alice');
      expect(admission.ok).toBe(true);
      if (admission.ok) admission.attempt.refund();
    }
    expect(l.tracked).toBe(0);
    expect([1, 2, 3].every(() => failOnce(l, '192.0.2.1', 'alice'))).toBe(true);
  });

  it('holds an attempt while the check runs, so concurrent checks cannot exceed the allowance', () => {
    const { limiter: l } = limiter();
    const pending = [1, 2, 3].map(() => l.admit('192.0.2.1', 'alice'));
    expect(pending.every((a) => a.ok)).toBe(true);
    expect(l.admit('192.0.2.1', 'alice').ok).toBe(false);
  });

  it('settles an attempt once: a refund after a failure gives nothing back', () => {
    const { limiter: l } = limiter();
    const exhausted = [1, 2, 3].map(() => {
      const a = l.admit('192.0.2.1', 'alice');
      if (!a.ok) throw new Error('admitted expected');
      const result = a.attempt.fail().exhausted;
      a.attempt.refund();
      return result;
    });
    expect(exhausted).toEqual([false, false, true]);
    expect(l.blocked('192.0.2.1', 'alice')).toBeDefined();
  });

  it('refills evenly over the window', () => {
    const { limiter: l, clock } = limiter();
    for (let i = 0; i < 3; i++) failOnce(l, '192.0.2.1', 'alice');
    clock.now = 19_999;
    expect(l.blocked('192.0.2.1', 'alice')).toMatchObject({ retryAfterSeconds: 1 });
    clock.now = 20_000;
    expect(failOnce(l, '192.0.2.1', 'alice')).toBe(true);
    expect(failOnce(l, '192.0.2.1', 'alice')).toBe(false);
    clock.now = 20_000 + 60_000;
    expect([1, 2, 3, 4].map(() => failOnce(l, '192.0.2.1', 'alice'))).toEqual([true, true, true, false]);
  });

  it('tracks at most maxTracked buckets, forgetting the least recently used', () => {
    const { limiter: l } = limiter({ maxTracked: 10 });
    failOnce(l, '192.0.2.1', 'alice');
    failOnce(l, '192.0.2.1', 'alice');
    failOnce(l, '192.0.2.1', 'alice');
    for (let i = 0; i < 100; i++) failOnce(l, `198.51.100.${i}`, 'mallory');
    expect(l.tracked).toBe(10);
    // the early address was forgotten (an untracked bucket is full again)
    expect(l.blocked('192.0.2.1', 'alice')).toBeUndefined();
    // the most recent ones are kept: two more failures use up that member id's allowance
    failOnce(l, '198.51.100.99', 'mallory');
    failOnce(l, '198.51.100.99', 'mallory');
    expect(l.blocked('198.51.100.99', 'mallory')).toMatchObject({ limit: 'address-member' });
  });

  it('for any sequence of attempts within one instant, admits at most the allowance per address and per member id', () => {
    const attempt = fc.record({
      address: fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::1', '2001:db8::2'),
      member: fc.constantFrom('alice', 'bob', 'carol', 'mallory'),
      right: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 200 }), (attempts) => {
        const { limiter: l } = limiter();
        const failed = new Map<string, number>();
        for (const { address, member, right } of attempts) {
          const admission = l.admit(clientKey(address), member);
          if (!admission.ok) continue;
          if (right) admission.attempt.refund();
          else {
            admission.attempt.fail();
            const a = clientKey(address);
            failed.set(a, (failed.get(a) ?? 0) + 1);
            failed.set(`${a} ${member}`, (failed.get(`${a} ${member}`) ?? 0) + 1);
          }
        }
        for (const [key, n] of failed) expect(n).toBeLessThanOrEqual(key.includes(' ') ? LIMITS.perAddressMember : LIMITS.perAddress);
        // an address that never failed is always admitted
        expect(l.admit('203.0.113.9', 'alice').ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('clientKey', () => {
  it('keeps IPv4 addresses, also IPv4-mapped ones', () => {
    expect(clientKey('127.0.0.3')).toBe('127.0.0.3');
    expect(clientKey('::ffff:127.0.0.3')).toBe('127.0.0.3');
  });

  it('limits IPv6 clients per /64 prefix, however the address is written', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('64:ff9b:1:2:3:4:192.0.2.1')).toBe('64:ff9b:1:2::/64');
  });

  it('puts clients without a usable address under one key', () => {
    expect(clientKey(undefined)).toBe('unknown');
    expect(clientKey('')).toBe('unknown');
    expect(clientKey('not an address')).toBe('unknown');
  });
});
