/**
 * The scanner: which properties (properties.ts), what in them (detectors/), minus the threat
 * itself (observables.ts). Pure: reads the object, never changes it, does no I/O.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { findCards } from './detectors/card.ts';
import { findEmails } from './detectors/email.ts';
import { findIbans } from './detectors/iban.ts';
import { findPersonNames, personLikeLogin, surnameFirstName } from './detectors/person.ts';
import { findPhones } from './detectors/phone.ts';
import { findPostalAddresses } from './detectors/postal.ts';
import { findSsns } from './detectors/ssn.ts';
import { maskRanges, observableRanges, subjectsOf, urlRanges, type Subjects } from './observables.ts';
import { scannedProperties, THREAT_TYPES, type Reading } from './properties.ts';
import { overlaps, type Finding, type PiiKind, type Span } from './types.ts';

export interface ScanContext {
  /**
   * Names of threats elsewhere in the same bundle (malware, actors, tools …): mentions of them
   * are not person names. scanObjects() collects them itself.
   */
  readonly threatNames?: readonly string[];
  /** region for phone numbers written in national format (default `US`) */
  readonly phoneRegion?: CountryCode;
}

/**
 * When two findings of different kinds overlap, the earlier kind in this list stays: checked
 * numbers before loose ones, addresses before the names inside them ("Martin Luther King Jr
 * Blvd").
 */
const PRECEDENCE: readonly PiiKind[] = ['credit_card', 'iban', 'ssn', 'email', 'phone', 'postal_address', 'person_name'];

function resolve(spans: readonly Span[]): Span[] {
  const ordered = [...spans].sort((a, b) => PRECEDENCE.indexOf(a.kind) - PRECEDENCE.indexOf(b.kind) || a.start - b.start);
  const kept: Span[] = [];
  for (const s of ordered) {
    const clash = kept.findIndex((k) => overlaps(k, s));
    if (clash < 0) kept.push(s);
    else if (kept[clash]?.kind === s.kind) {
      const k = kept[clash] as Span;
      kept[clash] = { kind: s.kind, start: Math.min(k.start, s.start), end: Math.max(k.end, s.end) };
    }
  }
  return kept.sort((a, b) => a.start - b.start || a.end - b.end);
}

interface Env {
  /** computed on first use: most strings have no address or number to compare */
  readonly subjects: () => Subjects;
  readonly threatNames: readonly string[];
  readonly phoneRegion: CountryCode | undefined;
}

function wholeValue(value: string, kind: PiiKind): Span[] {
  const start = value.length - value.trimStart().length;
  const end = value.trimEnd().length;
  return end > start ? [{ kind, start, end }] : [];
}

/** Personal data in one string, read as `reading`. */
function scanString(value: string, reading: Reading, env: Env): Span[] {
  if (reading === 'individual-name') return /\p{L}/u.test(value) ? wholeValue(value, 'person_name') : [];
  const emails = value.includes('@') ? findEmails(value, env.subjects(), urlRanges(value)) : NO_EMAILS;
  const masked = maskRanges(value, [...observableRanges(value), ...emails.all]);
  const spans: Span[] = [...emails.findings];
  // phone numbers have at least 7 digits, SSNs 9, cards 13, and every address form has one
  const digits = countDigits(masked, 13);
  if (digits >= 13) spans.push(...findCards(masked));
  if (digits >= 9) spans.push(...findSsns(masked));
  if (digits >= 7) spans.push(...findPhones(masked, env.subjects(), { region: env.phoneRegion }));
  if (digits >= 2) spans.push(...findIbans(masked));
  if (digits >= 1) spans.push(...findPostalAddresses(masked));
  if (reading !== 'threat-name') spans.push(...findPersonNames(masked, { threatNames: env.threatNames }));
  if (reading === 'display-name' && surnameFirstName(value)) spans.push(...wholeValue(value, 'person_name'));
  if (reading === 'account-login' && emails.all.length === 0 && personLikeLogin(value)) spans.push(...wholeValue(value, 'person_name'));
  return resolve(spans);
}

const NO_EMAILS = { findings: [], all: [] } as const;

/** Digits in `text`, counted up to `enough`. */
function countDigits(text: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < text.length && n < enough; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** The object's own threat names: `name` and `aliases` of malware, actors, tools … */
export function ownThreatNames(object: Record<string, unknown>): string[] {
  if (!THREAT_TYPES.has(String(object.type))) return [];
  const names: string[] = [];
  if (typeof object.name === 'string') names.push(object.name);
  if (Array.isArray(object.aliases)) for (const a of object.aliases) if (typeof a === 'string') names.push(a);
  return names;
}

/**
 * Personal data in one STIX object: one finding per span, ordered by property then position.
 * A non-object (or an object without scanned properties) has none.
 */
export function scanObject(object: unknown, context: ScanContext = {}): Finding[] {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return [];
  const o = object as Record<string, unknown>;
  let subjects: Subjects | undefined;
  const env: Env = {
    subjects: () => (subjects ??= subjectsOf(o)),
    threatNames: [...ownThreatNames(o), ...(context.threatNames ?? [])],
    phoneRegion: context.phoneRegion,
  };
  const findings: Finding[] = [];
  for (const property of scannedProperties(o)) {
    for (const span of scanString(property.value, property.reading, env)) findings.push({ path: property.path, ...span });
  }
  return findings;
}

export interface ObjectFindings {
  readonly id: string;
  readonly findings: Finding[];
}

/**
 * Scans a batch (a bundle's objects) with the threat names of the whole batch, so a report
 * naming "Maksim Yakubets" next to a threat-actor object of that name does not flag it.
 */
export function scanObjects(objects: readonly unknown[], context: Omit<ScanContext, 'threatNames'> = {}): ObjectFindings[] {
  const threatNames = objects.flatMap((o) => (o && typeof o === 'object' ? ownThreatNames(o as Record<string, unknown>) : []));
  return objects.map((o) => ({
    id: o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string' ? (o as { id: string }).id : '',
    findings: scanObject(o, { ...context, threatNames }),
  }));
}
