/**
 * US Social Security numbers: AAA-GG-SSSS with dashes or spaces, in the ranges the SSA issues
 * (area 001–899 except 666, group 01–99, serial 0001–9999). Nine digits without separators are
 * only a finding after an SSN word ("SSN", "social security"), since nine-digit numbers are
 * everywhere.
 */
import type { Span } from '../types.ts';

const SSN_PATTERN = /(?<![\w+.,/-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w/-]|[.,]\d)/g;
const SSN_WORD =
  /\b(?:ssn|ss#|ss no|social security(?: number| no\.?| #)?|soc\.? sec\.?(?: no\.?)?|sozialversicherungsnummer)\b[^\w\n]{0,4}(?:number|no\.?|#)?[^\w\n]{0,3}$/i;

export function ssnInRange(area: number, group: number, serial: number): boolean {
  return area >= 1 && area <= 899 && area !== 666 && group >= 1 && serial >= 1;
}

export function findSsns(masked: string): Span[] {
  const spans: Span[] = [];
  for (const m of masked.matchAll(SSN_PATTERN)) {
    if (!ssnInRange(Number(m[1]), Number(m[3]), Number(m[4]))) continue;
    if (m[2] === '' && !SSN_WORD.test(masked.slice(Math.max(0, m.index - 40), m.index))) continue;
    spans.push({ kind: 'ssn', start: m.index, end: m.index + m[0].length });
  }
  return spans;
}
