import { describe, expect, it } from 'vitest';
import { challengeFor, unauthorizedDescription } from '../../src/auth/index.ts';
import { CHALLENGE } from '../../src/auth/methods.ts';

describe('what a 401 says the node accepts', () => {
  it('names Basic and Bearer in the challenge and description when members use both', () => {
    const methods = { basic: true, bearer: true, certificate: false };
    expect(challengeFor(methods)).toBe('Basic realm="relay", charset="UTF-8", Bearer realm="relay"');
    expect(challengeFor(methods)).toBe(CHALLENGE);
    expect(unauthorizedDescription(methods)).toBe('Valid credentials are required: HTTP Basic or a Bearer token.');
  });

  it('names every method, client certificates included, and nothing the node does not accept', () => {
    expect(unauthorizedDescription({ basic: true, bearer: true, certificate: true })).toBe(
      'Valid credentials are required: HTTP Basic, a Bearer token or a TLS client certificate.',
    );
    expect(challengeFor({ basic: false, bearer: true, certificate: true })).toBe('Bearer realm="relay"');
    expect(unauthorizedDescription({ basic: false, bearer: true, certificate: true })).toBe(
      'Valid credentials are required: a Bearer token or a TLS client certificate.',
    );
    expect(challengeFor({ basic: true, bearer: false, certificate: false })).toBe('Basic realm="relay", charset="UTF-8"');
    expect(unauthorizedDescription({ basic: true, bearer: false, certificate: false })).toBe('Valid credentials are required: HTTP Basic.');
  });

  it('sends no HTTP challenge when only client certificates are accepted', () => {
    expect(challengeFor({ basic: false, bearer: false, certificate: true })).toBeUndefined();
    expect(unauthorizedDescription({ basic: false, bearer: false, certificate: true })).toBe(
      'Valid credentials are required: a TLS client certificate.',
    );
  });

  it('says so when no member has credentials at all', () => {
    expect(challengeFor({ basic: false, bearer: false, certificate: false })).toBeUndefined();
    expect(unauthorizedDescription({ basic: false, bearer: false, certificate: false })).toMatch(/no member/i);
  });
});
