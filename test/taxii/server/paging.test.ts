import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaxiiError } from '../../../src/taxii/server/errors.ts';
import { decodeNext, encodeNext, type TokenBinding } from '../../../src/taxii/server/paging.ts';

const secret = randomBytes(32);
const binding: TokenBinding = {
  member: 'alice',
  endpoint: 'objects',
  apiRoot: 'isac',
  collection: '11111111-1111-4111-8111-111111111111',
  query: 'added_after=-&id=-&type=["indicator"]&version=all&spec_version=-',
};

function refusal(run: () => unknown): TaxiiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TaxiiError);
    expect((error as TaxiiError).status).toBe(400);
    return error as TaxiiError;
  }
  throw new Error('expected a refusal');
}

describe('next tokens', () => {
  it('round-trip any position for the same binding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (position) => {
        const token = encodeNext(secret, binding, position);
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeNext(secret, binding, token)).toBe(position);
      }),
    );
  });

  it('are refused for any other member, endpoint, root, collection, object or query', () => {
    const token = encodeNext(secret, binding, 1_700_000_000_000_000);
    const variants: TokenBinding[] = [
      { ...binding, member: 'bob' },
      { ...binding, endpoint: 'manifest' },
      { ...binding, apiRoot: 'other' },
      { ...binding, collection: '22222222-2222-4222-8222-222222222222' },
      { ...binding, objectId: 'indicator--x' },
      { ...binding, query: binding.query.replace('all', 'last') },
    ];
    for (const other of variants) refusal(() => decodeNext(secret, other, token));
  });

  it('do not confuse fields whose concatenation is equal', () => {
    const a: TokenBinding = { ...binding, member: 'ab', endpoint: 'c' };
    const b: TokenBinding = { ...binding, member: 'a', endpoint: 'bc' };
    refusal(() => decodeNext(secret, b, encodeNext(secret, a, 5)));
  });

  it('are refused under another node secret', () => {
    const token = encodeNext(secret, binding, 42);
    refusal(() => decodeNext(randomBytes(32), binding, token));
  });

  it('refuse every single-character change', () => {
    const token = encodeNext(secret, binding, 123_456_789);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCDEFabcdef0123456789-_'), (i, ch) => {
        fc.pre(token[i] !== ch);
        const changed = token.slice(0, i) + ch + token.slice(i + 1);
        // base64url's last character carries padding bits: a change there may decode equal
        fc.pre(!Buffer.from(changed, 'base64url').equals(Buffer.from(token, 'base64url')));
        refusal(() => decodeNext(secret, binding, changed));
      }),
    );
  });

  it('refuse garbage with the invalid-next code', () => {
    for (const garbage of [
      '',
      'abc',
      '!!!!',
      'A'.repeat(55),
      encodeNext(secret, binding, 1).slice(0, -2),
      `${encodeNext(secret, binding, 1)}AA`,
    ]) {
      expect(refusal(() => decodeNext(secret, binding, garbage)).errorCode).toBe('invalid-next');
    }
  });
});
