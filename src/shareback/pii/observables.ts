/**
 * The threat itself: observables in free text (URLs, domains, IP addresses, hashes, CVE and
 * ATT&CK ids, wallet addresses …) that detectors must never read as personal data, and the
 * values an object is about (its pattern's literals, SCO `value`s, hashes) against which a
 * finding that merely repeats the object's subject is dropped.
 */
import type { Range } from './types.ts';

/** defanged dots: `evil[.]com`, `evil(.)com`, `evil[dot]com` */
const DOT = String.raw`(?:\.|\[\.\]|\(\.\)|\[dot\])`;
const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;

const URL_PATTERN = /\b(?:https?|hxxps?|h\[xx\]ps?|ftp|sftp|wss?|smb|file)(?::|\[:\]):?\/\/[^\s<>"'`]+/giu;
const hasUrl = (t: string) => t.includes('//');

/**
 * Each pattern finds one family of observables; its gate is a cheap test without which the
 * pattern cannot match (most strings skip most patterns). They run on the original text; the
 * ranges are masked before the detectors of numbers, addresses and names run.
 */
const OBSERVABLE_PATTERNS: ReadonlyArray<{ readonly pattern: RegExp; readonly gate: (text: string) => boolean }> = [
  // URLs, defanged schemes included (hxxp, [:]//)
  { pattern: URL_PATTERN, gate: hasUrl },
  // IPv4 (defanged dots, port, CIDR)
  {
    pattern: new RegExp(String.raw`(?<![\d.])(?:${OCTET}${DOT}){3}${OCTET}(?::\d{1,5})?(?:\/\d{1,2})?(?![\d]|\.\d)`, 'g'),
    gate: (t) => /\d(?:\.|\[\.\]|\(\.\)|\[dot\])\d/.test(t),
  },
  // IPv6: with '::' or all eight groups
  {
    pattern: /(?<![\w:])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4})(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
    gate: (t) => t.includes('::') || /(?:[0-9A-Fa-f]{1,4}:){7}/.test(t),
  },
  // domain names (labels of any case, a lower- or upper-case TLD; defanged dots), with port and path
  {
    pattern: new RegExp(
      String.raw`(?<![\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?${DOT})+(?:[a-z][a-z0-9-]{0,22}[a-z]|[A-Z]{2,24})(?::\d{1,5})?(?:\/[^\s<>"'\`]*)?(?![\w@-])`,
      'g',
    ),
    gate: (t) => /[A-Za-z0-9](?:\.|\[\.\]|\(\.\)|\[dot\])[A-Za-z]/.test(t),
  },
  // hashes: MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 (a digit-heavy hash can pass Luhn)
  {
    pattern:
      /(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{128}|[0-9A-Fa-f]{96}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{56}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Za-z])/g,
    gate: (t) => /[0-9A-Fa-f]{32}/.test(t),
  },
  // other long lower-case hex tokens with letters and digits (imphash prefixes, ids, keys)
  { pattern: /(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{16,}(?![0-9A-Za-z])/g, gate: (t) => /[0-9a-f]{16}/.test(t) },
  // 0x… constants, Ethereum addresses
  { pattern: /\b0x[0-9A-Fa-f]+\b/g, gate: (t) => t.includes('0x') },
  // ssdeep-like fuzzy hashes: blocksize:chunk:chunk
  { pattern: /\b\d{1,6}:[A-Za-z0-9/+]{6,}:[A-Za-z0-9/+]{3,}/g, gate: (t) => /\d:[A-Za-z0-9/+]{6}/.test(t) },
  // vulnerability and weakness ids
  {
    pattern: /\b(?:CVE-\d{4}-\d{4,7}|CWE-\d{1,5}|CAPEC-\d{1,5}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|MS\d{2}-\d{3}|KB\d{6,8})\b/gi,
    gate: (t) => /(?:CVE|CWE|CAPEC|GHSA|MS\d|KB\d)/i.test(t),
  },
  // ATT&CK ids: techniques (T1566, T1566.001), tactics, software, groups, mitigations, campaigns, data sources
  { pattern: /(?<![\w.])(?:TA\d{4}|T\d{4}(?:\.\d{3})?|[SGMC]\d{4}|DS\d{4})(?![\w])/g, gate: (t) => /[TSGMCA]\d{4}/.test(t) },
  // wallets: Bitcoin legacy/P2SH, bech32, Litecoin, Monero, Tron
  { pattern: /(?<![\w])[13][a-km-zA-HJ-NP-Z1-9]{25,34}(?![\w])/g, gate: (t) => /[13][a-km-zA-HJ-NP-Z1-9]{25}/.test(t) },
  { pattern: /(?<![\w])(?:bc1|tb1|ltc1)[02-9ac-hj-np-z]{11,87}(?![\w])/g, gate: (t) => /(?:bc1|tb1|ltc1)/.test(t) },
  { pattern: /(?<![\w])[LM][a-km-zA-HJ-NP-Z1-9]{26,33}(?![\w])/g, gate: (t) => /[LM][a-km-zA-HJ-NP-Z1-9]{26}/.test(t) },
  { pattern: /(?<![\w])[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?![\w])/g, gate: (t) => t.length >= 95 && /[1-9A-HJ-NP-Za-km-z]{93}/.test(t) },
  { pattern: /(?<![\w])T[1-9A-HJ-NP-Za-km-z]{33}(?![\w])/g, gate: (t) => /T[1-9A-HJ-NP-Za-km-z]{33}/.test(t) },
  // MAC addresses
  { pattern: /(?<![\w:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])/g, gate: (t) => /[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]/.test(t) },
  // Windows paths and registry keys: user folders and numbered keys are the host's, not a person's data
  { pattern: /\b(?:[A-Za-z]:\\|\\\\|HK(?:LM|CU|CR|U|CC|EY_[A-Z_]+)\\)[^\s"'<>|]*/g, gate: (t) => t.includes('\\') },
  // Unix paths
  {
    pattern: /(?<![\w/])\/(?:etc|tmp|var|usr|home|opt|dev|proc|bin|sbin|root|lib|Users|Library|private|data)\/[^\s"'<>]*/g,
    gate: (t) => t.includes('/'),
  },
];

function rangesOf(text: string, patterns: typeof OBSERVABLE_PATTERNS): Range[] {
  const ranges: Range[] = [];
  for (const { pattern, gate } of patterns) {
    if (!gate(text)) continue;
    for (const m of text.matchAll(pattern)) {
      // sentence punctuation after a URL or path is not part of it
      const value = m[0].replace(/[.,;:!?)\]]+$/, '');
      if (value.length > 0) ranges.push({ start: m.index, end: m.index + value.length });
    }
  }
  return ranges;
}

export function observableRanges(text: string): Range[] {
  return rangesOf(text, OBSERVABLE_PATTERNS);
}

export function urlRanges(text: string): Range[] {
  return rangesOf(text, OBSERVABLE_PATTERNS.slice(0, 1));
}

/** A character no detector reads as part of a number, an address, a name or a separator. */
const MASK = '\u0000';

/** The text with every range replaced by MASK characters: same length, same offsets. */
export function maskRanges(text: string, ranges: readonly Range[]): string {
  if (ranges.length === 0) return text;
  const chars = text.split('');
  for (const r of ranges) for (let i = r.start; i < r.end; i++) chars[i] = MASK;
  return chars.join('');
}

/** A value the object is about, normalized for comparison with a finding's text. */
export interface Subjects {
  /** lower-cased strings: pattern literals, SCO values, hashes */
  readonly values: ReadonlySet<string>;
  /** the digits of every phone-like value (digits and separators only, at least 7 digits): x-phone literals */
  readonly digits: ReadonlySet<string>;
}

/** String literals of a STIX pattern: `[email-addr:value = 'a@b.example']` gives `a@b.example`. */
export function patternLiterals(pattern: string): string[] {
  const out: string[] = [];
  for (const m of pattern.matchAll(/'((?:[^'\\]|\\.)*)'/g)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

export function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}

/** What an object (and the cyber observables embedded in it) is about. */
export function subjectsOf(object: Record<string, unknown>): Subjects {
  const raw: string[] = [];
  const visit = (o: Record<string, unknown>) => {
    if (typeof o.pattern === 'string') raw.push(...patternLiterals(o.pattern));
    if (typeof o.value === 'string') raw.push(o.value);
    if (o.hashes && typeof o.hashes === 'object') {
      for (const h of Object.values(o.hashes as Record<string, unknown>)) if (typeof h === 'string') raw.push(h);
    }
  };
  visit(object);
  if (object.type === 'observed-data' && object.objects && typeof object.objects === 'object') {
    for (const sco of Object.values(object.objects as Record<string, unknown>)) {
      if (sco && typeof sco === 'object') visit(sco as Record<string, unknown>);
    }
  }
  const values = new Set<string>();
  const digits = new Set<string>();
  for (const v of raw) {
    const value = v.trim().toLowerCase();
    if (value === '') continue;
    values.add(value);
    const d = digitsOf(value);
    if (d.length >= 7 && /^[+\d\s().\-/]+$/.test(value)) digits.add(d);
  }
  return { values, digits };
}
