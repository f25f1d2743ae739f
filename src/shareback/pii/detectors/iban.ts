/**
 * IBANs: a country code, two check digits and the country's BBAN, of exactly the length the
 * IBAN registry (SWIFT, ISO 13616) gives that country, written compact or in groups separated by
 * single spaces, passing the mod-97 check.
 */
import type { Span } from '../types.ts';
import { ibanMod97Valid } from './checksums.ts';

/** IBAN length per country, from the SWIFT IBAN registry. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

const START = /(?<![A-Za-z0-9])([A-Z]{2})\d{2}/g;

const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export function findIbans(masked: string): Span[] {
  const spans: Span[] = [];
  for (const m of masked.matchAll(START)) {
    const length = IBAN_LENGTHS[m[1] as string];
    if (length === undefined) continue;
    // collect `length` alphanumerics, allowing one space between groups
    let i = m.index;
    let compact = '';
    while (i < masked.length && compact.length < length) {
      const c = masked.charCodeAt(i);
      if (isAlnum(c)) {
        compact += masked[i];
        i++;
      } else if (c === 32 && compact.length >= 4 && i + 1 < masked.length && isAlnum(masked.charCodeAt(i + 1))) {
        i++;
      } else break;
    }
    if (compact.length !== length) continue;
    if (i < masked.length && isAlnum(masked.charCodeAt(i))) continue;
    if (!ibanMod97Valid(compact.toUpperCase())) continue;
    spans.push({ kind: 'iban', start: m.index, end: i });
  }
  return spans;
}
