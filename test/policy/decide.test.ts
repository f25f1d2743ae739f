import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, type MemberProfile } from '../../src/policy/index.ts';
import { type ObjectAttributes } from '../../src/policy/types.ts';
import { mayReachMore, neverRedistributed } from '../../src/policy/decide.ts';
import { resolveObjectTlp, TLP1, TLP2, TLP_MARKINGS } from '../../src/stix/markings.ts';

const NEAR_MISS = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec';

const member = (over: Partial<MemberProfile> = {}): MemberProfile => ({
  memberId: 'm',
  sectors: [],
  unscoped: true,
  tlpCeiling: 'green',
  consent: 'none',
  ...over,
});
const attrs = (markings: string[] | undefined, over: Partial<ObjectAttributes> = {}): ObjectAttributes => ({
  type: 'indicator',
  tlp: resolveObjectTlp(markings),
  sectors: [],
  revoked: false,
  granular: false,
  ...over,
});
const settings = { defaultTlp: 'amber' as const };

describe('TLP decisions', () => {
  it('knows all nine TLP 1.0 and 2.0 marking definitions', () => {
    expect(TLP_MARKINGS.size).toBe(9);
  });

  it('CLEAR/WHITE and GREEN reach a GREEN member in both TLP editions', () => {
    for (const m of [TLP1.white, TLP1.green, TLP2.clear, TLP2.green]) {
      expect(decide(member(), attrs([m]), settings).allow).toBe(true);
    }
  });

  it('member without AMBER never receives AMBER object', () => {
    expect(decide(member(), attrs([TLP1.amber]), settings).allow).toBe(false);
    expect(decide(member(), attrs([TLP2.amber]), settings).allow).toBe(false);
    expect(decide(member({ tlpCeiling: 'amber' }), attrs([TLP2.amber]), settings).allow).toBe(true);
  });

  it('AMBER+STRICT and RED are never redistributed, whatever the ceiling', () => {
    for (const m of [TLP1.red, TLP2.red, TLP2.amberStrict]) {
      expect(decide(member({ tlpCeiling: 'amber' }), attrs([m]), settings).allow).toBe(false);
    }
  });

  it('an object with several TLP markings is judged at the most restrictive', () => {
    expect(decide(member(), attrs([TLP2.green, TLP1.amber]), settings).allow).toBe(false);
  });

  it('an unknown marking fails closed, even beside a GREEN marking', () => {
    const d = decide(member({ tlpCeiling: 'amber' }), attrs([TLP2.green, NEAR_MISS]), settings);
    expect(d.allow).toBe(false);
    expect(d.rules.find((r) => r.rule === 'tlp')?.because).toMatch(/unknown marking .*5ec.*fail closed/);
  });

  it('unmarked objects get the configured default, AMBER unless set', () => {
    expect(decide(member(), attrs(undefined), settings).allow).toBe(false);
    expect(decide(member({ tlpCeiling: 'amber' }), attrs(undefined), settings).allow).toBe(true);
    expect(decide(member(), attrs(undefined), { defaultTlp: 'green' }).allow).toBe(true);
  });
});

describe('sector, type and quality rules', () => {
  it('a sector member gets objects of its sector and not of others', () => {
    const energy = member({ sectors: ['energy'], unscoped: false });
    expect(decide(energy, attrs([TLP1.green], { sectors: ['energy', 'water'] }), settings).allow).toBe(true);
    const d = decide(energy, attrs([TLP1.green], { sectors: ['healthcare'] }), settings);
    expect(d.allow).toBe(false);
    expect(d.rules.find((r) => r.rule === 'sector')?.pass).toBe(false);
  });

  it('unscoped objects go only to members that want them', () => {
    expect(decide(member({ sectors: ['energy'], unscoped: false }), attrs([TLP1.green]), settings).allow).toBe(false);
    expect(decide(member({ sectors: ['energy'], unscoped: true }), attrs([TLP1.green]), settings).allow).toBe(true);
  });

  it('confidence and opinion floors apply to objects carrying them', () => {
    const picky = member({ minConfidence: 50, minOpinion: 3 });
    expect(decide(picky, attrs([TLP1.green], { confidence: 49 }), settings).allow).toBe(false);
    expect(decide(picky, attrs([TLP1.green], { confidence: 50 }), settings).allow).toBe(true);
    expect(decide(picky, attrs([TLP1.green], { opinion: 2.5 }), settings).allow).toBe(false);
    expect(decide(picky, attrs([TLP1.green]), settings).allow).toBe(true);
  });

  it('allowed and denied types', () => {
    expect(decide(member({ allowTypes: ['malware'] }), attrs([TLP1.green]), settings).allow).toBe(false);
    expect(decide(member({ denyTypes: ['indicator'] }), attrs([TLP1.green]), settings).allow).toBe(false);
    expect(decide(member({ allowTypes: ['indicator'] }), attrs([TLP1.green]), settings).allow).toBe(true);
  });

  it('explains every rule, so an operator can see why', () => {
    const d = decide(member(), attrs([TLP1.green]), settings);
    expect(d.rules.map((r) => r.rule)).toEqual(['type', 'tlp', 'sector', 'confidence', 'opinion']);
    expect(d.rules.every((r) => r.because.length > 0)).toBe(true);
  });
});

describe('objects never redistributed', () => {
  const CEILINGS = ['clear', 'green', 'amber'] as const;
  const DEFAULTS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
  const MARKINGS: Array<string[] | undefined> = [
    undefined,
    ...[...TLP_MARKINGS.keys()].map((m) => [m]),
    [NEAR_MISS],
    [TLP2.green, NEAR_MISS],
    [TLP1.white, TLP2.red],
  ];

  it('are exactly those whose own markings are AMBER+STRICT, RED or unknown, and no member receives them under any default TLP', () => {
    for (const markings of MARKINGS) {
      const tlp = resolveObjectTlp(markings);
      const never = neverRedistributed(tlp);
      const expected = tlp.kind === 'unknown' || (tlp.kind === 'tlp' && (tlp.level === 'amber+strict' || tlp.level === 'red'));
      expect(never, JSON.stringify(markings)).toBe(expected);
      for (const tlpCeiling of CEILINGS) {
        for (const defaultTlp of DEFAULTS) {
          const allowed = decide(member({ tlpCeiling }), attrs(markings), { defaultTlp }).allow;
          if (never) expect(allowed, `${JSON.stringify(markings)} ceiling ${tlpCeiling}`).toBe(false);
        }
      }
    }
    // an unmarked object is not: the default TLP (configuration) decides
    expect(decide(member({ tlpCeiling: 'amber' }), attrs(undefined), { defaultTlp: 'green' }).allow).toBe(true);
  });
});

describe('mayReachMore', () => {
  const SECTORS = ['energy', 'water', 'health'];
  const marking = fc.constantFrom<string[] | undefined>(
    undefined,
    [TLP1.white],
    [TLP2.green],
    [TLP1.amber],
    [TLP2.amberStrict],
    [TLP2.red],
    [NEAR_MISS],
  );
  const attributes = fc
    .record({
      markings: marking,
      sectors: fc.subarray(SECTORS),
      confidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      opinion: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      granular: fc.boolean(),
    })
    .map(({ markings, ...a }) => attrs(markings, a));
  const profile = fc.record({
    sectors: fc.subarray(SECTORS),
    unscoped: fc.boolean(),
    tlpCeiling: fc.constantFrom('clear' as const, 'green' as const, 'amber' as const),
    minConfidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    minOpinion: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  });
  const defaults = fc.constantFrom('clear' as const, 'green' as const, 'amber' as const, 'red' as const);

  it('is true whenever some member refused the object before and may receive it after (never misses a gain)', () => {
    fc.assert(
      fc.property(fc.option(attributes, { nil: undefined }), attributes, profile, defaults, (before, after, p, defaultTlp) => {
        const m = member(p);
        const gained = (before === undefined || !decide(m, before, { defaultTlp }).allow) && decide(m, after, { defaultTlp }).allow;
        if (gained) expect(mayReachMore(before, after)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is false when nothing a member could notice changed, and for objects nobody receives', () => {
    const a = attrs([TLP2.green], { sectors: ['energy'], confidence: 60 });
    expect(mayReachMore(a, { ...a })).toBe(false);
    expect(mayReachMore(a, { ...a, sectors: [] })).toBe(true); // now unscoped: members taking unscoped objects
    expect(mayReachMore(a, { ...a, confidence: 40 })).toBe(false);
    expect(mayReachMore(a, { ...a, confidence: 80 })).toBe(true);
    expect(mayReachMore(a, attrs([TLP2.red], { sectors: ['energy', 'water'] }))).toBe(false);
    expect(mayReachMore(a, undefined)).toBe(false);
    expect(mayReachMore(undefined, a)).toBe(true);
  });
});

describe('marking and extension definitions', () => {
  const narrow = member({ sectors: ['energy'], unscoped: false, allowTypes: ['indicator'], denyTypes: ['marking-definition'] });

  it('reach a member whatever its sector and type filters', () => {
    for (const type of ['marking-definition', 'extension-definition']) {
      expect(decide(narrow, attrs([TLP2.clear], { type }), settings).allow, type).toBe(true);
    }
  });

  it('their own markings still apply', () => {
    expect(decide(narrow, attrs([TLP2.amber], { type: 'marking-definition' }), settings).allow).toBe(false);
    expect(
      decide(narrow, attrs(['marking-definition--0badbad0-0000-4000-8000-000000000001'], { type: 'extension-definition' }), settings).allow,
    ).toBe(false);
  });

  it('other types keep the filters', () => {
    expect(decide(narrow, attrs([TLP2.clear], { type: 'malware' }), settings).allow).toBe(false);
  });
});
