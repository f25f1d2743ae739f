/**
 * The policy decision: a pure function of a member profile and an object's attributes, with
 * an explanation rule by rule. The TAXII server asks it; it never filters by hand.
 */
import { tlpRank, type ObjectTlp, type TlpLevel } from '../stix/markings.ts';
import type { MemberProfile, ObjectAttributes, PolicySettings } from './types.ts';

export type RuleName = 'type' | 'tlp' | 'sector' | 'confidence' | 'opinion';

export interface RuleOutcome {
  readonly rule: RuleName;
  readonly pass: boolean;
  readonly because: string;
}

export interface Decision {
  readonly allow: boolean;
  readonly rules: readonly RuleOutcome[];
}

/** Effective TLP of an object; undefined means "unknown marking: never share". */
export function effectiveTlp(attributes: ObjectAttributes, settings: PolicySettings): TlpLevel | undefined {
  const t = attributes.tlp;
  if (t.kind === 'unknown') return undefined;
  return t.kind === 'unmarked' ? settings.defaultTlp : t.level;
}

/**
 * Whether an object's own markings keep it from every member whatever the configuration: an
 * unknown marking (fail closed), AMBER+STRICT or RED. Unmarked objects are not: the default
 * TLP they get is configuration. Such objects need no place in the sector index.
 */
export function neverRedistributed(tlp: ObjectTlp): boolean {
  return tlp.kind === 'unknown' || (tlp.kind === 'tlp' && (tlp.level === 'amber+strict' || tlp.level === 'red'));
}

/**
 * Whether a change of an object's attributes could let some member receive it who could not
 * before, under any member profile and configuration: it appeared; a lower TLP; a sector it did
 * not have, or none at all; a confidence or opinion score that rose or went away (floors pass
 * objects without one); granular markings before or after (what they withhold depends on the
 * body). Errs towards yes. The relationships and sightings on such an object are re-announced,
 * since a relationship is served only while every object it refers to is.
 */
export function mayReachMore(before: ObjectAttributes | undefined, after: ObjectAttributes | undefined): boolean {
  if (after === undefined || neverRedistributed(after.tlp)) return false;
  if (before === undefined) return true;
  if (before.granular || after.granular || before.type !== after.type) return true;
  const tlp = (t: ObjectAttributes['tlp']) => (t.kind === 'tlp' ? tlpRank(t.level) : undefined);
  if (before.tlp.kind !== after.tlp.kind || (tlp(after.tlp) ?? 0) < (tlp(before.tlp) ?? 0)) return true;
  if (after.sectors.some((s) => !before.sectors.includes(s)) || (after.sectors.length === 0 && before.sectors.length > 0)) return true;
  const rose = (b: number | undefined, a: number | undefined) => b !== undefined && (a === undefined || a > b);
  return rose(before.confidence, after.confidence) || rose(before.opinion, after.opinion);
}

/**
 * Marking and extension definitions carry no threat data, and members' tools need them to read
 * the markings and extensions of what they receive: they reach every reader whatever its sector
 * and type filters (their own markings still apply).
 */
export function reachesEveryReader(type: string): boolean {
  return type === 'marking-definition' || type === 'extension-definition';
}

export function tlpAllows(level: TlpLevel | undefined, ceiling: MemberProfile['tlpCeiling']): boolean {
  if (level === undefined || level === 'amber+strict' || level === 'red') return false;
  return tlpRank(level) <= tlpRank(ceiling);
}

function typeRule(p: MemberProfile, a: ObjectAttributes): RuleOutcome {
  if (reachesEveryReader(a.type)) return { rule: 'type', pass: true, because: `a ${a.type} reaches every reader` };
  if (p.denyTypes?.includes(a.type)) return { rule: 'type', pass: false, because: `type ${a.type} is denied` };
  if (p.allowTypes && !p.allowTypes.includes(a.type)) {
    return { rule: 'type', pass: false, because: `type ${a.type} is not among the allowed types` };
  }
  return { rule: 'type', pass: true, because: `type ${a.type} is allowed` };
}

function tlpRule(p: MemberProfile, a: ObjectAttributes, s: PolicySettings): RuleOutcome {
  const t = a.tlp;
  if (t.kind === 'unknown') {
    return { rule: 'tlp', pass: false, because: `unknown marking ${t.markings.join(', ')} (fail closed)` };
  }
  const level = effectiveTlp(a, s) as TlpLevel;
  const label = t.kind === 'unmarked' ? `unmarked (default TLP:${level.toUpperCase()})` : `TLP:${level.toUpperCase()}`;
  if (level === 'amber+strict' || level === 'red') {
    return { rule: 'tlp', pass: false, because: `${label} is never redistributed to other organizations` };
  }
  const pass = tlpAllows(level, p.tlpCeiling);
  return {
    rule: 'tlp',
    pass,
    because: `${label} ${pass ? 'is within' : 'is above'} the member's ceiling TLP:${p.tlpCeiling.toUpperCase()}`,
  };
}

function sectorRule(p: MemberProfile, a: ObjectAttributes): RuleOutcome {
  if (reachesEveryReader(a.type)) return { rule: 'sector', pass: true, because: `a ${a.type} reaches every reader` };
  if (p.sectors.length === 0) return { rule: 'sector', pass: true, because: 'the member takes every sector' };
  if (a.sectors.length === 0) {
    return {
      rule: 'sector',
      pass: p.unscoped,
      because: p.unscoped
        ? 'unscoped object and the member takes unscoped objects'
        : 'unscoped object and the member takes only its sectors',
    };
  }
  const common = a.sectors.filter((s) => p.sectors.includes(s));
  return common.length > 0
    ? { rule: 'sector', pass: true, because: `sector ${common.join(', ')} is of interest` }
    : { rule: 'sector', pass: false, because: `sectors ${a.sectors.join(', ')} are outside ${p.sectors.join(', ')}` };
}

function floorRule(rule: 'confidence' | 'opinion', floor: number | undefined, value: number | undefined): RuleOutcome {
  if (floor === undefined) return { rule, pass: true, because: `no ${rule} floor` };
  if (value === undefined) return { rule, pass: true, because: `no ${rule} on the object (floors apply to objects that carry one)` };
  const pass = value >= floor;
  return { rule, pass, because: `${rule} ${value} ${pass ? '>=' : '<'} floor ${floor}` };
}

export function decide(profile: MemberProfile, attributes: ObjectAttributes, settings: PolicySettings): Decision {
  const rules = [
    typeRule(profile, attributes),
    tlpRule(profile, attributes, settings),
    sectorRule(profile, attributes),
    floorRule('confidence', profile.minConfidence, attributes.confidence),
    floorRule('opinion', profile.minOpinion, attributes.opinion),
  ];
  return { allow: rules.every((r) => r.pass), rules };
}
