/**
 * The policy oracle for tests: a slow, obvious reimplementation of the member policy over raw
 * STIX objects (every object version received), written independently of src/policy and of the
 * store's derived attributes. It scans every object for every question.
 *
 * Rules: TLP from object_marking_refs (most restrictive; statement markings whose definition is
 * among the objects restrict nobody; unmarked: the default, except the TLP and statement marking
 * definitions themselves, which are CLEAR; an unknown marking: never served; AMBER+STRICT and
 * RED: never served; else up to the member's ceiling); marking and extension definitions pass
 * every type and sector filter;
 * sectors: own (identity sectors, configured properties, label prefixes) plus identities
 * targeted, plus for indicators what the indicated object has (own and targeted), plus for
 * relationships and sightings their ends'; a link counts only when its latest version is not
 * revoked and no more restricted than the object version; opinion score: mean over the latest
 * opinions referring to the object under the same rule; floors apply to objects that carry the
 * value; granular markings above the ceiling remove whole top-level properties, and the object
 * is withheld when a required one would go; relationships and sightings only when every
 * referenced object (latest version) is served itself; an older version only while the
 * object's latest version is served.
 */
import { TLP_MARKINGS } from '../../src/stix/markings.ts';
import { requiredProperties } from '../../src/stix/required.ts';
import { UNVERSIONED } from '../../src/stix/types.ts';

type Obj = Record<string, any>;

const LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const OPINIONS = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'];

const rankOf = (level: string) => LEVELS.indexOf(level);

export interface OracleSettings {
  readonly defaultTlp: string;
  readonly markingMap: Record<string, string>;
  readonly sectorProperties: string[];
  readonly sectorLabels: string[];
}

export const versionOf = (o: Obj): string => o.modified ?? o.created ?? UNVERSIONED;

const DEFINITIONS = new Set(['marking-definition', 'extension-definition']);

export class Oracle {
  readonly latest = new Map<string, Obj>();
  readonly defaultTlp: string;
  /** statement marking definitions among the objects: they restrict nobody */
  readonly statements = new Set<string>();
  constructor(
    readonly all: Obj[],
    readonly settings: OracleSettings,
  ) {
    this.defaultTlp = settings.defaultTlp === 'white' ? 'clear' : settings.defaultTlp;
    for (const o of all) {
      const cur = this.latest.get(o.id);
      if (!cur || Date.parse(versionOf(o)) > Date.parse(versionOf(cur))) this.latest.set(o.id, o);
      if (o.type === 'marking-definition' && o.definition_type === 'statement') this.statements.add(o.id);
    }
  }

  level(ref: string): string | undefined {
    const mapped = this.settings.markingMap[ref];
    if (mapped !== undefined) return mapped === 'white' ? 'clear' : mapped;
    return TLP_MARKINGS.get(ref);
  }

  /** 0..4 for TLP levels, 5 for unknown markings */
  rank(o: Obj): number {
    const refs: string[] = o.object_marking_refs ?? [];
    // The TLP and statement marking definitions themselves are public: every member needs them.
    const publicDefinition = o.type === 'marking-definition' && (TLP_MARKINGS.has(o.id) || o.definition_type === 'statement');
    if (refs.length === 0 && publicDefinition) return 0;
    const restricting = refs.filter((ref) => this.level(ref) !== undefined || !this.statements.has(ref));
    if (restricting.length === 0) return rankOf(this.defaultTlp);
    let worst = 0;
    for (const ref of restricting) {
      const l = this.level(ref);
      if (l === undefined) return 5;
      worst = Math.max(worst, rankOf(l));
    }
    return worst;
  }

  own(o: Obj): string[] {
    const strings = (v: unknown): string[] =>
      typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
    const out: string[] = [];
    if (o.type === 'identity') out.push(...strings(o.sectors));
    for (const p of this.settings.sectorProperties) out.push(...strings(o[p]));
    for (const l of strings(o.labels)) {
      for (const prefix of this.settings.sectorLabels)
        if (l.startsWith(prefix) && l.length > prefix.length) out.push(l.slice(prefix.length));
    }
    return out;
  }

  counts(id: string, r: number): Obj | undefined {
    const o = this.latest.get(id);
    return o && o.revoked !== true && this.rank(o) <= r ? o : undefined;
  }

  base(o: Obj, r: number): string[] {
    const out = this.own(o);
    for (const rel of this.latest.values()) {
      if (rel.type !== 'relationship' || rel.relationship_type !== 'targets' || rel.source_ref !== o.id || !this.counts(rel.id, r))
        continue;
      const target = this.counts(rel.target_ref, r);
      if (target && target.type === 'identity') out.push(...this.own(target));
    }
    return out;
  }

  full(o: Obj, r: number): string[] {
    const out = this.base(o, r);
    if (o.type !== 'indicator') return out;
    for (const rel of this.latest.values()) {
      if (rel.type !== 'relationship' || rel.relationship_type !== 'indicates' || rel.source_ref !== o.id || !this.counts(rel.id, r))
        continue;
      const y = this.counts(rel.target_ref, r);
      if (y && y.type !== 'relationship' && y.type !== 'sighting') out.push(...this.base(y, r));
    }
    return out;
  }

  refsOf(o: Obj): string[] {
    if (o.type === 'relationship') return [...new Set([o.source_ref, o.target_ref])];
    if (o.type === 'sighting') return [o.sighting_of_ref, ...(o.observed_data_refs ?? []), ...(o.where_sighted_refs ?? [])];
    return [];
  }

  sectors(o: Obj): Set<string> {
    const r = this.rank(o);
    if (o.type !== 'relationship' && o.type !== 'sighting') return new Set(this.full(o, r));
    const out = this.own(o);
    for (const ref of this.refsOf(o)) {
      const e = this.counts(ref, r);
      if (e && e.type !== 'relationship' && e.type !== 'sighting') out.push(...this.full(e, r));
    }
    return new Set(out);
  }

  opinion(o: Obj): number | undefined {
    const r = this.rank(o);
    const values = [...this.latest.values()]
      .filter(
        (x) =>
          x.type === 'opinion' &&
          Array.isArray(x.object_refs) &&
          x.object_refs.includes(o.id) &&
          OPINIONS.includes(x.opinion) &&
          this.counts(x.id, r),
      )
      .map((x) => OPINIONS.indexOf(x.opinion) + 1);
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
  }

  /** The member's copy of one version under one profile (undefined: not served). */
  copy(o: Obj, p: Obj): Obj | undefined {
    const everyReader = DEFINITIONS.has(o.type);
    if (!everyReader && p.deny_types?.includes(o.type)) return undefined;
    if (!everyReader && p.allow_types && !p.allow_types.includes(o.type)) return undefined;
    const ceiling = rankOf(p.tlp_ceiling === 'white' ? 'clear' : p.tlp_ceiling);
    const r = this.rank(o);
    if (r >= 3 || r > ceiling) return undefined;
    if (p.sectors.length > 0 && !everyReader) {
      const s = this.sectors(o);
      if (s.size === 0 ? !p.unscoped : !p.sectors.some((x: string) => s.has(x))) return undefined;
    }
    if (p.min_confidence !== undefined && o.confidence !== undefined && o.confidence < p.min_confidence) return undefined;
    const op = this.opinion(o);
    if (p.min_opinion !== undefined && op !== undefined && op < p.min_opinion) return undefined;
    if (!Array.isArray(o.granular_markings) || o.granular_markings.length === 0) return o;
    const removed = new Set<string>();
    for (const g of o.granular_markings) {
      if (g.marking_ref === undefined || this.statements.has(g.marking_ref)) continue; // language and statement markings restrict nothing
      const l = this.level(g.marking_ref);
      if (l !== undefined && rankOf(l) < 3 && rankOf(l) <= ceiling) continue;
      for (const s of g.selectors) removed.add(s.split('.')[0] as string);
    }
    removed.delete('granular_markings');
    if (removed.size === 0) return o;
    const required = requiredProperties(o.type);
    if ([...removed].some((k) => required.includes(k))) return undefined;
    const c: Obj = {};
    for (const [k, v] of Object.entries(o)) if (!removed.has(k)) c[k] = v;
    const kept = o.granular_markings.filter((g: Obj) => g.selectors.every((s: string) => !removed.has(s.split('.')[0] as string)));
    if (kept.length > 0) c.granular_markings = kept;
    else delete c.granular_markings;
    return c;
  }

  /** What the member receives of a version in a collection read with these profiles (ANDed). */
  served(o: Obj, profiles: Obj[]): Obj | undefined {
    const latest = this.latest.get(o.id);
    if (latest !== undefined && latest !== o && Date.parse(versionOf(latest)) !== Date.parse(versionOf(o))) {
      if (this.served(latest, profiles) === undefined) return undefined;
    }
    const copies = profiles.map((p) => this.copy(o, p));
    if (copies.some((c) => c === undefined)) return undefined;
    if (o.type === 'relationship' || o.type === 'sighting') {
      for (const ref of this.refsOf(o)) {
        const target = this.latest.get(ref);
        if (!target || profiles.some((p) => this.copy(target, p) === undefined)) return undefined;
      }
    }
    // the strictest copy: the profile with the lowest ceiling redacts the most
    return copies.reduce((a, b) => (Object.keys(b as Obj).length < Object.keys(a as Obj).length ? b : a));
  }
}
