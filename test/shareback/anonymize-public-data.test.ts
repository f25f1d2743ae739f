/**
 * Anonymization of a real, third-party bundle (OpenCTI's test bundle): each organization in it
 * plays the sharing member in turn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchToAudience, type SharingMember } from '../../src/shareback/anonymize.ts';
import { MEMBER_TOKEN } from '../../src/shareback/scrub.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { validateObject } from '../../src/stix/validate.ts';
import { DATA } from '../support/data.ts';
import { context, RELAY, strings } from './fixtures.ts';

const bundle = JSON.parse(readFileSync(join(DATA, 'opencti-test-bundle', 'DATA-TEST-STIX2_v2.json'), 'utf8')) as { objects: StixObject[] };
// the bundle has upstream quirks (no spec_version, modified before created); the inbox would refuse those
const objects = bundle.objects.filter((o) => validateObject(o).ok);

const ANSSI: SharingMember = { name: 'ANSSI', identityIds: ['identity--7b82b010-b1c0-4dae-981f-7756374a17df'] };
const CIRCL: SharingMember = { name: 'CIRCL', identityIds: ['identity--72de07e8-e6ed-4dfe-b906-1e82fae1d132'] };

describe.each([
  ['ANSSI', ANSSI],
  ['CIRCL', CIRCL],
])('the OpenCTI test bundle shared by %s', (name, member) => {
  const anonymous = batchToAudience(
    objects.map((object) => ({ object })),
    context('none', 'peers', { member }),
  );
  const byOriginal = new Map(objects.map((o, i) => [o, anonymous.outgoing[i]]));

  it('has objects by the member to anonymize', () => {
    expect(objects.length).toBeGreaterThan(40);
    expect(anonymous.mapping.length).toBeGreaterThanOrEqual(3);
  });

  it('goes out valid, without the member’s identity or name outside IOC values, with patterns intact', () => {
    for (const [original, out] of byOriginal) {
      if (out === undefined) throw new Error('one result per object');
      if (out.kind === 'drop') continue;
      expect(validateObject(out.object).ok).toBe(true);
      expect(JSON.stringify(out.object)).not.toContain(member.identityIds[0]);
      const named = strings(out.object).filter((s) => new RegExp(`\\b${name}\\b`, 'i').test(s.text.split(MEMBER_TOKEN).join(' ')));
      expect(named.map((s) => s.path.slice(1))).toEqual(out.remaining);
      expect(out.object.pattern).toBe(original.pattern);
    }
  });

  it('drops the member’s identity and re-issues what it created', () => {
    for (const [original, out] of byOriginal) {
      if (original.id === member.identityIds[0]) expect(out?.kind).toBe('drop');
      else if (original.created_by_ref === member.identityIds[0])
        expect(out).toMatchObject({ kind: 'reissue', object: { created_by_ref: RELAY.id } });
    }
  });

  it('leaves no reference to an original that was re-issued', () => {
    const reissued = new Set(anonymous.mapping.map((m) => m.originalId));
    const dangling = anonymous.outgoing.flatMap((out) =>
      out.kind === 'drop' ? [] : strings(out.object).filter((s) => reissued.has(s.text)),
    );
    expect(dangling).toEqual([]);
  });

  it('goes out unchanged where the member consented to attribution', () => {
    const attributed = batchToAudience(
      objects.map((object) => ({ object })),
      context('everyone', 'peers', { member }),
    );
    attributed.outgoing.forEach((out, i) => expect(out.kind === 'forward' && out.object).toBe(objects[i]));
    expect(attributed.mapping).toEqual([]);
  });
});

describe('a sighting at the member in the OpenCTI bundle', () => {
  it('is a sighting at an ISAC member', () => {
    const sightingAtCircl = objects.find(
      (o) => o.type === 'sighting' && JSON.stringify(o.where_sighted_refs).includes(CIRCL.identityIds[0] as string),
    );
    expect(sightingAtCircl).toBeDefined();
    const out = batchToAudience([{ object: sightingAtCircl as StixObject }], context('usg', 'members', { member: CIRCL })).outgoing[0];
    expect(out).toMatchObject({ kind: 'reissue', object: { where_sighted_refs: [RELAY.id], created_by_ref: RELAY.id } });
  });
});
