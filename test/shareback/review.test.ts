import { describe, expect, it } from 'vitest';
import { toAudience, type Outgoing, type Release } from '../../src/shareback/anonymize.ts';
import { AUDIENCES } from '../../src/shareback/consent.ts';
import { selectorResolves } from '../../src/shareback/parts.ts';
import { scanObject, type Finding } from '../../src/shareback/pii/index.ts';
import { laterVersion, reissuedId } from '../../src/shareback/reissue.ts';
import { approve, flaggedText, reviewDecision, type ReviewDecision } from '../../src/shareback/review.ts';
import { compareStixTimestamps } from '../../src/stix/time.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { ANONYMOUS, ATTRIBUTED, context, expectValid, indicator, MEMBER_IDENTITY, NAMESPACES, RELAY, TLP_AMBER } from './fixtures.ts';

const PERSON = 'Maria Garcia';
const MAILBOX = 'maria.garcia@gmail.com';

/** An indicator with personal data in optional properties only. */
function flaggedIndicator(extra: Record<string, unknown> = {}): StixObject {
  return indicator({
    description: `Reported by ${PERSON} (${MAILBOX}) after the phishing mail.`,
    labels: ['phishing', `victim:${PERSON}`],
    external_references: [
      { source_name: 'ticket', external_id: 'INC-1', description: `Opened by ${PERSON}` },
      { source_name: 'note', description: `Call ${PERSON} on +44 20 7946 0958` },
      { source_name: 'vendor', url: 'https://vendor.example/r/1', description: 'Vendor report' },
    ],
    x_case: { notes: ['escalated', `by ${PERSON}`], priority: 'high' },
    granular_markings: [
      { marking_ref: TLP_AMBER, selectors: ['external_references.[2].url', 'external_references.[0].description', 'x_case.priority'] },
    ],
    ...extra,
  });
}

function released(decision: ReviewDecision): Release {
  if (decision.kind !== 'release-without') throw new Error(`expected release-without, got ${JSON.stringify(decision)}`);
  return decision.release;
}

function reissued(out: Outgoing): StixObject {
  if (out.kind !== 'reissue') throw new Error(`expected a re-issue, got ${JSON.stringify(out)}`);
  expectValid(out.object);
  return out.object;
}

/** Whether any finding's text appears anywhere in the object. */
function carries(object: unknown, texts: readonly string[]): string[] {
  const json = JSON.stringify(object);
  return texts.filter((t) => json.includes(t));
}

describe('review decisions', () => {
  it('release an object without findings whole', () => {
    expect(reviewDecision(indicator(), [])).toEqual({ kind: 'release-whole' });
    expect(reviewDecision(indicator(), [], 'hold')).toEqual({ kind: 'release-whole' });
  });

  it('release an object whose findings are all optional without them, at once', () => {
    const object = flaggedIndicator();
    const findings = scanObject(object);
    expect(findings.map((f) => f.path)).toEqual([
      'description',
      'description',
      'labels[1]',
      'external_references[0].description',
      'external_references[1].description',
      'external_references[1].description',
      'x_case.notes[1]',
    ]);
    const decision = reviewDecision(object, findings);
    expect(decision).toMatchObject({
      kind: 'release-without',
      withheld: ['description', 'external_references[0].description', 'external_references[1]', 'labels', 'x_case'],
    });
    const partial = released(decision).object;
    expectValid(partial);
    expect(partial).not.toHaveProperty('description');
    expect(partial).not.toHaveProperty('labels');
    expect(partial).not.toHaveProperty('x_case');
    // a description goes alone when the reference keeps a link or id; otherwise the reference goes
    expect(partial.external_references).toEqual([
      { source_name: 'ticket', external_id: 'INC-1' },
      { source_name: 'vendor', url: 'https://vendor.example/r/1', description: 'Vendor report' },
    ]);
    // markings follow what they marked; markings of withheld parts go with them
    expect(partial.granular_markings).toEqual([{ marking_ref: TLP_AMBER, selectors: ['external_references.[1].url'] }]);
    for (const g of partial.granular_markings ?? []) for (const s of g.selectors) expect(selectorResolves(partial, s)).toBe(true);
    expect(partial.pattern).toBe(object.pattern);
    expect(scanObject(partial)).toEqual([]);
    expect(carries(partial, [PERSON, MAILBOX])).toEqual([]);
  });

  it('withhold only the flagged property of an observable embedded in observed-data', () => {
    const observed = {
      type: 'observed-data',
      spec_version: '2.1',
      id: 'observed-data--b0000000-0000-4000-8000-000000000002',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      first_observed: '2024-03-01T10:00:00Z',
      last_observed: '2024-03-01T10:00:00Z',
      number_observed: 1,
      objects: { '0': { type: 'email-addr', value: 'billing@invoices-portal.test', display_name: 'Garcia, Maria' } },
    };
    const findings = scanObject(observed);
    expect(findings.map((f) => f.path)).toEqual(['objects.0.display_name']);
    const partial = released(reviewDecision(observed, findings)).object;
    expect(partial.objects).toEqual({ '0': { type: 'email-addr', value: 'billing@invoices-portal.test' } });
    expectValid(partial);
  });

  it('hold the whole object for a finding in a required property', () => {
    const person = {
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--b0000000-0000-4000-8000-000000000004',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      name: PERSON,
      identity_class: 'individual',
      contact_information: '+44 20 7946 0958',
    };
    expect(reviewDecision(person, scanObject(person))).toEqual({ kind: 'hold', because: "personal data in required property 'name'" });
    const note = {
      type: 'note',
      spec_version: '2.1',
      id: 'note--b0000000-0000-4000-8000-000000000005',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      content: `Call ${PERSON} at ${MAILBOX}`,
      abstract: `from ${PERSON}`,
      object_refs: [indicator().id],
    };
    expect(reviewDecision(note, scanObject(note))).toEqual({ kind: 'hold', because: "personal data in required property 'content'" });
  });

  it('hold every flagged object in hold mode', () => {
    const object = flaggedIndicator();
    expect(reviewDecision(object, scanObject(object), 'hold')).toEqual({ kind: 'hold', because: 'review_mode is hold' });
  });

  it('hold a flagged observable: a partial copy could not be re-issued', () => {
    const account = {
      type: 'user-account',
      spec_version: '2.1',
      id: 'user-account--b0000000-0000-5000-8000-000000000006',
      user_id: '1001',
      display_name: 'Garcia, Maria',
    };
    const decision = reviewDecision(account, scanObject(account));
    expect(decision).toEqual({ kind: 'hold', because: 'a user-account cannot be released in part: it has no versions to re-issue' });
  });

  it('hold when a finding sits in a property the observed observable cannot do without', () => {
    const observed = {
      type: 'observed-data',
      spec_version: '2.1',
      id: 'observed-data--b0000000-0000-4000-8000-000000000002',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      first_observed: '2024-03-01T10:00:00Z',
      last_observed: '2024-03-01T10:00:00Z',
      number_observed: 1,
      objects: { '0': { type: 'software', name: 'x' } },
    };
    const finding: Finding = { path: 'objects.0.name', kind: 'person_name', start: 0, end: 1 };
    expect(reviewDecision(observed, [finding])).toEqual({
      kind: 'hold',
      because: "personal data in 'name', required in an observed software",
    });
  });
});

describe('what leaves the node while an object waits for review', () => {
  it('is a re-issued partial copy for every consent and audience, never the member’s own version', () => {
    const object = flaggedIndicator();
    const findings = scanObject(object);
    const texts = findings.map((f) => flaggedText(object, f) as string);
    expect(texts).toContain(MAILBOX);
    const release = released(reviewDecision(object, findings));
    for (const consent of ['everyone', 'usg', 'none'] as const) {
      for (const audience of AUDIENCES) {
        const copy = reissued(toAudience(release, context(consent, audience)));
        expect(copy.id).not.toBe(object.id);
        expect(copy.created_by_ref).toBe(RELAY.id);
        expect(copy.modified).toBe(object.modified);
        expect(carries(copy, texts)).toEqual([]);
      }
    }
  });

  it('keeps the member’s attribution where consented, as a reference to the original', () => {
    const object = flaggedIndicator();
    const copy = reissued(toAudience(released(reviewDecision(object, scanObject(object))), ATTRIBUTED));
    expect((copy.external_references as unknown[]).at(-1)).toEqual({
      source_name: 'Acme Bank',
      description: 'shared by Acme Bank through Example ISAC',
      external_id: object.id,
    });
    expect(copy.created_by_ref).not.toBe(MEMBER_IDENTITY);
  });
});

describe('approval', () => {
  it('after a partial release, issues the full object as the next version of the same re-issued object', () => {
    const object = flaggedIndicator();
    const findings = scanObject(object);
    const partial = reissued(toAudience(released(reviewDecision(object, findings)), ANONYMOUS));
    const approval = approve({ original: object, decision: 'release-without' });
    if (approval.kind !== 'release') throw new Error(JSON.stringify(approval));
    expect(approval.findings).toEqual(findings);
    const full = reissued(toAudience(approval.release, ANONYMOUS));
    expect(full.id).toBe(partial.id);
    expect(full.created).toBe(partial.created);
    expect(full.modified).toBe(laterVersion(object.modified as string));
    expect(compareStixTimestamps(full.modified as string, partial.modified as string)).toBe(1);
    // before the member's next version, so that one stays the newest
    expect(compareStixTimestamps(full.modified as string, '2024-03-02T10:00:00.001Z')).toBe(-1);
    expect(full.description).toBe(object.description);
    expect(full.labels).toEqual(object.labels);
    expect(full.granular_markings).toEqual(object.granular_markings);
  });

  it('with an edited text, issues the edit, and the personal data is gone when the edit removed it', () => {
    const object = flaggedIndicator();
    const edited = {
      ...object,
      description: 'Reported by a customer after the phishing mail.',
      labels: ['phishing'],
      external_references: [
        { source_name: 'ticket', external_id: 'INC-1', description: 'Opened by the customer' },
        { source_name: 'note', description: 'Call the customer' },
        (object.external_references as unknown[])[2],
      ],
      x_case: { notes: ['escalated'], priority: 'high' },
    } as StixObject;
    const approval = approve({ original: object, decision: 'release-without', edited });
    if (approval.kind !== 'release') throw new Error(JSON.stringify(approval));
    expect(approval.findings).toEqual([]);
    for (const ctx of [ANONYMOUS, ATTRIBUTED]) {
      const full = reissued(toAudience(approval.release, ctx));
      expect(full.description).toBe('Reported by a customer after the phishing mail.');
      expect(full.modified).toBe(laterVersion(object.modified as string));
      expect(full.id).toBe(reissuedId(NAMESPACES, ctx === ANONYMOUS ? 'anonymous' : 'attributed', object.id));
      expect(scanObject(full)).toEqual([]);
      expect(carries(full, [PERSON, MAILBOX])).toEqual([]);
    }
  });

  it('after a hold, releases the unedited object at the member’s version: as the member’s own where attributed', () => {
    const object = flaggedIndicator();
    const approval = approve({ original: object, decision: 'hold' });
    if (approval.kind !== 'release') throw new Error(JSON.stringify(approval));
    expect(toAudience(approval.release, ATTRIBUTED)).toEqual({ kind: 'forward', object, remaining: [] });
    const anonymous = reissued(toAudience(approval.release, ANONYMOUS));
    expect(anonymous.modified).toBe(object.modified);
  });

  it('after a hold, re-issues an edited object at the member’s version', () => {
    const object = flaggedIndicator();
    const approval = approve({
      original: object,
      decision: 'hold',
      edited: { ...object, description: 'Reported after the phishing mail.' },
    });
    if (approval.kind !== 'release') throw new Error(JSON.stringify(approval));
    const copy = reissued(toAudience(approval.release, ATTRIBUTED));
    expect(copy).toMatchObject({ modified: object.modified, description: 'Reported after the phishing mail.', created_by_ref: RELAY.id });
  });

  it('treats an edit identical to the original as no edit', () => {
    const object = flaggedIndicator();
    const approval = approve({ original: object, decision: 'hold', edited: structuredClone(object) });
    expect(approval.kind === 'release' && approval.release.changedByRelay).toBe(false);
  });

  it('refuses edits of what the object is, how it is marked or what it detects', () => {
    const object = flaggedIndicator();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ pattern: "[url:value = 'https://other.test/']" }, /changes pattern/],
      [{ id: 'indicator--c0000000-0000-4000-8000-000000000009' }, /changes id/],
      [{ object_marking_refs: undefined }, /changes object_marking_refs/],
      [{ modified: '2024-04-01T00:00:00.000Z', created_by_ref: RELAY.id }, /changes modified, created_by_ref/],
      [{ valid_from: 'yesterday' }, /not valid STIX: invalid timestamp in 'valid_from'/],
      [{ external_references: undefined }, /removes 'external_references.\[2\].url', which a granular marking selects/],
    ];
    for (const [change, reason] of cases) {
      const approval = approve({ original: object, decision: 'release-without', edited: { ...object, ...change } as StixObject });
      expect(approval.kind).toBe('invalid-edit');
      expect(approval.kind === 'invalid-edit' && approval.reason).toMatch(reason);
    }
  });

  it('refuses to edit an observable', () => {
    const account = {
      type: 'user-account',
      spec_version: '2.1',
      id: 'user-account--b0000000-0000-5000-8000-000000000006',
      user_id: '1',
      display_name: 'Garcia, Maria',
    };
    const approval = approve({ original: account, decision: 'hold', edited: { ...account, display_name: 'redacted' } });
    expect(approval).toEqual({ kind: 'invalid-edit', reason: 'a user-account cannot be edited: approve it as it is or reject it' });
    const asIs = approve({ original: account, decision: 'hold' });
    expect(asIs.kind === 'release' && toAudience(asIs.release, ANONYMOUS)).toMatchObject({ kind: 'forward', object: account });
  });

  it('is superseded when the member has sent a newer version since', () => {
    const object = flaggedIndicator();
    expect(approve({ original: object, decision: 'release-without', latestModified: '2024-03-03T00:00:00.000Z' })).toEqual({
      kind: 'superseded',
      because: "the member's version 2024-03-03T00:00:00.000Z is newer than the reviewed 2024-03-02T10:00:00.000Z",
    });
    expect(approve({ original: object, decision: 'release-without', latestModified: object.modified }).kind).toBe('release');
  });
});
