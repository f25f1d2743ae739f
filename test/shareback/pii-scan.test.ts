import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanObjects } from '../../src/shareback/pii/index.ts';
import { scanObject } from '../../src/shareback/pii/scan.ts';
import { scannedProperties } from '../../src/shareback/pii/properties.ts';

const PERSON = 'Maria Garcia';

describe('which properties are scanned, and their paths', () => {
  it('reads prose properties, labels, external reference descriptions and x_ strings at any depth', () => {
    const report = {
      type: 'report',
      id: 'report--1',
      name: `Takeover of ${PERSON}`,
      description: `Reported by ${PERSON}.`,
      labels: ['phishing', `owner:${PERSON}`],
      external_references: [
        { source_name: 'a', url: 'https://a.example' },
        { source_name: 'b', description: `Ticket by ${PERSON}` },
      ],
      x_case: { notes: [`first`, `Call ${PERSON}`], 'full name': PERSON },
    };
    expect(scanObject(report).map((f) => f.path)).toEqual([
      'name',
      'description',
      'labels[1]',
      'external_references[1].description',
      'x_case.notes[1]',
      'x_case["full name"]',
    ]);
  });

  it('reads note content and abstract, and opinion explanation', () => {
    const note = { type: 'note', id: 'note--1', abstract: `By ${PERSON}`, content: `Contact ${PERSON}` };
    const opinion = { type: 'opinion', id: 'opinion--1', opinion: 'agree', explanation: `Checked with ${PERSON}` };
    expect(scanObject(note).map((f) => f.path)).toEqual(['content', 'abstract']);
    expect(scanObject(opinion).map((f) => f.path)).toEqual(['explanation']);
  });

  it('reads an individual’s name as a whole and their contact information', () => {
    const identity = {
      type: 'identity',
      id: 'identity--1',
      identity_class: 'individual',
      name: '  Chidubem Okeke ',
      contact_information: '+44 20 7946 0958',
    };
    expect(scanObject(identity)).toEqual([
      { path: 'name', kind: 'person_name', start: 2, end: 16 },
      { path: 'contact_information', kind: 'phone', start: 0, end: 16 },
    ]);
    // an organization's contact information is its own, not a person's
    const org = { ...identity, identity_class: 'organization', name: 'Acme Bank' };
    expect(scanObject(org)).toEqual([]);
  });

  it('reads the observables embedded in observed-data with paths through the objects dictionary', () => {
    const observed = {
      type: 'observed-data',
      id: 'observed-data--1',
      objects: {
        '0': { type: 'ipv4-addr', value: '198.51.100.7' },
        '1': { type: 'user-account', account_login: 'maria.garcia', display_name: PERSON },
        '2': { type: 'email-addr', value: 'maria.garcia@bank.example', display_name: 'Garcia, Maria' },
        '3': { type: 'user-account', account_login: 'svc_backup', display_name: 'Backup Service' },
      },
    };
    expect(scanObject(observed)).toEqual([
      { path: 'objects.1.display_name', kind: 'person_name', start: 0, end: 12 },
      { path: 'objects.1.account_login', kind: 'person_name', start: 0, end: 12 },
      { path: 'objects.2.display_name', kind: 'person_name', start: 0, end: 13 },
    ]);
  });

  it('never reads IOC values: patterns, SCO values, hashes, URLs, file names', () => {
    const indicator = {
      type: 'indicator',
      id: 'indicator--1',
      pattern: `[email-addr:value = 'maria.garcia@bank.example']`,
      pattern_type: 'stix',
    };
    const email = { type: 'email-addr', id: 'email-addr--1', value: 'maria.garcia@bank.example' };
    const file = { type: 'file', id: 'file--1', name: 'Maria Garcia CV.docx', hashes: { MD5: '44d88612fea8a8f36de82e1278abb02f' } };
    const url = { type: 'url', id: 'url--1', value: 'https://bank.example/?u=maria.garcia@bank.example' };
    for (const o of [indicator, email, file, url]) {
      expect(scannedProperties(o)).toEqual([]);
      expect(scanObject(o)).toEqual([]);
    }
  });

  it('reads a threat’s own name for numbers and addresses but never as a person', () => {
    const malware = { type: 'malware', id: 'malware--1', name: 'Maria Garcia', is_family: true };
    expect(scanObject(malware)).toEqual([]);
  });

  it('gives no findings for things that are not objects', () => {
    expect(scanObject(null)).toEqual([]);
    expect(scanObject('Maria Garcia')).toEqual([]);
    expect(scanObject([{ description: PERSON }])).toEqual([]);
    expect(scanObjects([null, 7, { type: 'note', content: PERSON }])).toEqual([
      { id: '', findings: [] },
      { id: '', findings: [] },
      { id: '', findings: [{ path: 'content', kind: 'person_name', start: 0, end: 12 }] },
    ]);
  });
});

// ---- properties over generated texts

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const octet = fc.integer({ min: 0, max: 255 });

/** observables that look like personal data: digit runs, hashes, ids, addresses of machines */
const observable = fc.oneof(
  fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
  fc.tuple(octet, octet, octet, octet, fc.integer({ min: 1, max: 65535 })).map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}:${p}`),
  hex(32),
  hex(40),
  hex(64),
  digits(32),
  digits(64),
  fc.tuple(fc.integer({ min: 1999, max: 2025 }), fc.integer({ min: 1000, max: 99999 })).map(([y, n]) => `CVE-${y}-${n}`),
  fc
    .tuple(fc.integer({ min: 1000, max: 1999 }), fc.option(fc.integer({ min: 1, max: 999 })))
    .map(([t, s]) => (s === null ? `T${t}` : `T${t}.${String(s).padStart(3, '0')}`)),
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/), fc.constantFrom('com', 'net', 'ru', 'top', 'xyz')).map(([d, t]) => `${d}.${t}`),
  fc.tuple(fc.stringMatching(/^[a-z]{3,10}$/), digits(10)).map(([d, n]) => `hxxps://${d}.example/${n}/x.php?id=${n}`),
  hex(40).map((h) => `0x${h}`),
  fc.constantFrom('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'),
  fc.array(hex(2), { minLength: 6, maxLength: 6 }).map((p) => p.join(':')),
  fc.constantFrom('abuse@bank.example', 'soc@isac.example', 'noreply@vendor.example'),
);
const glue = fc.constantFrom(' ', ', ', '; ', ' and ', ' (', ') ', '\n', ' seen at ', ' C2 ');

describe('the threat itself is never flagged', () => {
  it('finds nothing in text made only of observables', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(observable, glue), { minLength: 1, maxLength: 8 }), (parts) => {
        const description = parts.map(([o, g]) => o + g).join('');
        expect(scanObject({ type: 'report', id: 'report--1', description })).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('leaves the object unchanged and reports spans inside the scanned strings', () => {
    const text = fc.oneof(
      observable,
      fc.constantFrom(
        'Maria Garcia',
        'call +44 20 7946 0958',
        'card 4111 1111 1111 1111',
        'SSN 219-09-9999',
        'DE89 3704 0044 0532 0130 00',
        '221B Baker Street, London NW1 6XE',
      ),
      fc.string({ maxLength: 40 }),
    );
    const sentence = fc.array(text, { maxLength: 5 }).map((p) => p.join(' '));
    fc.assert(
      fc.property(sentence, sentence, fc.array(sentence, { maxLength: 3 }), (description, name, labels) => {
        const object = { type: 'report', id: 'report--1', name, description, labels, x_extra: { notes: [description] } };
        const before = structuredClone(object);
        const findings = scanObject(object);
        expect(object).toEqual(before);
        const values = new Map(scannedProperties(object).map((p) => [p.path, p.value]));
        for (const f of findings) {
          const value = values.get(f.path);
          expect(value).toBeDefined();
          expect(0 <= f.start && f.start < f.end && f.end <= (value as string).length).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
