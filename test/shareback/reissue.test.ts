import { describe, expect, it } from 'vitest';
import { AUDIENCES, attributionFor } from '../../src/shareback/consent.ts';
import { laterVersion, reissuedId, reissueNamespaces, relayIdentity, relayIdentityId } from '../../src/shareback/reissue.ts';
import { uuidV5 } from '../../src/shareback/uuid5.ts';
import { compareStixTimestamps } from '../../src/stix/time.ts';
import { validateObject } from '../../src/stix/validate.ts';

describe('UUIDv5 (RFC 9562 §5.5)', () => {
  // expected values computed with Python's uuid.uuid5, an independent implementation
  it('matches known name-based UUIDs', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    // the STIX SCO namespace and an ID-contributing-properties name (JCS of {"value": "example.com"})
    expect(uuidV5('00abedb4-aa42-466c-9c01-fed23315a9b7', '{"value":"example.com"}')).toBe('bedb4899-d24b-5401-bc86-8f6b4cc18ec7');
    // names are hashed as UTF-8
    expect(uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'héllo ✓')).toBe('8a2f39e9-e920-5c69-bfe0-c491f82bf149');
  });

  it('sets version 5 and the RFC variant, and accepts an upper-case namespace', () => {
    const u = uuidV5('6BA7B810-9DAD-11D1-80B4-00C04FD430C8', 'www.example.com');
    expect(u).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(u[14]).toBe('5');
    expect('89ab').toContain(u[19]);
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(/namespace is not a UUID/);
  });
});

describe('attribution by consent and audience', () => {
  const expected = {
    everyone: { 'upstream-hub': 'attributed', members: 'attributed', peers: 'attributed' },
    usg: { 'upstream-hub': 'attributed', members: 'anonymous', peers: 'anonymous' },
    none: { 'upstream-hub': 'anonymous', members: 'anonymous', peers: 'anonymous' },
  } as const;
  for (const consent of ['everyone', 'usg', 'none'] as const) {
    for (const audience of AUDIENCES) {
      it(`consent ${consent} towards ${audience} is ${expected[consent][audience]}`, () => {
        expect(attributionFor(consent, audience)).toBe(expected[consent][audience]);
      });
    }
  }
});

describe('re-issued ids', () => {
  const original = 'indicator--c0000000-0000-4000-8000-000000000001';

  it('keep the type and are the same for the same federation and original id', () => {
    const a = reissuedId(reissueNamespaces('fed-a'), 'anonymous', original);
    const b = reissuedId(reissueNamespaces('fed-a'), 'anonymous', original);
    expect(a).toBe(b);
    expect(a).toMatch(/^indicator--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(original);
  });

  it('differ between federations, between flavours and between original ids', () => {
    const ns = reissueNamespaces('fed-a');
    const ids = new Set([
      reissuedId(ns, 'anonymous', original),
      reissuedId(ns, 'attributed', original),
      reissuedId(reissueNamespaces('fed-b'), 'anonymous', original),
      reissuedId(ns, 'anonymous', original.replace(/1$/, '2')),
    ]);
    expect(ids.size).toBe(4);
  });

  it('refuse what is not a STIX identifier and an empty federation name', () => {
    expect(() => reissuedId(reissueNamespaces('fed'), 'anonymous', 'indicator-1')).toThrow(/not a STIX identifier/);
    expect(() => reissueNamespaces(' ')).toThrow(/federation name/);
  });
});

describe('the relay identity', () => {
  it('is a valid STIX identity whose id derives from the federation name unless configured', () => {
    const a = relayIdentity({ federation: 'fed', name: 'Example ISAC' });
    const b = relayIdentity({ federation: 'fed', name: 'Example ISAC' });
    expect(validateObject(a).ok).toBe(true);
    expect(a).toEqual(b);
    expect(a.id).toBe(relayIdentityId('fed'));
    expect(relayIdentity({ federation: 'other', name: 'Example ISAC' }).id).not.toBe(a.id);
    const configured = 'identity--f0000000-0000-4000-8000-000000000001';
    expect(relayIdentity({ federation: 'fed', name: 'Example ISAC', id: configured }).id).toBe(configured);
  });

  it('refuses an id of another type, an empty name and a bad created timestamp', () => {
    expect(() => relayIdentity({ federation: 'fed', name: 'x', id: 'malware--f0000000-0000-4000-8000-000000000001' })).toThrow(
      /identity--/,
    );
    expect(() => relayIdentity({ federation: 'fed', name: ' ' })).toThrow(/name/);
    expect(() => relayIdentity({ federation: 'fed', name: 'x', created: '2020-01-01' })).toThrow(/timestamp/);
  });
});

describe('laterVersion', () => {
  it('is one microsecond later, carrying into seconds, days and years', () => {
    expect(laterVersion('2024-03-02T10:00:00.000Z')).toBe('2024-03-02T10:00:00.000001Z');
    expect(laterVersion('2024-03-02T10:00:00.123Z')).toBe('2024-03-02T10:00:00.123001Z');
    expect(laterVersion('2024-12-31T23:59:59.999999Z')).toBe('2025-01-01T00:00:00.000Z');
    expect(laterVersion('2024-03-02T10:00:00.000000001Z')).toBe('2024-03-02T10:00:00.000001001Z');
  });

  it('orders after the version and before the next millisecond', () => {
    const v = '2024-03-02T10:00:00.999Z';
    const later = laterVersion(v);
    expect(compareStixTimestamps(later, v)).toBe(1);
    expect(compareStixTimestamps(later, '2024-03-02T10:00:01.000Z')).toBe(-1);
  });

  it('refuses a timestamp without millisecond precision', () => {
    expect(() => laterVersion('2024-03-02T10:00:00Z')).toThrow(/invalid STIX timestamp/);
  });
});
