/**
 * Which stored objects no reader can receive, and why, in words an operator can act on
 * ("1,820 objects carry marking X, unknown: map it in policy.marking_map"). Pure: the caller
 * gives the attributes of the objects' latest versions and the ways the collection is read.
 */
import { decide, effectiveTlp, tlpAllows } from './decide.ts';
import type { MemberProfile, ObjectAttributes, PolicySettings } from './types.ts';

/** One way a collection is read: a member directly, or a member through a view (both must pass). */
export interface Reader {
  readonly profile: MemberProfile;
  readonly viewFilter?: MemberProfile | undefined;
}

export interface ReachReport {
  /** objects judged */
  readonly objects: number;
  /** objects no reader can receive */
  readonly unreachable: number;
  /** why, most frequent first: each reason with how many objects it explains */
  readonly reasons: ReadonlyArray<{ readonly reason: string; readonly objects: number }>;
}

/** Whether one reader receives an object version on its own attributes (references are not followed). */
function receives(reader: Reader, attributes: ObjectAttributes, settings: PolicySettings): boolean {
  if (!decide(reader.profile, attributes, settings).allow) return false;
  return reader.viewFilter === undefined || decide(reader.viewFilter, attributes, settings).allow;
}

/** The one reason that keeps every reader from an object, phrased with the config key that changes it. */
export function unreachableReason(readers: readonly Reader[], attributes: ObjectAttributes, settings: PolicySettings): string {
  if (readers.length === 0) return 'are in a collection no member may read: grant it (members[].grants)';
  const t = attributes.tlp;
  if (t.kind === 'unknown') {
    return `carry marking ${t.markings[0] ?? '?'}, unknown: map it in policy.marking_map (or store its marking-definition if it is a statement)`;
  }
  const level = effectiveTlp(attributes, settings);
  if (level === 'red' || level === 'amber+strict') return `are TLP:${level.toUpperCase()}: never redistributed to other organizations`;
  const ceilings = readers.map((r) => (r.viewFilter && rank(r.viewFilter) < rank(r.profile) ? r.viewFilter : r.profile).tlpCeiling);
  if (!ceilings.some((c) => tlpAllows(level, c))) {
    const label = t.kind === 'unmarked' ? `unmarked (policy.default_tlp: ${String(level)})` : `TLP:${String(level).toUpperCase()}`;
    return `are ${label}, above every reader's tlp_ceiling`;
  }
  // Some reader's ceiling admits it: name the rule that stops the first such reader.
  for (const [i, reader] of readers.entries()) {
    const ceiling = ceilings[i];
    if (ceiling === undefined || !tlpAllows(level, ceiling)) continue;
    for (const profile of [reader.profile, ...(reader.viewFilter ? [reader.viewFilter] : [])]) {
      const failed = decide(profile, attributes, settings).rules.find((r) => !r.pass);
      if (failed && failed.rule !== 'tlp') return `fail every reader's ${failed.rule} filter (for example: ${failed.because})`;
    }
  }
  return 'are kept from every reader by its policy';
}

const CEILING_RANK = { clear: 0, green: 1, amber: 2 } as const;
const rank = (p: MemberProfile) => CEILING_RANK[p.tlpCeiling];

/** Counts the objects no reader receives and groups them by reason. */
export function reachReport(objects: Iterable<ObjectAttributes>, readers: readonly Reader[], settings: PolicySettings): ReachReport {
  let total = 0;
  let unreachable = 0;
  const reasons = new Map<string, number>();
  for (const attributes of objects) {
    total++;
    if (readers.some((r) => receives(r, attributes, settings))) continue;
    unreachable++;
    const reason = unreachableReason(readers, attributes, settings);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return {
    objects: total,
    unreachable,
    reasons: [...reasons]
      .map(([reason, n]) => ({ reason, objects: n }))
      .sort((a, b) => b.objects - a.objects || (a.reason < b.reason ? -1 : 1)),
  };
}
