/**
 * STIX 2.0 objects, validated by STIX 2.0's rules where a collection accepts them: stored as
 * received (never rewritten into 2.1), with spec version "2.0".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentOfDocument } from '../../src/ingest/index.ts';
import type { SpecVersion } from '../../src/stix/specversion.ts';
import { validateObject, type Validation, type ValidationOptions } from '../../src/stix/validate.ts';
import { DATA } from '../support/data.ts';

const BOTH: ReadonlySet<SpecVersion> = new Set(['2.0', '2.1']);
const T = '2017-05-31T21:32:15.263Z';
const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';

/** A STIX 2.0 SDO: no spec_version. */
function sdo20(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, id: `${type}--b42378e0-f147-496f-992a-26a49705395b`, created: T, modified: T, ...extra };
}
const malware20 = (extra: Record<string, unknown> = {}) =>
  sdo20('malware', { name: 'PoisonIvy', labels: ['remote-access-trojan'], ...extra });

const check = (o: unknown, options: ValidationOptions = {}) => validateObject(o, { accept: BOTH, ...options });

function rejected(v: Validation): string {
  if (v.ok) throw new Error(`expected a rejection, got a valid ${v.value.type} (${v.value.specVersion})`);
  return v.reason;
}
function accepted(v: Validation) {
  if (!v.ok) throw new Error(`expected acceptance, got: ${v.reason}`);
  return v.value;
}

describe('a STIX 2.0 object where 2.0 is accepted', () => {
  it('is valid with spec version 2.0 and kept exactly as received', () => {
    const m = malware20({ modified: '2018-02-23T18:30:00.000Z' });
    const before = JSON.stringify(m);
    const v = accepted(check(m));
    expect(v.specVersion).toBe('2.0');
    expect(v.object).toBe(m);
    expect(JSON.stringify(v.object)).toBe(before);
    expect(v.object.spec_version).toBeUndefined();
    expect(v.version).toBe('2018-02-23T18:30:00.000Z');
    expect(v.versionKey).toBe('2018-02-23T18:30:00.000000000Z');
  });

  it('an explicit "spec_version": "2.0" is STIX 2.0 too', () => {
    expect(accepted(check(malware20({ spec_version: '2.0' }))).specVersion).toBe('2.0');
  });

  it('timestamps may have any sub-second precision (2.1 requires milliseconds on created and modified)', () => {
    for (const [created, modified] of [
      ['2017-05-31T21:32:15Z', '2017-05-31T21:32:15Z'],
      ['2017-05-31T21:32:15.2Z', '2017-05-31T21:32:15.263891Z'],
    ]) {
      const v = accepted(check(malware20({ created, modified })));
      expect(v.version).toBe(modified);
      expect(rejected(check(malware20({ created, modified, spec_version: '2.1' })))).toMatch(/invalid timestamp/);
    }
    // versions are instants: .2Z and .200Z are the same version
    expect(accepted(check(malware20({ modified: '2018-01-01T00:00:00.2Z' }))).versionKey).toBe(
      accepted(check(malware20({ modified: '2018-01-01T00:00:00.200Z' }))).versionKey,
    );
  });

  it('timestamps are still UTC RFC 3339 with a literal Z, and modified is not before created', () => {
    expect(rejected(check(malware20({ created: '2017-05-31 21:32:15Z' })))).toMatch(/invalid timestamp in 'created'/);
    expect(rejected(check(malware20({ modified: '2017-05-31T23:32:15+02:00' })))).toMatch(/invalid timestamp in 'modified'/);
    expect(rejected(check(malware20({ modified: '2017-05-31T21:32:15.262Z' })))).toBe(
      `'modified' (2017-05-31T21:32:15.262Z) is earlier than 'created' (${T})`,
    );
  });

  it('created and modified are required on every object; a marking-definition needs created only', () => {
    const { created: _c, ...noCreated } = malware20();
    const { modified: _m, ...noModified } = malware20();
    expect(rejected(check(noCreated))).toBe("missing required property 'created'");
    expect(rejected(check(noModified))).toBe("missing required property 'modified'");
  });

  it('its id ends in a version 4 UUID (2.1 allows any UUID)', () => {
    const v5 = 'malware--ff26c055-6336-5bc5-b98d-13d6226742dd';
    expect(rejected(check(malware20({ id: v5 })))).toBe(`invalid id '${v5}': STIX 2.0 identifiers end in a version 4 UUID`);
    expect(accepted(check(malware20({ id: v5, spec_version: '2.1', is_family: false }))).specVersion).toBe('2.1');
  });

  it('is never a top-level cyber observable: those live inside observed-data in STIX 2.0', () => {
    const ip = { type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-4bc5-b98d-13d6226742dd', value: '198.51.100.3' };
    expect(rejected(check({ ...ip, spec_version: '2.0' }))).toMatch(
      /^'ipv4-addr' is a cyber observable: STIX 2\.0 has no top-level observables \(they live inside an observed-data's 'objects'\)$/,
    );
    // in a STIX 2.0 bundle an observable without spec_version is 2.0 content, so refused the same way
    expect(rejected(check(ip, { inStix20Bundle: true }))).toMatch(/STIX 2\.0 has no top-level observables/);
    // outside one, STIX 2.1's rule makes it a 2.1 SCO
    expect(accepted(check(ip)).specVersion).toBe('2.1');
    // observables inside observed-data are the object's content
    const observed = sdo20('observed-data', {
      first_observed: T,
      last_observed: T,
      number_observed: 1,
      objects: { '0': { type: 'ipv4-addr', value: '198.51.100.3' } },
    });
    expect(accepted(check(observed)).specVersion).toBe('2.0');
  });

  it('a type STIX 2.1 introduced, without spec_version, is a 2.1 object that lost it: refused, saying so', () => {
    for (const type of ['note', 'opinion', 'incident', 'grouping', 'location']) {
      expect(rejected(check(sdo20(type)))).toBe(
        `'${type}' is a STIX 2.1 type: a STIX 2.1 object needs "spec_version": "2.1" (without it the object reads as STIX 2.0)`,
      );
    }
  });

  it('custom object types are allowed, with created and modified', () => {
    const v = accepted(check(sdo20('x-acme-campaign-note', { x_acme_text: 'hello' })));
    expect(v).toMatchObject({ specVersion: '2.0', category: 'custom-sdo' });
  });

  it('TLP 1.0 marking-definitions in their STIX 2.0 form (no spec_version, no modified) are valid', () => {
    const green = {
      type: 'marking-definition',
      id: TLP_GREEN,
      created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp',
      definition: { tlp: 'green' },
    };
    const v = accepted(check(green));
    expect(v).toMatchObject({ specVersion: '2.0', version: '2017-01-20T00:00:00.000Z' });
    const { definition: _d, ...noDefinition } = green;
    expect(rejected(check(noDefinition))).toBe("missing required property 'definition'");
  });

  it('relationships and sightings need what policy follows', () => {
    const rel = sdo20('relationship', {
      relationship_type: 'indicates',
      source_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
      target_ref: 'malware--b42378e0-f147-496f-992a-26a49705395b',
    });
    expect(accepted(check(rel)).specVersion).toBe('2.0');
    const { target_ref: _t, ...noTarget } = rel;
    expect(rejected(check(noTarget))).toBe("missing required property 'target_ref'");
    expect(rejected(check(sdo20('sighting')))).toBe("missing required property 'sighting_of_ref'");
    expect(rejected(check({ ...rel, source_ref: 'not-an-id' }))).toMatch(/invalid reference in 'source_ref'/);
  });

  it('markings: object_marking_refs as in 2.1; granular markings need a marking_ref (no lang in 2.0)', () => {
    expect(accepted(check(malware20({ object_marking_refs: [TLP_GREEN] }))).specVersion).toBe('2.0');
    expect(rejected(check(malware20({ object_marking_refs: [] })))).toMatch(/non-empty list/);
    const byLang = { granular_markings: [{ lang: 'en', selectors: ['name'] }] };
    expect(rejected(check(malware20(byLang)))).toBe("each STIX 2.0 granular marking needs a 'marking_ref'");
    expect(accepted(check(malware20({ ...byLang, spec_version: '2.1', is_family: false }))).specVersion).toBe('2.1');
    expect(accepted(check(malware20({ granular_markings: [{ marking_ref: TLP_GREEN, selectors: ['name'] }] }))).specVersion).toBe('2.0');
  });

  it("in a STIX 2.0 bundle, an object's own spec_version still wins", () => {
    const v = accepted(check({ ...malware20(), spec_version: '2.1', is_family: true }, { inStix20Bundle: true }));
    expect(v.specVersion).toBe('2.1');
  });
});

describe('real STIX 2.0 content', () => {
  it("python-stix2's STIX 2.0 bundle: its malware is STIX 2.0 by the bundle and valid by 2.0's rules", () => {
    const file = join(
      DATA,
      'oasis-python-stix2-filestore/stix2_data/malware/malware--b42378e0-f147-496f-992a-26a49705395b/20170531213215263882.json',
    );
    const content = contentOfDocument(JSON.parse(readFileSync(file, 'utf8')));
    expect(content.stix20Bundle).toBe(true);
    expect(content.objects).toHaveLength(1);
    const v = accepted(check(content.objects[0], { inStix20Bundle: content.stix20Bundle }));
    expect(v).toMatchObject({
      specVersion: '2.0',
      id: 'malware--b42378e0-f147-496f-992a-26a49705395b',
      version: '2017-05-31T21:32:15.263Z',
    });
    // where only 2.1 is accepted it is refused, and the reason names the bundle
    expect(rejected(validateObject(content.objects[0], { inStix20Bundle: true }))).toBe(
      "STIX 2.0 object (its bundle's spec_version is '2.0'): this collection accepts STIX 2.1 only",
    );
  });

  it("medallion's malware: the 2.0 version (no spec_version) and the 2.1 one are both valid, each in its own version", () => {
    const server = JSON.parse(readFileSync(join(DATA, 'oasis-medallion-taxii/default_data.json'), 'utf8'));
    const collection = server.trustgroup1.collections.find((c: any) => c.id === '91a7b528-80eb-42ed-a74d-c6fbd5a26116');
    const versions = collection.objects.filter((o: any) => o.id === 'malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec');
    expect(versions.map((o: any) => [accepted(check(o)).specVersion, o.modified])).toEqual([
      ['2.0', '2018-02-23T18:30:00.000Z'],
      ['2.1', '2017-01-27T13:49:53.997Z'],
    ]);
  });
});
