import { describe, expect, it } from 'vitest';
import { reachReport, type Reader } from '../../src/policy/reach.ts';
import { type MemberProfile } from '../../src/policy/index.ts';
import { DEFAULT_NODE_POLICY, type ObjectAttributes } from '../../src/policy/types.ts';

const member = (p: Partial<MemberProfile> = {}): MemberProfile => ({
  memberId: 'm',
  sectors: [],
  unscoped: true,
  tlpCeiling: 'green',
  consent: 'none',
  ...p,
});
const object = (a: Partial<ObjectAttributes> = {}): ObjectAttributes => ({
  type: 'indicator',
  tlp: { kind: 'tlp', level: 'green' },
  sectors: [],
  revoked: false,
  granular: false,
  ...a,
});

describe('what reaches no reader, and why', () => {
  it('counts only objects no reader receives, grouped by reason, most frequent first', () => {
    const readers: Reader[] = [{ profile: member() }, { profile: member({ tlpCeiling: 'amber', sectors: ['energy'], unscoped: false }) }];
    const report = reachReport(
      [
        object(),
        object({ tlp: { kind: 'tlp', level: 'red' } }),
        object({ tlp: { kind: 'tlp', level: 'red' } }),
        object({ tlp: { kind: 'unknown', markings: ['marking-definition--x'] } }),
        object({ tlp: { kind: 'tlp', level: 'amber' }, sectors: ['water'] }),
      ],
      readers,
      DEFAULT_NODE_POLICY,
    );
    expect(report.objects).toBe(5);
    expect(report.unreachable).toBe(4);
    expect(report.reasons).toEqual([
      { reason: 'are TLP:RED: never redistributed to other organizations', objects: 2 },
      {
        reason:
          'carry marking marking-definition--x, unknown: map it in policy.marking_map (or store its marking-definition if it is a statement)',
        objects: 1,
      },
      { reason: "fail every reader's sector filter (for example: sectors water are outside energy)", objects: 1 },
    ]);
  });

  it('a view filter counts as part of the reader: its lower ceiling keeps AMBER out', () => {
    const report = reachReport(
      [object({ tlp: { kind: 'tlp', level: 'amber' } })],
      [{ profile: member({ tlpCeiling: 'amber' }), viewFilter: member({ memberId: 'view:v', tlpCeiling: 'green' }) }],
      DEFAULT_NODE_POLICY,
    );
    expect(report.reasons).toEqual([{ reason: "are TLP:AMBER, above every reader's tlp_ceiling", objects: 1 }]);
  });
});
