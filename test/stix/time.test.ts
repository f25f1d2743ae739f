import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareStixTimestamps, formatTaxiiTimestamp, parseTaxiiTimestamp, stixTimestampKey } from '../../src/stix/time.ts';

describe('TAXII timestamps', () => {
  it('are formatted with exactly six fractional digits and a literal Z', () => {
    expect(formatTaxiiTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(formatTaxiiTimestamp(1_500_000_000_123_456)).toBe('2017-07-14T02:40:00.123456Z');
    expect(formatTaxiiTimestamp(1_500_000_000_000_001)).toBe('2017-07-14T02:40:00.000001Z');
    expect(formatTaxiiTimestamp(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('are parsed leniently: any precision, Z or z, numeric offsets, leap seconds', () => {
    const base = parseTaxiiTimestamp('2016-11-02T12:34:34.123456Z');
    expect(base).toBe(Date.UTC(2016, 10, 2, 12, 34, 34) * 1000 + 123_456);
    expect(parseTaxiiTimestamp('2016-11-02T12:34:34Z')).toBe(Date.UTC(2016, 10, 2, 12, 34, 34) * 1000);
    expect(parseTaxiiTimestamp('2016-11-02T12:34:34.12345Z')).toBe((base as number) - 6);
    expect(parseTaxiiTimestamp('2016-11-02T12:34:34.1234569Z')).toBe(base); // finer digits truncated
    expect(parseTaxiiTimestamp('2016-11-02t12:34:34.123456z')).toBe(base);
    expect(parseTaxiiTimestamp('2016-11-02T14:34:34.123456+02:00')).toBe(base);
    expect(parseTaxiiTimestamp('2016-11-02T10:04:34.123456-02:30')).toBe(base);
    expect(parseTaxiiTimestamp('2016-12-31T23:59:60Z')).toBe(Date.UTC(2017, 0, 1) * 1000);
  });

  it('reject what is not RFC 3339', () => {
    for (const bad of [
      '2022-101-27T13:49:54.326Z', // the upstream typo in oasis-common-objects
      '2016-11-04T03:04:051Z', // the malformed example in the TAXII spec
      '2016-11-02 12:34:34Z',
      '2016-11-02T12:34:34',
      '2016-11-02T12:34:34.Z',
      '2016-13-02T12:34:34Z',
      '2016-02-30T12:34:34Z',
      '2015-02-29T00:00:00Z',
      '2016-11-02T24:00:00Z',
      '2016-11-02T12:60:00Z',
      '2016-11-02T12:00:61Z',
      '2016-11-02T12:00:00+24:00',
      '',
      'yesterday',
    ]) {
      expect(parseTaxiiTimestamp(bad), bad).toBeNull();
    }
    expect(parseTaxiiTimestamp('2016-02-29T00:00:00Z')).not.toBeNull();
  });

  it('round-trip: format(parse(format(us))) is the identity on microseconds', () => {
    // Microseconds since 1970 are exact JavaScript integers for about +-285 years.
    const min = parseTaxiiTimestamp('1700-01-01T00:00:00Z') as number;
    const max = parseTaxiiTimestamp('2250-12-31T23:59:59.999999Z') as number;
    expect(Number.isSafeInteger(min) && Number.isSafeInteger(max)).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min, max }), (us) => {
        const text = formatTaxiiTimestamp(us);
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
        expect(parseTaxiiTimestamp(text)).toBe(us);
      }),
      { numRuns: 2000 },
    );
  });

  it('years below 100 are not read as 19xx (Date.UTC two-digit-year rule)', () => {
    expect(stixTimestampKey('0099-06-15T01:02:03.000004Z')).toBe('0099-06-15T01:02:03.000004000Z');
    expect(formatTaxiiTimestamp(parseTaxiiTimestamp('0099-06-15T01:02:03Z') as number)).toBe('0099-06-15T01:02:03.000000Z');
    // 0000 is a leap year in the proleptic Gregorian calendar, 1900 is not
    expect(parseTaxiiTimestamp('0000-02-29T00:00:00Z')).not.toBeNull();
  });
});

describe('STIX timestamps and version keys', () => {
  it('require millisecond precision when asked (created/modified)', () => {
    expect(stixTimestampKey('2016-01-01T01:01:01Z', 3)).toBeNull();
    expect(stixTimestampKey('2016-01-01T01:01:01.1Z', 3)).toBeNull();
    expect(stixTimestampKey('2016-01-01T01:01:01.10Z', 3)).toBeNull();
    expect(stixTimestampKey('2016-01-01T01:01:01.100Z', 3)).toBe('2016-01-01T01:01:01.100000000Z');
    expect(stixTimestampKey('2016-01-01T01:01:01Z')).toBe('2016-01-01T01:01:01.000000000Z');
  });

  it('require UTC with a literal Z', () => {
    expect(stixTimestampKey('2016-01-01T01:01:01.000+00:00')).toBeNull();
    expect(stixTimestampKey('2016-01-01T01:01:01.000')).toBeNull();
  });

  it('compare as instants, not strings', () => {
    expect(stixTimestampKey('2016-01-01T01:01:12.1Z')).toBe(stixTimestampKey('2016-01-01T01:01:12.100Z'));
    expect(stixTimestampKey('2016-01-01T01:01:12.100Z')).toBe(stixTimestampKey('2016-01-01T01:01:12.100000Z'));
    expect(compareStixTimestamps('2016-01-01T01:01:12.1Z', '2016-01-01T01:01:12.100Z')).toBe(0);
    // As strings "12.1Z" > "12.099Z" but also "12.1Z" > "12.0999Z"; and "12.1Z" > "12.10001Z" is wrong.
    expect(compareStixTimestamps('2016-01-01T01:01:12.1Z', '2016-01-01T01:01:12.10001Z')).toBe(-1);
    expect(compareStixTimestamps('2016-01-01T01:01:12.9Z', '2016-01-01T01:01:13Z')).toBe(-1);
    expect(compareStixTimestamps('2016-01-01T01:01:13.000Z', '2016-01-01T01:01:12.999999999Z')).toBe(1);
  });

  it('version key order agrees with instant order (property)', () => {
    // Arbitrary instants with nanosecond digits written at random precision (>= what they need).
    const instant = fc.record({
      seconds: fc.integer({ min: -62_167_219_200, max: 253_402_300_799 }), // years 0000..9999
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
      extraZeros: fc.integer({ min: 0, max: 3 }),
    });
    const write = ({ seconds, nanos, extraZeros }: { seconds: number; nanos: number; extraZeros: number }) => {
      let frac = String(nanos).padStart(9, '0').replace(/0+$/, '');
      frac += '0'.repeat(extraZeros);
      const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
      return frac ? `${iso}.${frac}Z` : `${iso}Z`;
    };
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const ka = stixTimestampKey(write(a));
        const kb = stixTimestampKey(write(b));
        expect(ka).not.toBeNull();
        expect(kb).not.toBeNull();
        const byInstant = Math.sign(a.seconds - b.seconds || a.nanos - b.nanos);
        const byKey = (ka as string) < (kb as string) ? -1 : (ka as string) > (kb as string) ? 1 : 0;
        expect(byKey).toBe(byInstant);
        expect(compareStixTimestamps(write(a), write(b))).toBe(byInstant);
      }),
      { numRuns: 2000 },
    );
  });
});
