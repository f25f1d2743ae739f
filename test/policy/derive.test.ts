import { describe, expect, it } from 'vitest';
import { versionFacts } from '../../src/policy/derive.ts';
import { decide } from '../../src/policy/index.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import type { StixObject } from '../../src/stix/types.ts';

const AMBER_DEFINITION: StixObject = {
  type: 'marking-definition',
  spec_version: '2.1',
  id: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  created: '2017-01-20T00:00:00.000Z',
  definition_type: 'tlp',
  name: 'TLP:AMBER',
  definition: { tlp: 'amber' },
};

describe('derived TLP of marking definitions', () => {
  it('a GREEN member receives the TLP:AMBER marking definition itself (definitions are public)', () => {
    const facts = versionFacts(AMBER_DEFINITION, DEFAULT_NODE_POLICY);
    expect(facts.tlp).toEqual({ kind: 'tlp', level: 'clear' });
    const member = { memberId: 'm', sectors: [], unscoped: true, tlpCeiling: 'green' as const, consent: 'none' as const };
    const attributes = { type: 'marking-definition', tlp: facts.tlp, sectors: [], revoked: false, granular: false };
    expect(decide(member, attributes, DEFAULT_NODE_POLICY).allow).toBe(true);
  });

  it('a statement marking definition without markings still gets the default TLP', () => {
    const statement: StixObject = {
      type: 'marking-definition',
      spec_version: '2.1',
      id: 'marking-definition--00000000-0000-4000-8000-000000000001',
      created: '2020-01-01T00:00:00.000Z',
      definition_type: 'statement',
      definition: { statement: 'Copyright' },
    };
    expect(versionFacts(statement, DEFAULT_NODE_POLICY).tlp).toEqual({ kind: 'unmarked' });
  });
});
