/**
 * Payment card numbers: 13–19 digits, written whole or in the groups cards print (4-4-4-4,
 * 4-6-5 …) with one kind of separator, starting with a card network's issuer prefix at a length
 * that network issues, and passing the Luhn check. The prefix test matters: one random digit
 * run in ten passes Luhn.
 */
import type { Span } from '../types.ts';
import { luhnValid } from './checksums.ts';

const CARD_PATTERN = /(?<![\w+.,/-])\d(?:[ -]?\d){12,18}(?![\w/-]|[.,]\d)/g;

interface Network {
  readonly name: string;
  readonly prefix: (digits: string) => boolean;
  readonly lengths: readonly number[];
}

const between = (digits: string, width: number, low: number, high: number) => {
  const p = Number(digits.slice(0, width));
  return p >= low && p <= high;
};

const NETWORKS: readonly Network[] = [
  { name: 'visa', prefix: (d) => d.startsWith('4'), lengths: [13, 16, 19] },
  { name: 'mastercard', prefix: (d) => between(d, 2, 51, 55) || between(d, 4, 2221, 2720), lengths: [16] },
  { name: 'amex', prefix: (d) => d.startsWith('34') || d.startsWith('37'), lengths: [15] },
  {
    name: 'discover',
    prefix: (d) => d.startsWith('6011') || d.startsWith('65') || between(d, 3, 644, 649) || between(d, 6, 622126, 622925),
    lengths: [16, 17, 18, 19],
  },
  { name: 'jcb', prefix: (d) => between(d, 4, 3528, 3589), lengths: [16, 17, 18, 19] },
  {
    name: 'diners',
    prefix: (d) => between(d, 3, 300, 305) || d.startsWith('36') || d.startsWith('38') || d.startsWith('39'),
    lengths: [14, 15, 16, 17, 18, 19],
  },
  { name: 'unionpay', prefix: (d) => d.startsWith('62'), lengths: [16, 17, 18, 19] },
  { name: 'mir', prefix: (d) => between(d, 4, 2200, 2204), lengths: [16, 17, 18, 19] },
  {
    name: 'maestro',
    prefix: (d) => ['5018', '5020', '5038', '5893', '6304', '6759', '6761', '6762', '6763'].some((p) => d.startsWith(p)),
    lengths: [13, 14, 15, 16, 17, 18, 19],
  },
];

export function cardNetwork(digits: string): string | null {
  for (const n of NETWORKS) if (n.lengths.includes(digits.length) && n.prefix(digits)) return n.name;
  return null;
}

/** Groups as printed on cards: fours (the last one shorter), or 4-6-5 / 4-6-4 (Amex, Diners). */
function printedGrouping(groups: readonly string[]): boolean {
  if (groups.length === 1) return true;
  const sizes = groups.map((g) => g.length);
  if (sizes.slice(0, -1).every((s) => s === 4) && (sizes.at(-1) ?? 0) <= 4) return true;
  return sizes.length === 3 && sizes[0] === 4 && sizes[1] === 6 && (sizes[2] === 5 || sizes[2] === 4);
}

export function findCards(masked: string): Span[] {
  const spans: Span[] = [];
  for (const m of masked.matchAll(CARD_PATTERN)) {
    const text = m[0];
    const separators = new Set(text.match(/[ -]/g) ?? []);
    if (separators.size > 1) continue;
    const groups = text.split(/[ -]/);
    if (!printedGrouping(groups)) continue;
    const digits = groups.join('');
    if (cardNetwork(digits) === null || !luhnValid(digits)) continue;
    spans.push({ kind: 'credit_card', start: m.index, end: m.index + text.length });
  }
  return spans;
}
