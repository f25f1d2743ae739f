/**
 * Linked attributes, maintained incrementally. `deriveLinked` (derive.ts) says what an object
 * version's sectors and opinion score are by walking its links; this module computes the same
 * values from a small per-object summary, and says what a change means for other objects, so
 * that the re-indexer (src/derive/) derives again only what can actually change.
 *
 * Why thresholds work: a link path (a targets relationship and its identity; an indicates
 * relationship, what it indicates, and that object's targets) contributes to a version of rank
 * r exactly when no object on the path is revoked or ranked above r. So a path contributes from
 * rank max(ranks on the path) upwards, and a sector from the lowest such rank over its paths:
 * one threshold per sector gives the linked sectors of every version of the object at once.
 *
 * Summaries (per object id, per collection):
 *   targeted   sectors of identities the object targets
 *   indicated  indicators only: own and targeted sectors of what they indicate
 *   opinions   per rank, the sum and count of opinion values about the object
 * Relationships and sightings take their ends' sectors: own sectors of the end (from its
 * threshold, its rank) and its summaries, counted when the end's rank is within the SRO's.
 */
import type {
  LinkedAttributes,
  LinkRole,
  LinkSummary,
  ObjectAttributes,
  OpinionTotals,
  ReferrerNotice,
  SectorThresholds,
  SummaryPart,
  VersionFacts,
} from '../stix/attributes.ts';
import { mayReachMore, neverRedistributed } from './decide.ts';
import { isSro, type LinkReader } from './derive.ts';

/** Latest facts, referrers and current summaries of one collection's objects. */
export interface SummaryReader extends LinkReader {
  summary(id: string): LinkSummary | undefined;
}

/** the STIX type of an id (validated at ingest: the prefix is the type) */
const typeOfId = (id: string) => id.slice(0, id.indexOf('--'));
/** the rank from which a linked object counts; revoked or absent objects never count */
const countsFrom = (f: VersionFacts | undefined): number => (f === undefined || f.revoked ? Infinity : f.rank);

function lower(into: Map<string, number>, sector: string, rank: number): void {
  const had = into.get(sector);
  if (had === undefined || rank < had) into.set(sector, rank);
}

function thresholds(m: Map<string, number>): SectorThresholds | undefined {
  if (m.size === 0) return undefined;
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Sectors of the identities `x` targets, with the rank each counts from. */
export function targetedOf(x: string, reader: LinkReader): SectorThresholds | undefined {
  const m = new Map<string, number>();
  for (const relationship of reader.referrers(x, 'targets-source')) {
    const rel = reader.latest(relationship);
    if (
      rel === undefined ||
      rel.type !== 'relationship' ||
      rel.relationshipType !== 'targets' ||
      rel.sourceRef !== x ||
      rel.targetRef === undefined
    ) {
      continue;
    }
    const identity = reader.latest(rel.targetRef);
    if (identity === undefined || identity.type !== 'identity') continue;
    const from = Math.max(countsFrom(rel), countsFrom(identity));
    if (from === Infinity) continue;
    for (const s of identity.ownSectors) lower(m, s, from);
  }
  return thresholds(m);
}

/** For an indicator: own and targeted sectors of what it indicates, with the rank each counts from. */
export function indicatedOf(
  x: string,
  reader: LinkReader,
  targeted: (y: string) => SectorThresholds | undefined,
): SectorThresholds | undefined {
  const m = new Map<string, number>();
  for (const relationship of reader.referrers(x, 'indicates-source')) {
    const rel = reader.latest(relationship);
    if (
      rel === undefined ||
      rel.type !== 'relationship' ||
      rel.relationshipType !== 'indicates' ||
      rel.sourceRef !== x ||
      rel.targetRef === undefined
    ) {
      continue;
    }
    const indicated = reader.latest(rel.targetRef);
    if (indicated === undefined || isSro(indicated.type)) continue;
    const from = Math.max(countsFrom(rel), countsFrom(indicated));
    if (from === Infinity) continue;
    for (const s of indicated.ownSectors) lower(m, s, from);
    for (const [s, t] of targeted(rel.targetRef) ?? []) lower(m, s, Math.max(from, t));
  }
  return thresholds(m);
}

/** Opinion values about `x`, totalled per rank of the opinion. */
export function opinionsOf(x: string, reader: LinkReader): OpinionTotals | undefined {
  const totals = new Map<number, [number, number, number]>();
  for (const opinionId of reader.referrers(x, 'opinion-of')) {
    const opinion = reader.latest(opinionId);
    if (opinion === undefined || opinion.type !== 'opinion' || opinion.opinionValue === undefined || !opinion.refs?.includes(x)) continue;
    const from = countsFrom(opinion);
    if (from === Infinity) continue;
    const t = totals.get(from);
    if (t) {
      t[1] += opinion.opinionValue;
      t[2]++;
    } else totals.set(from, [from, opinion.opinionValue, 1]);
  }
  return totals.size === 0 ? undefined : [...totals.values()].sort((a, b) => a[0] - b[0]);
}

/** One part of the summary of `x`, from its links as they are now (`targeted` of others read from their summaries). */
export function summaryPartOf(x: string, part: SummaryPart, reader: SummaryReader): LinkSummary[SummaryPart] {
  if (part === 'targeted') return targetedOf(x, reader);
  if (part === 'indicated') return typeOfId(x) === 'indicator' ? indicatedOf(x, reader, (y) => reader.summary(y)?.targeted) : undefined;
  return opinionsOf(x, reader);
}

/** The summary of `x` from its links as they are now (the definition `relay check` compares with). */
export function summaryOf(x: string, reader: LinkReader): LinkSummary | undefined {
  const t = targetedOf(x, reader);
  const i = typeOfId(x) === 'indicator' ? indicatedOf(x, reader, (y) => targetedOf(y, reader)) : undefined;
  const o = opinionsOf(x, reader);
  if (t === undefined && i === undefined && o === undefined) return undefined;
  return { ...(t ? { targeted: t } : {}), ...(i ? { indicated: i } : {}), ...(o ? { opinions: o } : {}) };
}

/** Linked sectors and opinion score of one version of `id` (of `type`, with `facts`), from summaries. */
export function linkedOfVersion(id: string, type: string, facts: VersionFacts, reader: SummaryReader): LinkedAttributes {
  const rank = facts.rank;
  const summary = reader.summary(id);
  let sectors: Set<string> | undefined;
  const add = (s: string) => (sectors ??= new Set(facts.ownSectors)).add(s);
  const addUpTo = (list: SectorThresholds | undefined) => {
    if (list) for (const [s, t] of list) if (t <= rank) add(s);
  };
  if (isSro(type)) {
    for (const end of facts.refs ?? []) {
      const endFacts = reader.latest(end);
      if (endFacts === undefined || isSro(endFacts.type) || countsFrom(endFacts) > rank) continue;
      for (const s of endFacts.ownSectors) add(s);
      const endSummary = reader.summary(end);
      if (endSummary) {
        addUpTo(endSummary.targeted);
        addUpTo(endSummary.indicated);
      }
    }
  } else if (summary) {
    addUpTo(summary.targeted);
    addUpTo(summary.indicated);
  }
  let sum = 0;
  let n = 0;
  for (const [r, s, c] of summary?.opinions ?? []) {
    if (r > rank) break;
    sum += s;
    n += c;
  }
  const list = sectors === undefined ? facts.ownSectors : [...sectors].sort();
  return n > 0 ? { sectors: list, opinion: sum / n } : { sectors: list };
}

/**
 * Relationships and sightings: the smallest of the sector sets a member must meet to receive
 * it — its own derived sectors and those of each end (a member receives it only if it receives
 * the relationship itself and every end) — [] when that set is empty (then only members taking
 * unscoped objects can), or null while an end is absent or never redistributed (nobody can).
 * The sector index needs nothing else to find it. Ties go to its own sectors, then the first end
 * in refs order. An end's sectors are those of its latest version.
 */
export function narrowestOf(sectors: readonly string[], refs: readonly string[], reader: SummaryReader): readonly string[] | null {
  let narrowest = sectors;
  for (const end of refs) {
    // an end that is itself a relationship or sighting (not valid STIX) tells nothing here:
    // leaving it out only files the relationship under more sectors, never fewer
    if (isSro(typeOfId(end))) continue;
    const endFacts = reader.latest(end);
    if (endFacts === undefined || neverRedistributed(endFacts.tlp)) return null;
    const endSectors = linkedOfVersion(end, endFacts.type, endFacts, reader).sectors;
    if (endSectors.length < narrowest.length) narrowest = endSectors;
  }
  return narrowest;
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** Whether an object's change matters to what links to it: when it counts, and its own sectors. */
function endChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  const from = countsFrom(after);
  return countsFrom(before) !== from || (from !== Infinity && !sameList(before?.ownSectors, after?.ownSectors));
}

/**
 * Whether an object's change matters to the relationships and sightings on it beyond their
 * sectors: where the sector index files them (narrowestOf) follows the end's existence, rank,
 * revocation, own sectors and whether it is ever redistributed.
 */
function endIndexChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  return (
    before.rank !== after.rank ||
    before.revoked !== after.revoked ||
    !sameList(before.ownSectors, after.ownSectors) ||
    neverRedistributed(before.tlp) !== neverRedistributed(after.tlp)
  );
}

/** Whether a relationship's or opinion's change matters to what it refers to. */
function linkChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  return (
    countsFrom(before) !== countsFrom(after) ||
    before?.relationshipType !== after?.relationshipType ||
    before?.opinionValue !== after?.opinionValue ||
    // a relationship's refs are [source, target] in that order
    !sameList(before?.refs, after?.refs)
  );
}

/** What a change means for other objects: a summary part to compute again, or the referrers in a role to tell something. */
export type Effect =
  | { readonly kind: 'summary'; readonly of: string; readonly part: SummaryPart }
  | { readonly kind: 'referrers'; readonly role: LinkRole; readonly notice: ReferrerNotice };

/**
 * What the change of an object's latest version (its facts before and after; undefined: none)
 * means for the objects linked to it. Propagation continues only where a recomputed summary
 * part comes out different (see `summaryChangeEffects`):
 *   targets relationship            -> `targeted` of its source(s)
 *   indicates relationship          -> `indicated` of its source(s)
 *   opinion                         -> `opinions` of what it is about
 *   identity's own sectors / rank   -> `targeted` of the sources of targets relationships to it
 *   object's own sectors / rank     -> `indicated` of the sources of indicates relationships to it
 *   an end's existence, rank, revocation, own sectors, redistribution
 *                                   -> the relationships and sightings on it derived again
 */
export function changeEffects(type: string, before: VersionFacts | undefined, after: VersionFacts | undefined): Effect[] {
  const effects: Effect[] = [];
  if (type === 'relationship' && linkChanged(before, after)) {
    const sources = new Set<string>();
    for (const f of [before, after]) {
      if (f?.sourceRef === undefined) continue;
      const part = f.relationshipType === 'targets' ? 'targeted' : f.relationshipType === 'indicates' ? 'indicated' : undefined;
      if (part && !sources.has(`${part} ${f.sourceRef}`)) {
        sources.add(`${part} ${f.sourceRef}`);
        effects.push({ kind: 'summary', of: f.sourceRef, part });
      }
    }
  } else if (type === 'opinion' && linkChanged(before, after)) {
    for (const ref of new Set([...(before?.refs ?? []), ...(after?.refs ?? [])]))
      effects.push({ kind: 'summary', of: ref, part: 'opinions' });
  }
  if (!isSro(type)) {
    // any non-SRO (an opinion too) can be the end of a relationship or sighting
    if (endChanged(before, after)) {
      if (type === 'identity') effects.push({ kind: 'referrers', role: 'targets-target', notice: 'targeted-of-source' });
      effects.push({ kind: 'referrers', role: 'indicates-target', notice: 'indicated-of-source' });
      effects.push({ kind: 'referrers', role: 'end-of', notice: 'rederive' });
    } else if (endIndexChanged(before, after)) {
      effects.push({ kind: 'referrers', role: 'end-of', notice: 'rederive' });
    }
  }
  return effects;
}

/** What a changed summary part of an object means for the objects linked to it. */
export function summaryChangeEffects(part: SummaryPart): Effect[] {
  if (part === 'opinions') return []; // an opinion score is the object's own; ends' sectors do not include it
  // The sources of indicates relationships first: an indicator that gains sectors re-derives and
  // announces its relationship itself, so the relationship, told after it, moves once, not twice.
  const effects: Effect[] = part === 'targeted' ? [{ kind: 'referrers', role: 'indicates-target', notice: 'indicated-of-source' }] : [];
  effects.push({ kind: 'referrers', role: 'end-of', notice: 'rederive' });
  return effects;
}

/**
 * Whether the relationships and sightings on an object must be announced again after it
 * changed from `before` to `after` (they are served only while every end is, so an end that may
 * now reach more members may make them visible).
 */
export function announcesReferrers(before: ObjectAttributes | undefined, after: ObjectAttributes | undefined): boolean {
  return mayReachMore(before, after);
}

/** Whether two summaries are equal. */
export function sameSummary(a: LinkSummary | undefined, b: LinkSummary | undefined): boolean {
  return samePart(a?.targeted, b?.targeted) && samePart(a?.indicated, b?.indicated) && samePart(a?.opinions, b?.opinions);
}

/** Whether two values of one summary part are equal. */
export function samePart(a: LinkSummary[SummaryPart], b: LinkSummary[SummaryPart]): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x.every((y, j) => y === b[i]?.[j]));
}

export type { LinkSummary, OpinionTotals, SectorThresholds };
