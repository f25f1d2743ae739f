import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toAudience, type AudienceContext } from '../../src/shareback/anonymize.ts';
import { AUDIENCES, attributionFor } from '../../src/shareback/consent.ts';
import { selectorResolves } from '../../src/shareback/parts.ts';
import { scanObject } from '../../src/shareback/pii/index.ts';
import { reviewDecision } from '../../src/shareback/review.ts';
import { MEMBER_TOKEN } from '../../src/shareback/scrub.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { validateObject } from '../../src/stix/validate.ts';
import { NAMESPACES, RELAY, strings, TLP_AMBER } from './fixtures.ts';

const MEMBER_IDS = ['identity--a0000000-0000-4000-8000-000000000001', 'identity--a0000000-0000-4000-8000-000000000002'];
const OTHER_IDENTITY = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';
const FILLER = ['phishing', 'kit', 'seen', 'by', 'the', 'SOC', 'login', 'wave', 'of', 'credential', 'theft', 'bank', 'staff'];

const word = fc.stringMatching(/^[A-Z][a-z]{3,8}$/);
/** a member: one or two words, its first word as alias */
const memberArb = fc.tuple(word, fc.option(word, { nil: undefined })).map(([a, b]) => ({
  name: b === undefined ? a : `${a} ${b}`,
  aliases: b === undefined ? [] : [a],
  identityIds: MEMBER_IDS,
}));

/** Text mixing filler, the member's names in any case and spacing, longer words that contain them, and its ids. */
function textArb(member: { name: string; aliases: string[] }): fc.Arbitrary<string> {
  const names = [member.name, ...member.aliases];
  const piece = fc.oneof(
    fc.constantFrom(...FILLER),
    fc
      .constantFrom(...names)
      .chain((n) => fc.constantFrom(n, n.toUpperCase(), n.toLowerCase(), n.replace(' ', '_'), n.replace(' ', '-'), `${n}'s`, `(${n})`)),
    fc.constantFrom(...names).map((n) => `${n.split(' ')[0]}ware`),
    fc.constantFrom(...MEMBER_IDS),
  );
  return fc.array(piece, { minLength: 1, maxLength: 8 }).chain((pieces) => fc.constantFrom(' ', ', ', '; ').map((sep) => pieces.join(sep)));
}

interface Generated {
  member: { name: string; aliases: string[]; identityIds: string[] };
  object: StixObject;
}

const objectArb: fc.Arbitrary<Generated> = memberArb.chain((member) => {
  const text = textArb(member);
  const reference = fc.record(
    {
      source_name: fc.oneof(fc.constant('vendor'), text),
      description: text,
      url: fc.constantFrom('https://vendor.example/r/1', `https://portal.${member.name.split(' ')[0]?.toLowerCase()}.example/t/9`),
      external_id: fc.constantFrom('CAPEC-98', `${member.name.split(' ')[0]?.toUpperCase()}-7`),
    },
    { requiredKeys: ['source_name', 'description'] },
  );
  return fc
    .record({
      creator: fc.constantFrom(...MEMBER_IDS, OTHER_IDENTITY, undefined),
      name: text,
      description: text,
      labels: fc.array(text, { minLength: 1, maxLength: 4 }),
      refs: fc.array(reference, { minLength: 1, maxLength: 4 }),
      custom: fc.record({ owner: text, notes: fc.array(text, { minLength: 1, maxLength: 3 }) }),
      patternNamesMember: fc.boolean(),
      marked: fc.subarray(
        [
          'name',
          'description',
          'labels.[0]',
          'x_case.owner',
          'x_case.notes.[0]',
          'external_references.[0].description',
          'external_references.[1]',
        ],
        {
          minLength: 1,
        },
      ),
    })
    .map((g) => {
      const host = g.patternNamesMember ? `${member.name.split(' ')[0]?.toLowerCase()}.example` : 'evil.test';
      const object: Record<string, unknown> = {
        type: 'indicator',
        spec_version: '2.1',
        id: 'indicator--c0000000-0000-4000-8000-000000000001',
        created: '2024-03-01T10:00:00.000Z',
        modified: '2024-03-02T10:00:00.000Z',
        ...(g.creator === undefined ? {} : { created_by_ref: g.creator }),
        name: g.name,
        description: g.description,
        pattern: `[domain-name:value = 'login.${host}']`,
        pattern_type: 'stix',
        valid_from: '2024-03-01T10:00:00Z',
        labels: g.labels,
        external_references: g.refs,
        x_case: g.custom,
      };
      const selectors = g.marked.filter((s) => selectorResolves(object, s));
      if (selectors.length > 0) object.granular_markings = [{ marking_ref: TLP_AMBER, selectors }];
      return { member, object: object as StixObject };
    });
});

/**
 * An oracle independent of the scrubber: lower-case, separators and the token blanked, then a
 * plain search for each name with no letter or digit beside it.
 */
function mentions(text: string, member: { name: string; aliases: string[]; identityIds: string[] }): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ');
  const t = ` ${norm(text.split(MEMBER_TOKEN).join(' '))} `;
  for (const name of [member.name, ...member.aliases].map(norm)) {
    for (let at = t.indexOf(name); at >= 0; at = t.indexOf(name, at + 1)) {
      if (!/[a-z0-9]/.test(t[at - 1] ?? '') && !/[a-z0-9]/.test(t[at + name.length] ?? '')) return true;
    }
  }
  return member.identityIds.some((id) => text.toLowerCase().includes(id));
}

function contextFor(
  member: Generated['member'],
  consent: 'none' | 'usg' | 'everyone',
  audience: (typeof AUDIENCES)[number],
): AudienceContext {
  return { member, consent, audience, relay: RELAY, namespaces: NAMESPACES };
}

const consentArb = fc.constantFrom('none' as const, 'usg' as const, 'everyone' as const);
const audienceArb = fc.constantFrom(...AUDIENCES);

describe('anonymization, for any object and member', () => {
  it('leaves no mention of the member outside the IOC values it reports, and keeps the object valid', () => {
    fc.assert(
      fc.property(objectArb, consentArb, audienceArb, ({ member, object }, consent, audience) => {
        const out = toAudience({ object }, contextFor(member, consent, audience));
        if (attributionFor(consent, audience) === 'attributed') {
          expect(out).toEqual({ kind: 'forward', object, remaining: [] });
          return;
        }
        if (out.kind === 'drop') throw new Error('an indicator is never dropped');
        const result = out.object;
        expect(validateObject(result).ok).toBe(true);
        for (const g of result.granular_markings ?? []) for (const s of g.selectors) expect(selectorResolves(result, s)).toBe(true);
        expect(result.pattern).toBe(object.pattern);
        const leaks = strings(result).filter((s) => !s.path.startsWith('.pattern') && mentions(s.text, member));
        expect(leaks).toEqual([]);
        expect(out.remaining).toEqual(mentions(String(object.pattern), member) ? ['pattern'] : []);
        if (out.kind === 'reissue') expect(result.created_by_ref).toBe(RELAY.id);
        else expect(MEMBER_IDS).not.toContain(object.created_by_ref);
      }),
      { numRuns: 300 },
    );
  });

  it('is a function of its input: two runs with fresh state agree', () => {
    fc.assert(
      fc.property(objectArb, audienceArb, ({ member, object }, audience) => {
        const a = toAudience({ object }, contextFor(member, 'none', audience));
        const b = toAudience({ object: structuredClone(object) }, contextFor(structuredClone(member), 'none', audience));
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { numRuns: 100 },
    );
  });
});

const PII = ['Reported by Maria Garcia', 'mail maria.garcia@gmail.com', 'call +44 20 7946 0958', 'SSN 123-45-6789'];

describe('field review, for any object with personal data in optional properties', () => {
  it('releases a valid object without any of it, with its markings still pointing at present content', () => {
    const arb = fc.record({
      description: fc.option(fc.constantFrom(...PII), { nil: undefined }),
      labels: fc.array(fc.constantFrom('phishing', ...PII), { minLength: 1, maxLength: 3 }),
      refs: fc.array(
        fc.record({
          source_name: fc.constantFrom('a', 'b'),
          description: fc.constantFrom('vendor report', ...PII),
          url: fc.option(fc.constant('https://v.example/r'), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      note: fc.option(fc.constantFrom(...PII), { nil: undefined }),
      marked: fc.subarray([
        'description',
        'labels.[0]',
        'external_references.[0].description',
        'external_references.[1].url',
        'external_references.[2]',
        'x_note',
        'name',
      ]),
    });
    fc.assert(
      fc.property(arb, (g) => {
        const object: Record<string, unknown> = {
          type: 'indicator',
          spec_version: '2.1',
          id: 'indicator--c0000000-0000-4000-8000-000000000001',
          created: '2024-03-01T10:00:00.000Z',
          modified: '2024-03-02T10:00:00.000Z',
          name: 'Phishing kit',
          pattern: "[domain-name:value = 'evil.test']",
          pattern_type: 'stix',
          valid_from: '2024-03-01T10:00:00Z',
          ...(g.description === undefined ? {} : { description: g.description }),
          labels: g.labels,
          external_references: g.refs.map((r) => (r.url === undefined ? { source_name: r.source_name, description: r.description } : r)),
          ...(g.note === undefined ? {} : { x_note: g.note }),
        };
        const selectors = g.marked.filter((s) => selectorResolves(object, s));
        if (selectors.length > 0) object.granular_markings = [{ marking_ref: TLP_AMBER, selectors }];
        const findings = scanObject(object);
        const decision = reviewDecision(object as StixObject, findings);
        if (findings.length === 0) {
          expect(decision.kind).toBe('release-whole');
          return;
        }
        if (decision.kind !== 'release-without') throw new Error(`expected release-without: ${JSON.stringify(decision)}`);
        const partial = decision.release.object;
        expect(validateObject(partial).ok).toBe(true);
        expect(scanObject(partial)).toEqual([]);
        for (const m of partial.granular_markings ?? []) for (const s of m.selectors) expect(selectorResolves(partial, s)).toBe(true);
        // a marked property nobody flagged keeps its marking
        if (selectors.includes('name')) expect(partial.granular_markings?.[0]?.selectors).toContain('name');
        expect(partial.pattern).toBe(object.pattern);
      }),
      { numRuns: 150 },
    );
  });
});
