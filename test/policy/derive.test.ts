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

  const STATEMENT: StixObject = {
    type: 'marking-definition',
    spec_version: '2.1',
    id: 'marking-definition--00000000-0000-4000-8000-000000000001',
    created: '2020-01-01T00:00:00.000Z',
    definition_type: 'statement',
    definition: { statement: 'Copyright' },
  };
  const marked = (refs: string[]): StixObject => ({
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--00000000-0000-4000-8000-000000000002',
    created: '2020-01-01T00:00:00.000Z',
    modified: '2020-01-01T00:00:00.000Z',
    pattern: "[ipv4-addr:value = '192.0.2.1']",
    pattern_type: 'stix',
    valid_from: '2020-01-01T00:00:00.000Z',
    object_marking_refs: refs,
  });

  it('an unmarked statement marking definition is public (CLEAR), like the TLP definitions', () => {
    expect(versionFacts(STATEMENT, DEFAULT_NODE_POLICY).tlp).toEqual({ kind: 'tlp', level: 'clear' });
  });

  it('a marked statement definition keeps its own markings', () => {
    const facts = versionFacts({ ...STATEMENT, object_marking_refs: [AMBER_DEFINITION.id] }, DEFAULT_NODE_POLICY);
    expect(facts.tlp).toEqual({ kind: 'tlp', level: 'amber' });
  });

  it('a known statement marking restricts nobody: an object marked only with it counts as unmarked (default TLP)', () => {
    const facts = versionFacts(marked([STATEMENT.id]), DEFAULT_NODE_POLICY, new Set([STATEMENT.id]));
    expect(facts.tlp).toEqual({ kind: 'unmarked' });
    expect(facts.rank).toBe(2); // the default TLP, AMBER
  });

  it('a known statement beside a TLP marking leaves the TLP marking in force', () => {
    const facts = versionFacts(
      marked([STATEMENT.id, 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da']),
      DEFAULT_NODE_POLICY,
      new Set([STATEMENT.id]),
    );
    expect(facts.tlp).toEqual({ kind: 'tlp', level: 'green' });
  });

  it('a marking the node cannot resolve still fails closed', () => {
    const facts = versionFacts(marked([STATEMENT.id]), DEFAULT_NODE_POLICY);
    expect(facts.tlp).toEqual({ kind: 'unknown', markings: [STATEMENT.id] });
    expect(facts.rank).toBe(5);
  });
});
