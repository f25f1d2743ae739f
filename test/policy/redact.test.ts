import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA } from '../support/data.ts';
import { redact, type MemberProfile } from '../../src/policy/index.ts';
import type { StixObject } from '../../src/stix/types.ts';

const member = (tlpCeiling: MemberProfile['tlpCeiling']): MemberProfile => ({
  memberId: 'm',
  sectors: [],
  unscoped: true,
  tlpCeiling,
  consent: 'none',
});

// The only granular-marking sample in the shared data: GREEN, AMBER and RED on parts of one indicator.
const bundle = JSON.parse(readFileSync(join(DATA, 'oasis-cti-documentation/using-granular-markings.json'), 'utf8')) as {
  objects: StixObject[];
};
const indicator = bundle.objects.find((o) => o.granular_markings) as StixObject;

describe('granular marking redaction', () => {
  it('the sample indicator really carries granular markings', () => {
    expect(indicator.granular_markings?.length).toBeGreaterThan(0);
  });

  it('removes properties marked above the ceiling and keeps the rest', () => {
    const object: StixObject = {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
      created: '2016-04-06T20:03:48.000Z',
      modified: '2016-04-06T20:03:48.000Z',
      pattern: "[ipv4-addr:value = '10.0.0.1']",
      pattern_type: 'stix',
      valid_from: '2016-04-06T20:03:48.000Z',
      description: 'seen at victim X',
      name: 'bad ip',
      granular_markings: [
        { marking_ref: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', selectors: ['description'] },
        { marking_ref: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', selectors: ['name'] },
      ],
    };
    const r = redact(object, member('green'));
    expect(r.kind).toBe('redacted');
    if (r.kind !== 'redacted') return;
    expect(r.removed).toEqual(['description']);
    expect(r.object.description).toBeUndefined();
    expect(r.object.name).toBe('bad ip');
    expect(r.object.granular_markings).toEqual([object.granular_markings?.[1]]);
    expect(redact(object, member('amber')).kind).toBe('whole');
  });

  it('withholds the object when a required property would be removed', () => {
    const r = redact(indicator, member('green'));
    // The sample marks parts of the indicator RED; whichever properties those are, either they
    // are optional (redacted) or required (withheld) — never served whole to a GREEN member.
    expect(r.kind).not.toBe('whole');
    const object: StixObject = {
      ...indicator,
      granular_markings: [{ marking_ref: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', selectors: ['pattern'] }],
    };
    const withheld = redact(object, member('amber'));
    expect(withheld).toEqual({ kind: 'withheld', because: expect.stringMatching(/required pattern/) });
  });

  it('an unknown granular marking removes what it marks (fail closed)', () => {
    const object = {
      ...indicator,
      granular_markings: [{ marking_ref: 'marking-definition--00000000-0000-4000-8000-000000000000', selectors: ['description'] }],
      description: 'x',
    } as StixObject;
    const r = redact(object, member('amber'));
    expect(r.kind).toBe('redacted');
  });

  describe('nested selectors remove the whole top-level property they point into', () => {
    const AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
    const RED = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const STATEMENT = 'marking-definition--00000000-0000-4000-8000-00000000000a';
    const nested: StixObject = {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--1f7e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
      created: '2016-04-06T20:03:48.000Z',
      modified: '2016-04-06T20:03:48.000Z',
      pattern: "[ipv4-addr:value = '10.0.0.1']",
      pattern_type: 'stix',
      valid_from: '2016-04-06T20:03:48.000Z',
      name: 'bad ip',
      labels: ['victim: ACME payroll server', 'c2'],
      indicator_types: ['malicious-activity', 'attribution'],
      external_references: [{ source_name: 'internal', url: 'https://wiki.acme.example/incident/42' }],
      granular_markings: [
        { marking_ref: AMBER, selectors: ['labels.[0]'] },
        { marking_ref: RED, selectors: ['indicator_types.[1]'] },
        { marking_ref: AMBER, selectors: ['external_references.[0].url'] },
      ],
    };

    it('a GREEN member loses labels, indicator_types and external_references', () => {
      const r = redact(nested, member('green'));
      expect(r.kind).toBe('redacted');
      if (r.kind !== 'redacted') return;
      expect(r.removed).toEqual(['external_references', 'indicator_types', 'labels']);
      expect(JSON.stringify(r.object)).not.toContain('ACME');
      expect(JSON.stringify(r.object)).not.toContain('attribution');
      expect(r.object.granular_markings).toBeUndefined();
      expect(r.object.name).toBe('bad ip');
    });

    it('an AMBER member keeps the AMBER-marked lists and loses the RED-marked one', () => {
      const r = redact(nested, member('amber'));
      expect(r.kind).toBe('redacted');
      if (r.kind !== 'redacted') return;
      expect(r.removed).toEqual(['indicator_types']);
      expect(r.object.labels).toEqual(nested.labels);
      expect(r.object.external_references).toEqual(nested.external_references);
      expect(r.object.granular_markings).toEqual([nested.granular_markings?.[0], nested.granular_markings?.[2]]);
    });

    it('a known statement marking on a nested selector restricts nobody; unknown it fails closed', () => {
      const object: StixObject = { ...nested, granular_markings: [{ marking_ref: STATEMENT, selectors: ['labels.[1]'] }] };
      expect(redact(object, member('clear'), new Map(), new Set([STATEMENT]))).toEqual({ kind: 'whole' });
      const unknown = redact(object, member('amber'));
      expect(unknown.kind === 'redacted' && unknown.removed).toEqual(['labels']);
    });
  });
});
