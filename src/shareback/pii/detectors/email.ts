/**
 * E-mail addresses of people. Not findings: role mailboxes of organizations (abuse@, soc@ …),
 * the object's own subject (an address in its pattern or SCO value), addresses inside a URL,
 * and senders the text itself calls the threat ("phishing sent from x@y", "x@y (the sender)").
 */
import { clauseBefore, nearestCue, PERSON_CUES, THREAT_CUES, threatApposition } from '../cues.ts';
import type { Subjects } from '../observables.ts';
import type { Range, Span } from '../types.ts';
import { overlaps } from '../types.ts';

export const EMAIL_PATTERN =
  /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;

/**
 * Local parts (or their first word) that name a function, not a person. Role mailboxes reach
 * whoever holds the role; sharing them is how incident response works.
 */
const ROLE_WORDS = new Set(
  `abuse accounts admin administrator alerts alert billing bounce bounces cert contact csirt cyber
  cti dmarc do-not-reply donotreply dpo enquiries enquiry feedback finance hello help helpdesk
  hostmaster hr incident incidents info infosec intel ir isac it itsupport legal list mailer-daemon
  marketing media newsletter no-reply noc noreply notification notifications office ops orders
  payroll phishing postmaster press privacy psirt reception reports report root sales secops
  security service servicedesk soc spam support sysadmin team threatintel vulnerability webmaster`
    .split(/\s+/)
    .filter(Boolean),
);

export function isRoleMailbox(address: string): boolean {
  const local = (address.split('@')[0] ?? '').toLowerCase().replace(/\+.*$/, '');
  if (ROLE_WORDS.has(local)) return true;
  const first = local.split(/[._-]/)[0] ?? '';
  return ROLE_WORDS.has(first);
}

export interface EmailScan {
  /** addresses of people */
  readonly findings: Span[];
  /** every address found, findings or not (masked before the other detectors run) */
  readonly all: Range[];
}

export function findEmails(text: string, subjects: Subjects, urls: readonly Range[]): EmailScan {
  const findings: Span[] = [];
  const all: Range[] = [];
  if (!text.includes('@')) return { findings, all };
  for (const m of text.matchAll(EMAIL_PATTERN)) {
    const range = { start: m.index, end: m.index + m[0].length };
    all.push(range);
    const address = m[0].toLowerCase();
    if (isRoleMailbox(address)) continue;
    if (subjects.values.has(address)) continue;
    if (urls.some((u) => overlaps(u, range))) continue;
    if (nearestCue(clauseBefore(text, range.start), THREAT_CUES, PERSON_CUES) === 'threat') continue;
    if (threatApposition(text, range.end)) continue;
    findings.push({ kind: 'email', ...range });
  }
  return { findings, all };
}
