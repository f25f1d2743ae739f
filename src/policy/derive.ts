/**
 * Attributes of stored versions. Two parts:
 *   - `versionFacts`: what one object version says about itself (TLP from its whole-object
 *     markings, granular flag, confidence, revoked, its own sectors, and for links what they
 *     refer to). Pure; computed once per version by the ingestor, again by the re-indexer when
 *     what it depends on changes (a marking definition arrives, the configuration changes).
 *   - `deriveLinked`: sectors and opinion score that come from other objects (targets
 *     relationships, indicator -indicates-> X -targets-> identity chains, ends of relationships
 *     and sightings, opinions), by walking the links through a `LinkReader`. It is the
 *     definition: the re-indexer computes the same values incrementally from link summaries
 *     (linked.ts), and `relay check` compares every stored entry with this walk.
 *
 * Derived attributes must not leak: a link (relationship, sighting end, target identity,
 * opinion) counts only when its latest version is not revoked and is no more restricted (TLP)
 * than the object version being indexed. An unknown marking is more restrictive than RED.
 */
import type { LinkedAttributes, LinkKey, LinkRole, VersionFacts } from '../stix/attributes.ts';
import { resolveObjectTlp, TLP_MARKINGS, tlpRank, type ObjectTlp } from '../stix/markings.ts';
import type { StixObject } from '../stix/types.ts';
import type { NodePolicy } from './types.ts';

export type { LinkedAttributes, LinkKey, LinkRole, VersionFacts };

/** Rank of an object whose markings the node cannot classify: above RED. */
export const UNKNOWN_RANK = 5;

export const OPINION_VALUES: Readonly<Record<string, number>> = {
  'strongly-disagree': 1,
  disagree: 2,
  neutral: 3,
  agree: 4,
  'strongly-agree': 5,
};

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
    ownSectors: [...own].sort(),
  };
  if (typeof object.confidence === 'number') facts.confidence = object.confidence;
  if (object.type === 'relationship') {
    facts.relationshipType = String(object.relationship_type);
    facts.sourceRef = String(object.source_ref);
    facts.targetRef = String(object.target_ref);
    facts.refs = [...new Set([facts.sourceRef, facts.targetRef])];
  } else if (object.type === 'sighting') {
    facts.refs = [
      ...new Set([...strings(object.sighting_of_ref), ...strings(object.observed_data_refs), ...strings(object.where_sighted_refs)]),
    ];
  } else if (object.type === 'opinion') {
    facts.refs = [...new Set(strings(object.object_refs))];
    const value = OPINION_VALUES[String(object.opinion)];
    if (value !== undefined) facts.opinionValue = value;
  }
  return facts;
}

/**
 * The links a version makes while it is its object's latest: a `targets` relationship refers to
 * its source and target, an `indicates` relationship likewise, an opinion to each object it is
 * about. What summaries are built from.
 */
export function linkKeys(type: string, facts: VersionFacts | undefined): LinkKey[] {
  if (!facts?.refs) return [];
  if (type === 'relationship') {
    const roles = ROLES_OF[facts.relationshipType ?? ''];
    if (!roles) return [];
    const out: LinkKey[] = [];
    if (facts.sourceRef !== undefined) out.push([facts.sourceRef, roles[0]]);
    if (facts.targetRef !== undefined) out.push([facts.targetRef, roles[1]]);
    return out;
  }
  return type === 'opinion' ? facts.refs.map((ref): LinkKey => [ref, 'opinion-of']) : [];
}

const ROLES_OF: Readonly<Record<string, readonly [LinkRole, LinkRole]>> = {
  targets: ['targets-source', 'targets-target'],
  indicates: ['indicates-source', 'indicates-target'],
};

/** The ends of one version of a relationship or sighting (role end-of); none for other types. */
export function endRefs(type: string, facts: VersionFacts | undefined): readonly string[] {
  return isSro(type) && facts?.refs ? facts.refs : [];
}

/** Read access to the latest facts of objects in one collection, and who refers to them. */
export interface LinkReader {
  /** facts of the object's latest version (with its type), or undefined when absent */
  latest(id: string): (VersionFacts & { readonly type: string }) | undefined;
  /** ids whose latest version refers to `id` in that role */
  referrers(id: string, role: LinkRole): Iterable<string>;
}

export const isSro = (type: string) => type === 'relationship' || type === 'sighting';

const isEmpty = (it: Iterable<string>) => {
  for (const _ of it) return false;
  return true;
};

/** Sectors and opinion of one version of `id` (of `type`, with `facts`) from its links: the definition. */
export function deriveLinked(id: string, type: string, facts: VersionFacts, reader: LinkReader): LinkedAttributes {
  // Fast path: nothing targets-, indicates- or opinion-links it.
  if (
    !isSro(type) &&
    isEmpty(reader.referrers(id, 'targets-source')) &&
    isEmpty(reader.referrers(id, 'opinion-of')) &&
    (type !== 'indicator' || isEmpty(reader.referrers(id, 'indicates-source')))
  ) {
    return { sectors: facts.ownSectors };
  }
  const rank = facts.rank;
  const memo = new Map<string, (VersionFacts & { type: string }) | undefined>();
  const latest = (x: string) => {
    if (!memo.has(x)) memo.set(x, reader.latest(x));
    return memo.get(x);
  };
  const counts = (f: VersionFacts | undefined): f is VersionFacts & { type: string } => f !== undefined && !f.revoked && f.rank <= rank;
  const referrers = (x: string, role: LinkRole) => [...reader.referrers(x, role)];

  /** own sectors plus those of identities x targets */
  const base = (x: string, xFacts: VersionFacts, out: Set<string>) => {
    for (const s of xFacts.ownSectors) out.add(s);
    for (const relationship of referrers(x, 'targets-source')) {
      const rel = latest(relationship);
      if (
        !counts(rel) ||
        rel.type !== 'relationship' ||
        rel.relationshipType !== 'targets' ||
        rel.sourceRef !== x ||
        rel.targetRef === undefined
      ) {
        continue;
      }
      const target = latest(rel.targetRef);
      if (counts(target) && target.type === 'identity') for (const s of target.ownSectors) out.add(s);
    }
  };
  /** base, and for indicators the base of what they indicate */
  const full = (x: string, xType: string, xFacts: VersionFacts, out: Set<string>) => {
    base(x, xFacts, out);
    if (xType !== 'indicator') return;
    for (const relationship of referrers(x, 'indicates-source')) {
      const rel = latest(relationship);
      if (
        !counts(rel) ||
        rel.type !== 'relationship' ||
        rel.relationshipType !== 'indicates' ||
        rel.sourceRef !== x ||
        rel.targetRef === undefined
      ) {
        continue;
      }
      const indicated = latest(rel.targetRef);
      if (counts(indicated) && !isSro(indicated.type)) base(rel.targetRef, indicated, out);
    }
  };

  const sectors = new Set<string>();
  if (isSro(type)) {
    for (const s of facts.ownSectors) sectors.add(s);
    for (const end of facts.refs ?? []) {
      const endFacts = latest(end);
      if (counts(endFacts) && !isSro(endFacts.type)) full(end, endFacts.type, endFacts, sectors);
    }
  } else {
    full(id, type, facts, sectors);
  }

  let sum = 0;
  let n = 0;
  for (const opinionId of referrers(id, 'opinion-of')) {
    const opinion = latest(opinionId);
    if (!counts(opinion) || opinion.type !== 'opinion' || opinion.opinionValue === undefined || !opinion.refs?.includes(id)) continue;
    sum += opinion.opinionValue;
    n++;
  }
  const sorted = [...sectors].sort();
  return n > 0 ? { sectors: sorted, opinion: sum / n } : { sectors: sorted };
}
