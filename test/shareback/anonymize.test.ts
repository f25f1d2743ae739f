import { describe, expect, it } from 'vitest';
import { batchToAudience, toAudience, type Outgoing } from '../../src/shareback/anonymize.ts';
import { AUDIENCES, attributionFor } from '../../src/shareback/consent.ts';
import { reissuedId, reissueNamespaces, relayIdentity } from '../../src/shareback/reissue.ts';
import { MEMBER_TOKEN } from '../../src/shareback/scrub.ts';
import { selectorResolves } from '../../src/shareback/parts.ts';
import type { StixObject } from '../../src/stix/types.ts';
import {
  ANONYMOUS,
  ATTRIBUTED,
  context,
  expectValid,
  indicator,
  MALWARE,
  MEMBER,
  MEMBER_IDENTITY,
  MEMBER_SOC_IDENTITY,
  memberIdentity,
  NAMESPACES,
  RELAY,
  relationship,
  sighting,
  TLP_AMBER,
} from './fixtures.ts';

function reissued(out: Outgoing): StixObject {
  if (out.kind !== 'reissue') throw new Error(`expected a re-issue, got ${out.kind}: ${JSON.stringify(out)}`);
  expectValid(out.object);
  return out.object;
}

function anonymized(object: StixObject): StixObject {
  return reissued(toAudience({ object }, ANONYMOUS));
}

describe('every consent towards every audience', () => {
  for (const consent of ['everyone', 'usg', 'none'] as const) {
    for (const audience of AUDIENCES) {
      const attributed = attributionFor(consent, audience) === 'attributed';
      it(`consent ${consent} towards ${audience}: ${attributed ? 'the member’s object unchanged' : 'anonymized and re-issued'}`, () => {
        const object = indicator();
        const out = toAudience({ object }, context(consent, audience));
        if (attributed) {
          expect(out).toEqual({ kind: 'forward', object, remaining: [] });
          expect(out.kind === 'forward' && out.object).toBe(object);
        } else {
          const copy = reissued(out);
          expect(copy.created_by_ref).toBe(RELAY.id);
          expect(copy.id).toBe(reissuedId(NAMESPACES, 'anonymous', object.id));
          expect(JSON.stringify(copy)).not.toContain(MEMBER_IDENTITY);
        }
      });
    }
  }
});

describe('anonymized: the member’s identity', () => {
  it('re-issues under the relay’s identity, keeping created, modified and everything the member did not write into', () => {
    const object = indicator();
    const copy = anonymized(object);
    expect(copy).toMatchObject({
      type: 'indicator',
      created_by_ref: RELAY.id,
      created: object.created,
      modified: object.modified,
      pattern: object.pattern,
      valid_from: object.valid_from,
      object_marking_refs: object.object_marking_refs,
    });
    expect(copy.id).not.toBe(object.id);
  });

  it('gives an object the member shared without created_by_ref the relay as creator when it changes it', () => {
    const { created_by_ref: _, ...object } = indicator();
    const copy = anonymized(object as StixObject);
    expect(copy.created_by_ref).toBe(RELAY.id);
  });

  it('does not send the member’s identity objects', () => {
    expect(toAudience({ object: memberIdentity() }, ANONYMOUS)).toEqual({
      kind: 'drop',
      reason: "the member's own identity is not sent without its consent",
    });
    // another id the member is known by, and one named like the member that config does not list
    expect(toAudience({ object: memberIdentity({ id: MEMBER_SOC_IDENTITY }) }, ANONYMOUS).kind).toBe('drop');
    const unlisted = memberIdentity({ id: 'identity--a0000000-0000-4000-8000-0000000000ff', name: ' acme  bank ' });
    expect(toAudience({ object: unlisted }, ANONYMOUS).kind).toBe('drop');
    // with attribution it goes as it is
    expect(toAudience({ object: memberIdentity() }, ATTRIBUTED).kind).toBe('forward');
  });

  it('does not take a sector class or a person named like the member for the member', () => {
    const member = { name: 'Energy Co', aliases: ['Energy'], identityIds: [MEMBER_IDENTITY] };
    const sector = {
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--062f72b1-7caf-4112-ab92-6211f7e7abc8',
      created: '2020-02-23T23:40:53.576Z',
      modified: '2020-02-23T23:40:53.576Z',
      name: 'Energy',
      identity_class: 'class',
    };
    const person = { ...sector, id: 'identity--062f72b1-7caf-4112-ab92-6211f7e7abc9', identity_class: 'individual' };
    const targets = relationship(MALWARE, sector.id, { relationship_type: 'targets' });
    const { outgoing, discoveredIdentityIds } = batchToAudience([{ object: sector }, { object: person }, { object: targets }], {
      ...ANONYMOUS,
      member,
    });
    expect(discoveredIdentityIds).toEqual([]);
    // sent (their names, being the member's alias, are scrubbed like any text), not dropped
    expect(outgoing.map((o) => o.kind)).toEqual(['reissue', 'reissue', 'reissue']);
    expect(reissued(outgoing[2] as Outgoing).target_ref).toBe(reissuedId(NAMESPACES, 'anonymous', sector.id));
  });

  it('refuses a member without a name', () => {
    expect(() => toAudience({ object: indicator() }, { ...ANONYMOUS, member: { name: ' ', identityIds: [] } })).toThrow(/needs a name/);
  });

  it('keeps identities that are not the member’s: a victim named differently is only re-issued', () => {
    const victim = memberIdentity({
      id: 'identity--a0000000-0000-4000-8000-0000000000fe',
      name: 'Acmeware Ltd',
      created_by_ref: MEMBER_IDENTITY,
    });
    const copy = anonymized(victim);
    expect(copy.name).toBe('Acmeware Ltd');
  });

  it('records a sighting at the member as sighted at an ISAC member (the relay’s identity)', () => {
    const copy = anonymized(sighting());
    expect(copy.where_sighted_refs).toEqual([RELAY.id]);
    expect(copy.sighting_of_ref).toBe(indicator().id);
  });

  it('lists the relay once when a sighting names the member twice or the relay already, and re-points granular selectors', () => {
    const location = 'location--b0000000-0000-4000-8000-000000000009';
    const object = sighting({
      where_sighted_refs: [MEMBER_IDENTITY, MEMBER_SOC_IDENTITY, location],
      granular_markings: [{ marking_ref: TLP_AMBER, selectors: ['where_sighted_refs.[2]', 'where_sighted_refs.[1]'] }],
    });
    const copy = anonymized(object);
    expect(copy.where_sighted_refs).toEqual([RELAY.id, location]);
    // the location moved from [2] to [1]; the SOC entry is gone, so is its selector
    expect(copy.granular_markings).toEqual([{ marking_ref: TLP_AMBER, selectors: ['where_sighted_refs.[1]'] }]);
  });

  it('drops relationships and sightings about the member, and re-points those that target it', () => {
    const locatedAt = relationship(MEMBER_IDENTITY, 'location--b0000000-0000-4000-8000-000000000009', { relationship_type: 'located-at' });
    expect(toAudience({ object: locatedAt }, ANONYMOUS)).toMatchObject({ kind: 'drop' });
    expect(toAudience({ object: sighting({ sighting_of_ref: MEMBER_IDENTITY }) }, ANONYMOUS)).toMatchObject({ kind: 'drop' });
    const targets = relationship(MALWARE, MEMBER_IDENTITY, { relationship_type: 'targets' });
    expect(anonymized(targets)).toMatchObject({ source_ref: MALWARE, target_ref: RELAY.id });
  });

  it('replaces the member in a report’s object_refs', () => {
    const report = {
      type: 'report',
      spec_version: '2.1',
      id: 'report--f0000000-0000-4000-8000-000000000001',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      created_by_ref: MEMBER_IDENTITY,
      name: 'Phishing wave',
      published: '2024-03-01T10:00:00.000Z',
      object_refs: [MALWARE, MEMBER_IDENTITY],
    };
    expect(anonymized(report).object_refs).toEqual([MALWARE, RELAY.id]);
  });
});

describe('anonymized: the member’s name', () => {
  it('is replaced in name, description, labels and x_ strings at any depth, case-insensitively and with any spacing', () => {
    const copy = anonymized(
      indicator({
        name: 'ACME BANK credential phishing',
        labels: ['target:acme', 'acme_bank-internal', 'phishing'],
        x_case: { owner: 'Acme  Bank SOC', notes: ['escalated by acme', 'n/a'] },
      }),
    );
    expect(copy.name).toBe(`${MEMBER_TOKEN} credential phishing`);
    expect(copy.description).toBe(`Phishing pages imitating the ${MEMBER_TOKEN} login, seen by the ${MEMBER_TOKEN} SOC.`);
    expect(copy.labels).toEqual([`target:${MEMBER_TOKEN}`, `${MEMBER_TOKEN}-internal`, 'phishing']);
    expect(copy.x_case).toEqual({ owner: `${MEMBER_TOKEN} SOC`, notes: [`escalated by ${MEMBER_TOKEN}`, 'n/a'] });
  });

  it('is not found inside other words: Acmeware, Acme2, AcmeBank, pacme', () => {
    const text = 'Acmeware, Acme2, AcmeBank and pacme are other companies; Acme’s staff and (acme) are the member.';
    const copy = anonymized(indicator({ description: text }));
    expect(copy.description).toBe(
      `Acmeware, Acme2, AcmeBank and pacme are other companies; ${MEMBER_TOKEN}’s staff and (${MEMBER_TOKEN}) are the member.`,
    );
  });

  it('leaves vocabulary values alone', () => {
    const member = { name: 'Energy Co', aliases: ['Energy'], identityIds: [MEMBER_IDENTITY] };
    const victim = memberIdentity({
      id: 'identity--a0000000-0000-4000-8000-0000000000fd',
      name: 'Grid operator',
      sectors: ['energy'],
      created_by_ref: MEMBER_IDENTITY,
      description: 'Energy supplier',
    });
    const copy = reissued(toAudience({ object: victim }, { ...ANONYMOUS, member }));
    expect(copy.sectors).toEqual(['energy']);
    expect(copy.description).toBe(`${MEMBER_TOKEN} supplier`);
  });

  it('removes an x_ property whose name names the member', () => {
    const copy = anonymized(indicator({ x_acme_ticket: 'INC-2024-0042', x_case: { acme_queue: 'fraud', status: 'open' } }));
    expect(copy).not.toHaveProperty('x_acme_ticket');
    expect(copy.x_case).toEqual({ status: 'open' });
  });

  it('removes external references that name the member in their source, link or id, and scrubs the others’ descriptions', () => {
    const object = indicator({
      external_references: [
        { source_name: 'Acme internal ticketing', external_id: 'T-1' },
        { source_name: 'vendor-blog', url: 'https://vendor.example/acme-breach', description: 'x' },
        { source_name: 'vendor-report', url: 'https://vendor.example/r/1', description: 'Campaign against Acme and others' },
        { source_name: 'case', external_id: 'ACME-2024-7' },
        { source_name: 'capec', external_id: 'CAPEC-98' },
      ],
      granular_markings: [
        {
          marking_ref: TLP_AMBER,
          selectors: ['external_references.[2].url', 'external_references.[3]', 'external_references.[4].external_id'],
        },
      ],
    });
    const copy = anonymized(object);
    expect(copy.external_references).toEqual([
      { source_name: 'vendor-report', url: 'https://vendor.example/r/1', description: `Campaign against ${MEMBER_TOKEN} and others` },
      { source_name: 'capec', external_id: 'CAPEC-98' },
    ]);
    expect(copy.granular_markings).toEqual([
      { marking_ref: TLP_AMBER, selectors: ['external_references.[0].url', 'external_references.[1].external_id'] },
    ]);
    for (const g of copy.granular_markings ?? []) for (const s of g.selectors) expect(selectorResolves(copy, s)).toBe(true);
  });

  it('drops external_references and its markings when every reference named the member', () => {
    const object = indicator({
      external_references: [{ source_name: 'acmebank.example portal', url: 'https://portal.acmebank.example/t/1' }],
      granular_markings: [{ marking_ref: TLP_AMBER, selectors: ['external_references'] }],
    });
    const copy = anonymized(object);
    expect(copy).not.toHaveProperty('external_references');
    expect(copy).not.toHaveProperty('granular_markings');
  });

  it('replaces the member’s identity ids written in text', () => {
    const copy = anonymized(indicator({ description: `reported by ${MEMBER_IDENTITY.toUpperCase()}` }));
    expect(copy.description).toBe(`reported by ${RELAY.id}`);
  });
});

describe('anonymized: IOC values are never altered', () => {
  it('keeps a pattern naming the member and reports where the member is still named', () => {
    const object = indicator();
    const out = toAudience({ object }, ANONYMOUS);
    expect(reissued(out).pattern).toBe(object.pattern);
    expect(out.kind === 'reissue' && out.remaining).toEqual(['pattern']);
  });

  it('forwards an observable unchanged, with its remaining mentions', () => {
    const domain = {
      type: 'domain-name',
      spec_version: '2.1',
      id: 'domain-name--b0000000-0000-5000-8000-000000000001',
      value: 'login.acmebank.example',
    };
    expect(toAudience({ object: domain }, ANONYMOUS)).toEqual({ kind: 'forward', object: domain, remaining: ['value'] });
  });

  it('keeps observed-data objects as they are', () => {
    const observed = {
      type: 'observed-data',
      spec_version: '2.1',
      id: 'observed-data--b0000000-0000-4000-8000-000000000002',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      created_by_ref: MEMBER_IDENTITY,
      first_observed: '2024-03-01T10:00:00Z',
      last_observed: '2024-03-01T10:00:00Z',
      number_observed: 1,
      objects: { '0': { type: 'email-addr', value: 'soc@acmebank.example', display_name: 'Acme SOC' } },
    };
    const out = toAudience({ object: observed }, ANONYMOUS);
    expect(reissued(out).objects).toEqual(observed.objects);
    expect(out.kind === 'reissue' && out.remaining).toEqual(['objects.0.value', 'objects.0.display_name']);
  });
});

describe('objects without the member’s traces', () => {
  it('go out unchanged even anonymized: a third party’s object the member passed on', () => {
    const mitre = 'identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5';
    const attackPattern = {
      type: 'attack-pattern',
      spec_version: '2.1',
      id: 'attack-pattern--b0000000-0000-4000-8000-000000000003',
      created: '2020-01-01T00:00:00.000Z',
      modified: '2020-01-01T00:00:00.000Z',
      created_by_ref: mitre,
      name: 'Phishing',
    };
    const out = toAudience({ object: attackPattern }, ANONYMOUS);
    expect(out).toEqual({ kind: 'forward', object: attackPattern, remaining: [] });
  });
});

describe('deterministic re-issue', () => {
  it('yields the same object on two nodes that build their state independently', () => {
    const node = () => {
      const relay = relayIdentity({ federation: 'example-isac-federation', name: 'Example ISAC' });
      return context('none', 'peers', { relay, namespaces: reissueNamespaces('example-isac-federation') });
    };
    const a = toAudience({ object: indicator() }, node());
    const b = toAudience({ object: structuredClone(indicator()) }, node());
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('gives different objects different ids', () => {
    const a = anonymized(indicator());
    const b = anonymized(indicator({ id: 'indicator--c0000000-0000-4000-8000-000000000002' }));
    expect(a.id).not.toBe(b.id);
  });

  it('maps the member’s next version to the next version of the same re-issued object', () => {
    const v1 = indicator();
    const v2 = indicator({ modified: '2024-03-05T08:00:00.000Z', description: 'Updated: Acme Bank saw a second wave.' });
    const r1 = anonymized(v1);
    const r2 = anonymized(v2);
    expect(r2.id).toBe(r1.id);
    expect(r2.created).toBe(r1.created);
    expect(r2.modified).toBe('2024-03-05T08:00:00.000Z');
    expect(r2.description).toBe(`Updated: ${MEMBER_TOKEN} saw a second wave.`);
    // and the member's revocation revokes the re-issue
    const revoked = anonymized(indicator({ modified: '2024-03-06T08:00:00.000Z', revoked: true }));
    expect(revoked).toMatchObject({ id: r1.id, revoked: true });
  });

  it('keeps re-issuing an object once an audience received it re-issued, even when nothing needs changing', () => {
    const object = indicator();
    const before = toAudience({ object }, ATTRIBUTED);
    expect(before.kind).toBe('forward');
    const earlier = reissuedId(NAMESPACES, 'attributed', object.id);
    const lookup = (id: string, attribution: string) => (id === object.id && attribution === 'attributed' ? earlier : undefined);
    const copy = reissued(toAudience({ object }, { ...ATTRIBUTED, reissued: lookup }));
    expect(copy.id).toBe(earlier);
  });
});

describe('attributed re-issues', () => {
  it('name the relay as creator and carry the member’s attribution as an external reference to the original', () => {
    const object = indicator();
    const copy = reissued(toAudience({ object, changedByRelay: true }, ATTRIBUTED));
    expect(copy.id).toBe(reissuedId(NAMESPACES, 'attributed', object.id));
    expect(copy.created_by_ref).toBe(RELAY.id);
    expect(copy.description).toBe(object.description);
    expect(copy.external_references).toEqual([
      { source_name: 'Acme Bank', description: 'shared by Acme Bank through Example ISAC', external_id: object.id },
    ]);
  });

  it('differ in id from the anonymized re-issue of the same object', () => {
    const object = indicator();
    const attributed = reissued(toAudience({ object, changedByRelay: true }, ATTRIBUTED));
    expect(attributed.id).not.toBe(anonymized(object).id);
  });
});

describe('references across a batch', () => {
  it('point a relationship from the member’s indicator at the re-issued indicator', () => {
    const ind = indicator();
    const rel = relationship(ind.id, MALWARE);
    const { outgoing, mapping } = batchToAudience([{ object: ind }, { object: rel }], ANONYMOUS);
    const [i, r] = outgoing.map(reissued);
    expect(r?.source_ref).toBe(i?.id);
    expect(r?.target_ref).toBe(MALWARE);
    expect(mapping).toEqual([
      { originalId: ind.id, reissuedId: i?.id, attribution: 'anonymous' },
      { originalId: rel.id, reissuedId: r?.id, attribution: 'anonymous' },
    ]);
  });

  it('follow re-issues through chains, whatever the order of the batch', () => {
    // attributed: only the indicator must change (review withheld a field); the relationship
    // pointing at it and the report listing the relationship follow it
    const ind = indicator();
    const rel = relationship(ind.id, MALWARE);
    const report = {
      type: 'report',
      spec_version: '2.1',
      id: 'report--f0000000-0000-4000-8000-000000000001',
      created: '2024-03-01T10:00:00.000Z',
      modified: '2024-03-01T10:00:00.000Z',
      created_by_ref: MEMBER_IDENTITY,
      name: 'Wave',
      published: '2024-03-01T10:00:00.000Z',
      object_refs: [rel.id, MALWARE],
    };
    const { outgoing } = batchToAudience([{ object: report }, { object: rel }, { object: ind, changedByRelay: true }], ATTRIBUTED);
    const [rp, r, i] = outgoing.map(reissued);
    expect(r?.source_ref).toBe(i?.id);
    expect(rp?.object_refs).toEqual([r?.id, MALWARE]);
    expect(rp?.created_by_ref).toBe(RELAY.id);
  });

  it('ask the store about the member’s objects outside the batch, and leave other objects’ ids alone', () => {
    const earlierIndicator = 'indicator--c0000000-0000-4000-8000-0000000000aa';
    const earlierCopy = reissuedId(NAMESPACES, 'anonymous', earlierIndicator);
    const asked: string[] = [];
    const lookup = (id: string) => {
      asked.push(id);
      return id === earlierIndicator ? earlierCopy : undefined;
    };
    const rel = relationship(earlierIndicator, MALWARE);
    const { outgoing } = batchToAudience([{ object: rel }], { ...ANONYMOUS, reissued: lookup });
    expect(reissued(outgoing[0] as Outgoing)).toMatchObject({ source_ref: earlierCopy, target_ref: MALWARE });
    expect(asked).toContain(MALWARE);
  });

  it('treat an identity of the batch named like the member as the member’s, and report its id', () => {
    const soc = memberIdentity({ id: 'identity--a0000000-0000-4000-8000-0000000000ff', name: 'ACME' });
    const sight = sighting({ where_sighted_refs: [soc.id], created_by_ref: soc.id });
    const result = batchToAudience([{ object: soc }, { object: sight }], ANONYMOUS);
    expect(result.discoveredIdentityIds).toEqual([soc.id]);
    expect(result.outgoing[0]?.kind).toBe('drop');
    expect(reissued(result.outgoing[1] as Outgoing)).toMatchObject({ where_sighted_refs: [RELAY.id], created_by_ref: RELAY.id });
  });

  it('produce the same batch result twice', () => {
    const batch = [
      { object: indicator() },
      { object: relationship(indicator().id, MALWARE) },
      { object: sighting() },
      { object: memberIdentity() },
    ];
    expect(batchToAudience(batch, ANONYMOUS)).toEqual(batchToAudience(structuredClone(batch), ANONYMOUS));
    expect(MEMBER.identityIds).toEqual([MEMBER_IDENTITY, MEMBER_SOC_IDENTITY]);
  });
});

describe('observables under review', () => {
  it('are never re-issued', () => {
    const domain = {
      type: 'domain-name',
      spec_version: '2.1',
      id: 'domain-name--b0000000-0000-5000-8000-000000000001',
      value: 'x.example',
    };
    expect(() => toAudience({ object: domain, changedByRelay: true }, ANONYMOUS)).toThrow(/observable cannot be re-issued/);
  });
});
