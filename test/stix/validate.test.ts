import { describe, expect, it } from 'vitest';
import { isIdentifier, validateObject, type Validation } from '../../src/stix/validate.ts';
import { UNVERSIONED } from '../../src/stix/types.ts';

const T = '2020-01-01T00:00:00.000Z';
const T2 = '2021-06-01T12:00:00.000Z';
const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const TLP_RED = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';

function sdo(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type,
    spec_version: '2.1',
    id: `${type}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`,
    created: T,
    modified: T,
    ...extra,
  };
}

const indicator = (extra: Record<string, unknown> = {}) =>
  sdo('indicator', { pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: T, ...extra });
const relationship = (extra: Record<string, unknown> = {}) =>
  sdo('relationship', {
    relationship_type: 'indicates',
    source_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
    target_ref: 'malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b',
    ...extra,
  });
const ipv4 = (extra: Record<string, unknown> = {}) => ({
  type: 'ipv4-addr',
  id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
  value: '198.51.100.3',
  ...extra,
});

function without(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = o;
  return rest;
}

function rejected(v: Validation): string {
  if (v.ok) throw new Error(`expected a rejection, got a valid ${v.value.type}`);
  return v.reason;
}

function accepted(v: Validation) {
  if (!v.ok) throw new Error(`expected acceptance, got: ${v.reason}`);
  return v.value;
}

describe('identifiers', () => {
  it('must be <type>--<UUID> with the prefix equal to the type', () => {
    expect(isIdentifier('indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f')).toBe(true);
    expect(isIdentifier('indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', 'indicator')).toBe(true);
    expect(isIdentifier('indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', 'malware')).toBe(false);
    expect(isIdentifier('indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f')).toBe(false);
    expect(isIdentifier('indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f')).toBe(false);
    expect(isIdentifier('indicator--not-a-uuid')).toBe(false);
    expect(isIdentifier('--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f')).toBe(false);
    expect(isIdentifier(42)).toBe(false);

    expect(rejected(validateObject(indicator({ id: 'indicator--1234' })))).toMatch(/invalid id/);
    expect(rejected(validateObject(indicator({ id: 'malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' })))).toMatch(
      /does not start with its type 'indicator--'/,
    );
    expect(rejected(validateObject(without(indicator(), 'id')))).toMatch(/'id'/);
    expect(rejected(validateObject(without(indicator(), 'type')))).toMatch(/'type'/);
    expect(rejected(validateObject(indicator({ type: 'Indicator' })))).toMatch(/invalid type/);
  });

  it('rejects bundles and non-objects', () => {
    expect(rejected(validateObject({ type: 'bundle', id: 'bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', objects: [] }))).toMatch(
      /bundle is not a STIX object/,
    );
    expect(rejected(validateObject(null))).toMatch(/not a JSON object/);
    expect(rejected(validateObject([indicator()]))).toMatch(/not a JSON object/);
    expect(rejected(validateObject('indicator'))).toMatch(/not a JSON object/);
  });
});

describe('spec_version', () => {
  const BOTH = new Set(['2.0', '2.1'] as const);
  const ONLY_20 = new Set(['2.0'] as const);

  it('missing on an SDO or SRO is STIX 2.0: a 2.1-only collection refuses it, saying so', () => {
    const r1 = validateObject(without(indicator(), 'spec_version'));
    expect(rejected(r1)).toBe(
      "missing required property 'spec_version' (without it the object is STIX 2.0): this collection accepts STIX 2.1 only",
    );
    expect(rejected(validateObject(without(relationship(), 'spec_version')))).toMatch(/STIX 2\.0/);
    expect(r1.ok ? undefined : r1.id).toBe(indicator().id);
  });

  it('"2.0" is refused where only 2.1 is accepted; values other than 2.0 and 2.1 everywhere', () => {
    expect(rejected(validateObject(indicator({ spec_version: '2.0' })))).toBe('STIX 2.0 object: this collection accepts STIX 2.1 only');
    expect(rejected(validateObject(ipv4({ spec_version: '2.0' })))).toMatch(/STIX 2\.0 object: this collection accepts STIX 2\.1 only/);
    for (const bad of ['2.2', '2', 2.1, '']) {
      expect(rejected(validateObject(indicator({ spec_version: bad }), { accept: BOTH }))).toMatch(
        /^unsupported spec_version '.*': STIX 2\.1 and 2\.0 are known$/,
      );
    }
  });

  it('STIX 2.1 objects are refused by a collection that accepts 2.0 only', () => {
    expect(rejected(validateObject(indicator(), { accept: ONLY_20 }))).toBe('STIX 2.1 object: this collection accepts STIX 2.0 only');
    expect(rejected(validateObject(ipv4(), { accept: ONLY_20 }))).toBe('STIX 2.1 object: this collection accepts STIX 2.0 only');
  });

  it('SCOs may omit it (they default to 2.1)', () => {
    const v = accepted(validateObject(ipv4()));
    expect(v.specVersion).toBe('2.1');
    expect(v.category).toBe('sco');
    expect(v.version).toBe(UNVERSIONED);
  });
});

describe('timestamps', () => {
  it('created and modified must be RFC 3339', () => {
    expect(rejected(validateObject(indicator({ created: '2022-101-27T13:49:54.326Z' })))).toMatch(
      /invalid timestamp in 'created': '2022-101-27T13:49:54.326Z'/,
    );
    expect(rejected(validateObject(indicator({ modified: '2020-01-01 00:00:00.000Z' })))).toMatch(/invalid timestamp in 'modified'/);
    expect(rejected(validateObject(indicator({ modified: '2020-01-01T00:00:00.000+01:00' })))).toMatch(/invalid timestamp in 'modified'/);
    expect(rejected(validateObject(indicator({ created: 1577836800000 })))).toMatch(/'created'/);
  });

  it('created and modified need at least millisecond precision', () => {
    expect(rejected(validateObject(indicator({ created: '2020-01-01T00:00:00Z', modified: T2 })))).toMatch(
      /invalid timestamp in 'created'/,
    );
    expect(rejected(validateObject(indicator({ modified: '2021-01-01T00:00:00.1Z' })))).toMatch(/invalid timestamp in 'modified'/);
    accepted(validateObject(indicator({ created: '2020-01-01T00:00:00.000001Z', modified: '2020-01-01T00:00:00.0000011Z' })));
  });

  it('other timestamp properties are checked for form, not precision', () => {
    accepted(validateObject(indicator({ valid_from: '2020-01-01T00:00:00Z' })));
    expect(rejected(validateObject(indicator({ valid_from: '2020-01-01' })))).toMatch(/invalid timestamp in 'valid_from'/);
    expect(rejected(validateObject(indicator({ valid_until: 'never' })))).toMatch(/'valid_until'/);
  });

  it('modified may not be earlier than created, compared as instants', () => {
    expect(rejected(validateObject(indicator({ created: T2, modified: T })))).toMatch(/earlier than 'created'/);
    // "…12.1Z" and "…12.100Z" are the same instant: fine either way round
    const v = accepted(validateObject(indicator({ created: '2020-01-01T00:00:12.100Z', modified: '2020-01-01T00:00:12.1000Z' })));
    expect(v.versionKey).toBe('2020-01-01T00:00:12.100000000Z');
    accepted(validateObject(indicator({ created: '2020-01-01T00:00:12.1000Z', modified: '2020-01-01T00:00:12.100Z' })));
    // as strings "12.1001Z" < "12.100Z" would be wrong; as instants it is later
    accepted(validateObject(indicator({ created: '2020-01-01T00:00:12.100Z', modified: '2020-01-01T00:00:12.1001Z' })));
    // as strings "12.999Z" > "13.000Z" is false anyway; but 9.9Z vs 10.000Z on the minute boundary:
    expect(rejected(validateObject(indicator({ created: '2020-01-01T00:01:00.000Z', modified: '2020-01-01T00:00:59.999Z' })))).toMatch(
      /earlier/,
    );
  });

  it('the version is modified as written, the version key its instant', () => {
    const v = accepted(validateObject(indicator({ modified: '2021-06-01T12:00:00.123Z' })));
    expect(v.version).toBe('2021-06-01T12:00:00.123Z');
    expect(v.versionKey).toBe('2021-06-01T12:00:00.123000000Z');
  });
});

describe('required properties', () => {
  it('SDOs need type, spec_version, id, created and modified', () => {
    for (const key of ['created', 'modified', 'spec_version']) {
      expect(rejected(validateObject(without(sdo('campaign', { name: 'c' }), key)))).toMatch(new RegExp(`'${key}'`));
    }
    const v = accepted(validateObject(sdo('campaign', { name: 'c' })));
    expect(v.category).toBe('sdo');
  });

  it('SROs need their links: relationship_type, source_ref, target_ref; sighting_of_ref', () => {
    accepted(validateObject(relationship()));
    for (const key of ['relationship_type', 'source_ref', 'target_ref']) {
      expect(rejected(validateObject(without(relationship(), key)))).toBe(`missing required property '${key}'`);
    }
    expect(rejected(validateObject(relationship({ target_ref: 'malware' })))).toMatch(/invalid reference in 'target_ref'/);
    const sighting = sdo('sighting', { sighting_of_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' });
    expect(accepted(validateObject(sighting)).category).toBe('sro');
    expect(rejected(validateObject(without(sighting, 'sighting_of_ref')))).toBe("missing required property 'sighting_of_ref'");
  });

  it('opinions need the opinion and what it is about', () => {
    const opinion = sdo('opinion', { opinion: 'agree', object_refs: ['indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f'] });
    accepted(validateObject(opinion));
    expect(rejected(validateObject(without(opinion, 'opinion')))).toBe("missing required property 'opinion'");
    expect(rejected(validateObject(without(opinion, 'object_refs')))).toBe("missing required property 'object_refs'");
  });

  it('SCOs need only type and id; created/modified are not required', () => {
    expect(
      accepted(validateObject({ type: 'domain-name', id: 'domain-name--dd2a7c8d-9d5a-5fe8-9d8e-0d86a5f9b1f0', value: 'example.com' }))
        .category,
    ).toBe('sco');
    expect(rejected(validateObject(ipv4({ modified: 'yesterday' })))).toMatch(/'modified'/);
  });

  it('marking-definition: created required, modified not; definition unless extensions', () => {
    const tlp = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP_GREEN,
      created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp',
      name: 'TLP:GREEN',
      definition: { tlp: 'green' },
    };
    const v = accepted(validateObject(tlp));
    expect(v.category).toBe('meta');
    expect(v.version).toBe('2017-01-20T00:00:00.000Z');
    expect(rejected(validateObject(without(tlp, 'created')))).toMatch(/'created'/);
    expect(rejected(validateObject(without(tlp, 'definition')))).toMatch(/'definition_type' and 'definition'/);
    expect(rejected(validateObject(without(tlp, 'definition_type')))).toMatch(/'definition_type' and 'definition'/);
    accepted(
      validateObject({
        ...without(without(tlp, 'definition'), 'definition_type'),
        extensions: {
          'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: 'green' },
        },
      }),
    );
    // unversioned, so its created need not have millisecond digits (MITRE's statement marking)
    accepted(validateObject({ ...tlp, created: '2017-06-01T00:00:00Z' }));
    expect(rejected(validateObject({ ...tlp, created: '2017-06-01' }))).toMatch(/invalid timestamp in 'created'/);
  });

  it('extension-definition and language-content need their own properties', () => {
    const ext = sdo('extension-definition', {
      created_by_ref: 'identity--b38dfe21-7477-40d1-aa90-5c8671ce51ca',
      name: 'x',
      schema: 'https://example.org/schema.json',
      version: '1.0.0',
      extension_types: ['new-sdo'],
    });
    expect(accepted(validateObject(ext)).category).toBe('meta');
    for (const key of ['created_by_ref', 'name', 'schema', 'version', 'extension_types']) {
      expect(rejected(validateObject(without(ext, key)))).toBe(`missing required property '${key}'`);
    }
    const lc = sdo('language-content', { object_ref: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f', contents: { de: { name: 'x' } } });
    accepted(validateObject(lc));
    expect(rejected(validateObject(without(lc, 'object_ref')))).toBe("missing required property 'object_ref'");
    expect(rejected(validateObject(without(lc, 'contents')))).toBe("missing required property 'contents'");
  });

  it('descriptive required properties that real feeds omit pass through (malware is_family, vulnerability name)', () => {
    accepted(validateObject(sdo('malware', { name: 'Rover' }))); // no is_family
    accepted(validateObject(sdo('vulnerability', { external_references: [{ source_name: 'cve', external_id: 'CVE-2015-2808' }] })));
    accepted(validateObject(sdo('report', { published: T })));
    accepted(validateObject({ type: 'network-traffic', id: 'network-traffic--a5b3dc59-35ad-5731-bae9-48f078efdea6', dst_port: 80 }));
  });

  it('open vocabularies and custom properties pass', () => {
    accepted(
      validateObject(
        sdo('identity', { name: 'x', identity_class: 'class', sectors: ['finance-sector', 'Utilities'], x_opencti_aliases: ['y'] }),
      ),
    );
    accepted(validateObject(indicator({ indicator_types: ['something-new'], pattern_type: 'kql' })));
  });

  it('common properties are type-checked: revoked, confidence, property names', () => {
    expect(rejected(validateObject(indicator({ revoked: 'yes' })))).toMatch(/'revoked' must be a boolean/);
    expect(rejected(validateObject(indicator({ confidence: 101 })))).toMatch(/'confidence'/);
    expect(rejected(validateObject(indicator({ confidence: 50.5 })))).toMatch(/'confidence'/);
    accepted(validateObject(indicator({ confidence: 0, revoked: true })));
    expect(rejected(validateObject(indicator({ 'x-bad': 1 })))).toMatch(/invalid property name 'x-bad'/);
    expect(rejected(validateObject(indicator({ xy: 1 })))).toMatch(/invalid property name 'xy'/);
    expect(rejected(validateObject(indicator({ created_by_ref: 'nobody' })))).toMatch(/'created_by_ref'/);
  });
});

describe('markings', () => {
  it('object_marking_refs must be a non-empty list of marking-definition ids', () => {
    accepted(validateObject(indicator({ object_marking_refs: [TLP_GREEN, TLP_RED] })));
    expect(rejected(validateObject(indicator({ object_marking_refs: [] })))).toMatch(/non-empty list/);
    expect(rejected(validateObject(indicator({ object_marking_refs: TLP_GREEN })))).toMatch(/non-empty list/);
    expect(rejected(validateObject(indicator({ object_marking_refs: ['identity--34098fce-860f-48ae-8e50-ebd3cc5e41da'] })))).toMatch(
      /invalid marking reference 'identity--/,
    );
    expect(rejected(validateObject(indicator({ object_marking_refs: ['TLP:GREEN'] })))).toMatch(/invalid marking reference/);
  });

  it('a marking-definition may not mark itself', () => {
    const md = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP_GREEN,
      created: T,
      definition_type: 'statement',
      definition: { statement: 'x' },
    };
    expect(rejected(validateObject({ ...md, object_marking_refs: [TLP_GREEN] }))).toMatch(/itself/);
  });

  it('granular markings need exactly one of marking_ref and lang, and non-empty selectors', () => {
    accepted(
      validateObject(
        indicator({
          granular_markings: [
            { marking_ref: TLP_RED, selectors: ['description'] },
            { lang: 'de', selectors: ['name'] },
          ],
        }),
      ),
    );
    expect(rejected(validateObject(indicator({ granular_markings: [{ marking_ref: TLP_RED, lang: 'en', selectors: ['name'] }] })))).toMatch(
      /exactly one of 'marking_ref' and 'lang'/,
    );
    expect(rejected(validateObject(indicator({ granular_markings: [{ selectors: ['name'] }] })))).toMatch(/exactly one/);
    expect(rejected(validateObject(indicator({ granular_markings: [{ marking_ref: TLP_RED, selectors: [] }] })))).toMatch(
      /non-empty 'selectors'/,
    );
    expect(rejected(validateObject(indicator({ granular_markings: [{ marking_ref: TLP_RED }] })))).toMatch(/'selectors'/);
    expect(rejected(validateObject(indicator({ granular_markings: [{ marking_ref: TLP_RED, selectors: [1] }] })))).toMatch(/'selectors'/);
    expect(rejected(validateObject(indicator({ granular_markings: [{ marking_ref: 'tlp-red', selectors: ['name'] }] })))).toMatch(
      /invalid marking reference 'tlp-red' in 'granular_markings'/,
    );
    expect(rejected(validateObject(indicator({ granular_markings: [] })))).toMatch(/non-empty list/);
    expect(rejected(validateObject(indicator({ granular_markings: ['x'] })))).toMatch(/entries must be objects/);
  });
});

describe('custom object types pass through', () => {
  it('x-… types with created are versioned like SDOs', () => {
    const v = accepted(validateObject(sdo('x-mitre-tactic', { name: 'Collection', x_mitre_shortname: 'collection' })));
    expect(v.category).toBe('custom-sdo');
    expect(v.version).toBe(T);
  });

  it("extension-defined types (attack-flow's attack-action) pass, their properties untouched", () => {
    const action = sdo('attack-action', {
      name: 'Spearphishing',
      technique_id: 'T1566',
      extensions: { 'extension-definition--fb9c968a-745b-4ade-9b25-c324172197f4': { extension_type: 'new-sdo' } },
    });
    const v = accepted(validateObject(action));
    expect(v.category).toBe('custom-sdo');
    expect(v.object).toBe(action);
    // still held to the common rules
    expect(rejected(validateObject(without(action, 'spec_version')))).toMatch(/STIX 2\.0/);
  });

  it('custom SCOs without created are unversioned; their property names are their extension’s business', () => {
    const hook = {
      type: 'windows-hook',
      id: 'windows-hook--1e114dc8-aec0-4507-9e56-8078464a6274',
      'win-hook-type': 'WH_KEYBOARD_LL',
      extensions: { 'extension-definition--b8bf4445-a56c-468d-8b57-1d15f74776c6': { extension_type: 'new-sco' } },
    };
    const v = accepted(validateObject(hook));
    expect(v.category).toBe('custom-sco');
    expect(v.version).toBe(UNVERSIONED);
  });
});
