/**
 * Granular markings: properties marked above what a member may receive are removed from that
 * member's copy. Redaction works on whole top-level properties (a selector such as
 * `external_references.[0].url` removes `external_references`): removing a part of a list or a
 * nested object could leave a structure that is itself invalid (an external reference without
 * `source_name`) and would shift the indexes other selectors point at. When a required
 * property would be removed, the object is withheld instead.
 */
import { requiredProperties } from '../stix/required.ts';
import { TLP_MARKINGS, type TlpLevel } from '../stix/markings.ts';
import type { StixObject } from '../stix/types.ts';
import { tlpAllows } from './decide.ts';
import type { MemberProfile } from './types.ts';

export type Redaction =
  | { readonly kind: 'whole' }
  | { readonly kind: 'redacted'; readonly object: StixObject; readonly removed: readonly string[] }
  | { readonly kind: 'withheld'; readonly because: string };

function topLevel(selector: string): string {
  const dot = selector.indexOf('.');
  return dot < 0 ? selector : selector.slice(0, dot);
}

/**
 * The member's copy of an object with granular markings. `extraMarkings` are the operator's
 * mapped markings; `statements` the statement marking definitions the node knows (a copyright
 * statement on a property restricts nobody). Any other marking above the ceiling, or unknown,
 * removes what it marks.
 */
export function redact(
  object: StixObject,
  profile: MemberProfile,
  extraMarkings: ReadonlyMap<string, TlpLevel> = new Map(),
  statements: ReadonlySet<string> = new Set(),
): Redaction {
  const granular = object.granular_markings;
  if (!granular || granular.length === 0) return { kind: 'whole' };
  const remove = new Set<string>();
  for (const g of granular) {
    if (g.marking_ref === undefined || statements.has(g.marking_ref)) continue; // `lang` and statement markings restrict nothing
    const level = TLP_MARKINGS.get(g.marking_ref) ?? extraMarkings.get(g.marking_ref);
    if (tlpAllows(level, profile.tlpCeiling)) continue;
    for (const selector of g.selectors) remove.add(topLevel(selector));
  }
  remove.delete('granular_markings');
  if (remove.size === 0) return { kind: 'whole' };
  const required = new Set(requiredProperties(object.type));
  const blocking = [...remove].filter((p) => required.has(p));
  if (blocking.length > 0) {
    return { kind: 'withheld', because: `required ${blocking.join(', ')} is marked above the member's ceiling` };
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (!remove.has(key)) copy[key] = value;
  const kept = granular.filter((g) => g.selectors.every((s) => !remove.has(topLevel(s))));
  if (kept.length > 0) copy.granular_markings = kept;
  else delete copy.granular_markings;
  return { kind: 'redacted', object: copy as StixObject, removed: [...remove].sort() };
}
