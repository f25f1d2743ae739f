import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { memberProfile, nodePolicy, viewProfile } from '../../src/policy/index.ts';

const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
const C3 = '33333333-3333-4333-8333-333333333333';

function config(extra: { collections?: unknown[]; policy?: unknown; memberPolicy?: unknown } = {}) {
  return {
    node: { id: 'n', title: 'N' },
    api_roots: [{ path: 'isac', title: 'ISAC', collections: extra.collections ?? [{ id: C1, alias: 'all', title: 'All' }] }],
    members: [
      {
        id: 'm',
        name: 'M',
        credentials: { jwt_subject: 'm' },
        ...(extra.memberPolicy !== undefined ? { policy: extra.memberPolicy } : {}),
      },
    ],
    ...(extra.policy !== undefined ? { policy: extra.policy } : {}),
  };
}

describe('policy configuration', () => {
  it('defaults are conservative: unmarked is AMBER, members see up to GREEN, every sector, no consent', () => {
    const c = parseConfig(config());
    expect(c.policy).toEqual({ default_tlp: 'amber', marking_map: {}, sector_properties: [], sector_labels: [] });
    expect(memberProfile(c.members[0]!)).toMatchObject({ sectors: [], unscoped: true, tlpCeiling: 'green', consent: 'none' });
    expect(c.api_roots[0]!.collections[0]!.kind).toBe('mirror');
  });

  it('reads every member key; white is accepted as clear', () => {
    const c = parseConfig(
      config({
        memberPolicy: {
          sectors: ['energy', 'x-custom-sector'],
          unscoped: false,
          tlp_ceiling: 'white',
          min_confidence: 50,
          min_opinion: 3.5,
          allow_types: ['indicator'],
          deny_types: ['note'],
          attribution_consent: 'usg',
        },
        policy: {
          default_tlp: 'white',
          marking_map: { 'marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168': 'clear' },
          sector_properties: ['x_acme_sectors'],
          sector_labels: ['sector:'],
        },
      }),
    );
    expect(memberProfile(c.members[0]!)).toEqual({
      memberId: 'm',
      sectors: ['energy', 'x-custom-sector'],
      unscoped: false,
      tlpCeiling: 'clear',
      minConfidence: 50,
      minOpinion: 3.5,
      allowTypes: ['indicator'],
      denyTypes: ['note'],
      consent: 'usg',
    });
    const node = nodePolicy(c);
    expect(node.defaultTlp).toBe('clear');
    expect(node.markingMap.get('marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168')).toBe('clear');
    expect(node.sectorProperties).toEqual(['x_acme_sectors']);
    expect(node.sectorLabels).toEqual(['sector:']);
  });

  it('refuses ceilings that are never redistributed, bad opinion floors and bad marking ids', () => {
    expect(() => parseConfig(config({ memberPolicy: { tlp_ceiling: 'red' } }))).toThrow(/tlp_ceiling/);
    expect(() => parseConfig(config({ memberPolicy: { tlp_ceiling: 'amber+strict' } }))).toThrow(/tlp_ceiling/);
    expect(() => parseConfig(config({ memberPolicy: { min_opinion: 6 } }))).toThrow(/min_opinion/);
    expect(() => parseConfig(config({ policy: { marking_map: { 'tlp-red': 'red' } } }))).toThrow(/marking_map/);
    expect(() => parseConfig(config({ memberPolicy: { sectorz: [] } }))).toThrow(/sectorz/);
  });

  it('views need a source collection in the same API root that is not itself a view', () => {
    const good = parseConfig(
      config({
        collections: [
          { id: C1, alias: 'all', title: 'All' },
          {
            id: C2,
            alias: 'energy',
            title: 'Energy',
            kind: 'view',
            source: 'all',
            filter: { sectors: ['energy'], tlp: 'green', min_confidence: 50, types: ['indicator'] },
          },
          { id: C3, alias: 'inbox', title: 'Inbox', kind: 'inbox' },
        ],
      }),
    );
    const view = good.api_roots[0]!.collections[1]!;
    expect(view.kind).toBe('view');
    expect(viewProfile(view.id, view.kind === 'view' ? view.filter : undefined)).toMatchObject({
      sectors: ['energy'],
      unscoped: false,
      tlpCeiling: 'green',
      minConfidence: 50,
      allowTypes: ['indicator'],
    });
    expect(() => parseConfig(config({ collections: [{ id: C2, title: 'V', kind: 'view' }] }))).toThrow(/needs "source"/);
    expect(() => parseConfig(config({ collections: [{ id: C2, title: 'V', kind: 'view', source: 'nope' }] }))).toThrow(/not a collection/);
    expect(() =>
      parseConfig(
        config({
          collections: [
            { id: C1, alias: 'all', title: 'All', kind: 'view', source: 'v2' },
            { id: C2, alias: 'v2', title: 'V', kind: 'view', source: 'all' },
          ],
        }),
      ),
    ).toThrow(/itself a view/);
    expect(() => parseConfig(config({ collections: [{ id: C1, title: 'All', filter: { tlp: 'green' } }] }))).toThrow(/only a "kind: view"/);
  });
});
