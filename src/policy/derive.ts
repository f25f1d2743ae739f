/**
 * Attributes derived at ingest. Two parts:
 *   - `versionFacts`: what one object version says about itself (TLP from its whole-object
 *     markings, granular flag, confidence, revoked, its own sectors, and for links what they
 *     refer to). Pure; computed once per version by the ingestor.
 *   - `deriveLinked`: sectors and opinion score that come from other objects (targets
 *     relationships, indicator -indicates-> X -targets-> identity chains, ends of relationships
 *     and sightings, opinions), by walking the links through a `LinkReader`. It is the
 *     definition: ingest computes the same values incrementally from link summaries
 *     (linked.ts), and `relay check` compares every stored entry with this walk.
 *
 * Derived attributes must not leak: a link (relationship, sighting end, target identity,
 * opinion) counts only when its latest version is not revoked and is no more restricted (TLP)
 * than the object version being indexed. An unknown marking is more restrictive than RED.
 */
import { resolveObjectTlp, TLP_MARKINGS, tlpRank, type ObjectTlp } from '../stix/markings.ts';
import type { StixObject } from '../stix/types.ts';
import type { NodePolicy } from './types.ts';

/** Rank of an object whose markings the node cannot classify: above RED. */
export const UNKNOWN_RANK = 5;

export const OPINION_VALUES: Readonly<Record<string, number>> = {
  'strongly-disagree': 1,
  disagree: 2,
  neutral: 3,
  agree: 4,
  'strongly-agree': 5,
};

/** What one object version says about itself (stored with its index entry). */
export interface VersionFacts {
  readonly tlp: ObjectTlp;
  /** effective TLP rank for link comparisons (unmarked: the default TLP; unknown: 5) */
  readonly rank: number;
  readonly granular: boolean;
  readonly confidence?: number;
  readonly revoked: boolean;
  /** sectors the object carries itself: identity `sectors`, configured properties and labels */
  readonly own: readonly string[];
  /** relationship: type, source, target */
  readonly rt?: string;
  readonly src?: string;
  readonly tgt?: string;
  /** relationship ends, sighting refs, opinion object_refs (distinct) */
  readonly refs?: readonly string[];
  /** opinion objects: their value 1..5 */
  readonly opinion?: number;
}

const NO_STATEMENTS: ReadonlySet<string> = new Set();

/**
 * The TLP marking definitions and statement definitions (copyright, terms of use) are public:
 * members need them to read the markings of what they receive. So an unmarked copy of one is
 * CLEAR rather than the default TLP.
 */
function isPublicDefinition(object: StixObject): boolean {
  if (object.type !== 'marking-definition' || (object.object_marking_refs?.length ?? 0) > 0) return false;
  return TLP_MARKINGS.has(object.id) || object.definition_type === 'statement';
}

/** The id of a statement marking definition (copyright, terms of use), or undefined for any other object. */
export function statementMarkingId(object: StixObject): string | undefined {
  return object.type === 'marking-definition' && object.definition_type === 'statement' ? object.id : undefined;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * What one object version says about itself. `statements` are the ids of the statement marking
 * definitions the node knows (copyright, terms of use): they restrict nobody, so an object
 * marked only with them counts as unmarked (default TLP). A marking the node cannot resolve
 * (not TLP, not mapped, no statement definition known) makes the TLP unknown: fail closed.
 */
export function versionFacts(object: StixObject, policy: NodePolicy, statements: ReadonlySet<string> = NO_STATEMENTS): VersionFacts {
  const tlp: ObjectTlp = isPublicDefinition(object)
    ? { kind: 'tlp', level: 'clear' }
    : resolveObjectTlp(object.object_marking_refs, policy.markingMap, statements);
  const rank = tlp.kind === 'unknown' ? UNKNOWN_RANK : tlpRank(tlp.kind === 'tlp' ? tlp.level : policy.defaultTlp);
  const own = new Set<string>();
  if (object.type === 'identity') for (const s of strings(object.sectors)) own.add(s);
  for (const p of policy.sectorProperties) for (const s of strings(object[p])) own.add(s);
  if (policy.sectorLabels.length > 0) {
    for (const label of strings(object.labels)) {
      for (const prefix of policy.sectorLabels) {
        if (label.length > prefix.length && label.startsWith(prefix)) own.add(label.slice(prefix.length));
      }
    }
  }
  const facts: {
    -readonly [K in keyof VersionFacts]: VersionFacts[K];
  } = {
    tlp,
    rank,
    granular: Array.isArray(object.granular_markings) && object.granular_markings.length > 0,
    revoked: object.revoked === true,
    own: [...own].sort(),
  };
  if (typeof object.confidence === 'number') facts.confidence = object.confidence;
  if (object.type === 'relationship') {
    facts.rt = String(object.relationship_type);
    facts.src = String(object.source_ref);
    facts.tgt = String(object.target_ref);
    facts.refs = [...new Set([facts.src, facts.tgt])];
  } else if (object.type === 'sighting') {
    facts.refs = [
      ...new Set([...strings(object.sighting_of_ref), ...strings(object.observed_data_refs), ...strings(object.where_sighted_refs)]),
    ];
  } else if (object.type === 'opinion') {
    facts.refs = [...new Set(strings(object.object_refs))];
    const value = OPINION_VALUES[String(object.opinion)];
    if (value !== undefined) facts.opinion = value;
  }
  return facts;
}

/**
 * How a link refers to an object. The latest version of a `targets` relationship refers to its
 * source and target as ts / tt, of an `indicates` relationship as is / it, the latest version of
 * an opinion to its object_refs as o: the links the summaries are built from. Every version of
 * a relationship or sighting (not only the latest) refers to each of its ends as v: the
 * relationships and sightings whose sectors follow that end. Keyed by role, derivation reads
 * only the links it needs.
 */
export type LinkRole = 'ts' | 'tt' | 'is' | 'it' | 'o' | 'v';

/** The (referenced id, role) pairs of an object's latest version (roles ts, tt, is, it, o). */
export function linkKeys(type: string, facts: VersionFacts | undefined): Array<[string, LinkRole]> {
  if (!facts?.refs) return [];
  if (type === 'relationship') {
    if (facts.rt !== 'targets' && facts.rt !== 'indicates') return [];
    const [s, t]: [LinkRole, LinkRole] = facts.rt === 'targets' ? ['ts', 'tt'] : ['is', 'it'];
    const out: Array<[string, LinkRole]> = [];
    if (facts.src !== undefined) out.push([facts.src, s]);
    if (facts.tgt !== undefined) out.push([facts.tgt, t]);
    return out;
  }
  return type === 'opinion' ? facts.refs.map((r) => [r, 'o']) : [];
}

/** The ends of one version of a relationship or sighting (role v); none for other types. */
export function endRefs(type: string, facts: VersionFacts | undefined): readonly string[] {
  return (type === 'relationship' || type === 'sighting') && facts?.refs ? facts.refs : [];
}

/** Read access to the latest facts of objects in one collection, and who refers to them. */
export interface LinkReader {
  /** facts of the object's latest version (with its type), or undefined when absent */
  latest(id: string): (VersionFacts & { readonly type: string }) | undefined;
  /** ids whose latest version refers to `id` in that role */
  referrers(id: string, role: LinkRole): Iterable<string>;
}

export interface LinkedAttributes {
  readonly sectors: readonly string[];
  readonly opinion?: number;
}

const isSro = (type: string) => type === 'relationship' || type === 'sighting';
const isEmpty = (it: Iterable<string>) => {
  for (const _ of it) return false;
  return true;
};

/** Sectors and opinion of one version of `id` (of `type`, with `facts`) from its links. */
export function deriveLinked(id: string, type: string, facts: VersionFacts, reader: LinkReader): LinkedAttributes {
  // Fast path (most objects at ingest): nothing targets-, indicates- or opinion-links it.
  if (
    !isSro(type) &&
    isEmpty(reader.referrers(id, 'ts')) &&
    isEmpty(reader.referrers(id, 'o')) &&
    (type !== 'indicator' || isEmpty(reader.referrers(id, 'is')))
  ) {
    return { sectors: facts.own };
  }
  const r = facts.rank;
  const memo = new Map<string, (VersionFacts & { type: string }) | undefined>();
  const get = (x: string) => {
    if (!memo.has(x)) memo.set(x, reader.latest(x));
    return memo.get(x);
  };
  const counts = (f: VersionFacts | undefined): f is VersionFacts & { type: string } => f !== undefined && !f.revoked && f.rank <= r;
  const referrers = (x: string, role: LinkRole) => [...reader.referrers(x, role)];

  /** own sectors plus those of identities x targets */
  const base = (x: string, fx: VersionFacts, out: Set<string>) => {
    for (const s of fx.own) out.add(s);
    for (const rel of referrers(x, 'ts')) {
      const fr = get(rel);
      if (!counts(fr) || fr.type !== 'relationship' || fr.rt !== 'targets' || fr.src !== x || fr.tgt === undefined) continue;
      const fi = get(fr.tgt);
      if (counts(fi) && fi.type === 'identity') for (const s of fi.own) out.add(s);
    }
  };
  /** base, and for indicators the base of what they indicate */
  const full = (x: string, xType: string, fx: VersionFacts, out: Set<string>) => {
    base(x, fx, out);
    if (xType !== 'indicator') return;
    for (const rel of referrers(x, 'is')) {
      const fr = get(rel);
      if (!counts(fr) || fr.type !== 'relationship' || fr.rt !== 'indicates' || fr.src !== x || fr.tgt === undefined) continue;
      const fy = get(fr.tgt);
      if (counts(fy) && !isSro(fy.type)) base(fr.tgt, fy, out);
    }
  };

  const sectors = new Set<string>();
  if (isSro(type)) {
    for (const s of facts.own) sectors.add(s);
    for (const end of facts.refs ?? []) {
      const fe = get(end);
      if (counts(fe) && !isSro(fe.type)) full(end, fe.type, fe, sectors);
    }
  } else {
    full(id, type, facts, sectors);
  }

  let sum = 0;
  let n = 0;
  for (const o of referrers(id, 'o')) {
    const fo = get(o);
    if (!counts(fo) || fo.type !== 'opinion' || fo.opinion === undefined || !fo.refs?.includes(id)) continue;
    sum += fo.opinion;
    n++;
  }
  const sorted = [...sectors].sort();
  return n > 0 ? { sectors: sorted, opinion: sum / n } : { sectors: sorted };
}
