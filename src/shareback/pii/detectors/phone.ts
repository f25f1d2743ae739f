/**
 * Phone numbers, found and validated by libphonenumber-js (Google's libphonenumber metadata,
 * "max" set so that validity is checked against each country's real number ranges).
 *
 * Region handling: a number written internationally (`+44 …`, or with the `00`/`011` prefix)
 * is recognised for every country. A number written nationally has no country, so one default
 * region applies (`US` unless told otherwise): national formats of other countries are not
 * recognised, because with their loose national plans (DE, FR …) almost any run of 7–11 digits
 * is "valid" and ticket numbers, sizes and timestamps would be flagged.
 *
 * Not findings: a national number without space, dot, dash or parentheses (a bare digit run,
 * or "22/5900/8080", a list of ports) unless a phone word precedes it ("tel",
 * "call" …), toll-free, premium-rate and shared-cost numbers (businesses, not people), numbers
 * the text calls the threat ("vishing callback"), and the object's own subject (an `x-phone`
 * pattern literal, say).
 */
import { findPhoneNumbersInText, type CountryCode, type NumberType } from 'libphonenumber-js/max';
import { clauseBefore, nearestCue, PERSON_CUES, THREAT_CUES, threatApposition } from '../cues.ts';
import { digitsOf, type Subjects } from '../observables.ts';
import type { Span } from '../types.ts';

const NOT_PERSONAL: ReadonlySet<NumberType> = new Set<NumberType>(['TOLL_FREE', 'PREMIUM_RATE', 'SHARED_COST']);
const PHONE_WORD = /\b(?:tel|telephone|phone|ph|call|mobile|cell|fax|whatsapp|signal|sms|text)\b[^\w\n]{0,4}$/i;
/** a region whose international call prefix is 00 (most of the world), to read `0049 …` */
const IDD_00_REGION: CountryCode = 'GB';

export interface PhoneOptions {
  /** region for numbers written in national format (default `US`) */
  readonly region?: CountryCode;
}

interface Match {
  start: number;
  end: number;
  e164: string;
  type: NumberType | undefined;
}

function matches(text: string, region: CountryCode): Match[] {
  const out: Match[] = [];
  for (const m of findPhoneNumbersInText(text, { defaultCountry: region })) {
    let end = m.endsAt;
    // the matcher sometimes runs on over ", 06" after a number: cut at the first list separator
    // when the part before it is the same number
    const raw = text.slice(m.startsAt, end);
    const cut = raw.search(/[,;]\s/);
    if (cut > 0) {
      const again = findPhoneNumbersInText(raw.slice(0, cut), { defaultCountry: region });
      if (again[0] && again[0].number.number === m.number.number) end = m.startsAt + again[0].endsAt;
    }
    out.push({ start: m.startsAt, end, e164: m.number.number, type: m.number.getType() });
  }
  return out;
}

export function findPhones(masked: string, subjects: Subjects, options: PhoneOptions = {}): Span[] {
  const region = options.region ?? 'US';
  const found = matches(masked, region);
  if (/(?<![\d+])00[1-9]/.test(masked)) {
    for (const m of matches(masked, IDD_00_REGION)) {
      if (masked.startsWith('00', m.start) && !found.some((f) => f.start === m.start)) found.push(m);
    }
  }

  const spans: Span[] = [];
  for (const m of found) {
    const text = masked.slice(m.start, m.end);
    const international = text.startsWith('+') || text.startsWith('00') || text.startsWith('011');
    const before = clauseBefore(masked, m.start);
    // "tel." ends with a period, so the phone word is looked for in the raw text before the number
    if (!international && !/[\s().-]/.test(text) && !PHONE_WORD.test(masked.slice(Math.max(0, m.start - 16), m.start))) continue;
    if (m.type !== undefined && NOT_PERSONAL.has(m.type)) continue;
    if (isSubject(m.e164, subjects)) continue;
    if (nearestCue(before, THREAT_CUES, PERSON_CUES) === 'threat' || threatApposition(masked, m.end)) continue;
    spans.push({ kind: 'phone', start: m.start, end: m.end });
  }
  return spans;
}

function isSubject(e164: string, subjects: Subjects): boolean {
  const d = digitsOf(e164);
  for (const s of subjects.digits) if (d.endsWith(s) || s.endsWith(d.slice(-10))) return true;
  return false;
}
