/**
 * Linked attributes, maintained incrementally. `deriveLinked` (derive.ts) says what an object
 * version's sectors and opinion score are by walking its links; this module computes the same
 * values from a small per-object summary and keeps the summaries current as links change, so
 * that ingest re-derives only the objects whose attributes can actually change.
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
import { neverRedistributed } from './decide.ts';
import type { LinkedAttributes, LinkReader, VersionFacts } from './derive.ts';

/** [sector, threshold] pairs, sorted by sector: the sector counts for versions of rank >= threshold. */
export type SectorThresholds = ReadonlyArray<readonly [sector: string, rank: number]>;

/** [rank, sum of values, count] per rank of the opinions counted, ascending by rank. */
export type OpinionTotals = ReadonlyArray<readonly [rank: number, sum: number, count: number]>;

/** What an object's links give it, whichever of its versions is indexed. Empty parts are absent. */
export interface LinkSummary {
  readonly targeted?: SectorThresholds;
  readonly indicated?: SectorThresholds;
  readonly opinions?: OpinionTotals;
}

/** Linked attributes of one version, and for relationships and sightings where a sparse view finds them. */
export interface IndexedAttributes extends LinkedAttributes {
  /**
   * Relationships and sightings: the smallest of the sector sets a member must meet to receive
   * it — its own derived sectors and those of each end (a member receives it only if it receives
   * the relationship itself and every end) — [] when that set is empty (then only members taking
   * unscoped objects can), or null while an end is absent or never redistributed (nobody can).
   * The sector index needs nothing else to find it. Ties go to its own sectors, then the first
   * end in refs order.
   */
  readonly narrowest?: readonly string[] | null;
}

/** Latest facts, referrers and current summaries of one collection's objects. */
export interface SummaryReader extends LinkReader {
  summary(id: string): LinkSummary | undefined;
}

/** The latest version of an object changed: its facts before and after (undefined: none). */
export interface LatestChange {
  readonly id: string;
  readonly type: string;
  readonly before: VersionFacts | undefined;
  readonly after: VersionFacts | undefined;
}

export interface Propagation {
  /** summaries that changed (undefined: now empty); the caller stores them */
  readonly summaries: ReadonlyMap<string, LinkSummary | undefined>;
  /** objects whose stored versions may now have other linked attributes */
  readonly rederive: ReadonlySet<string>;
}

const isSro = (type: string) => type === 'relationship' || type === 'sighting';
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
  for (const rel of reader.referrers(x, 'ts')) {
    const fr = reader.latest(rel);
    if (fr === undefined || fr.type !== 'relationship' || fr.rt !== 'targets' || fr.src !== x || fr.tgt === undefined) continue;
    const fi = reader.latest(fr.tgt);
    if (fi === undefined || fi.type !== 'identity') continue;
    const from = Math.max(countsFrom(fr), countsFrom(fi));
    if (from === Infinity) continue;
    for (const s of fi.own) lower(m, s, from);
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
  for (const rel of reader.referrers(x, 'is')) {
    const fr = reader.latest(rel);
    if (fr === undefined || fr.type !== 'relationship' || fr.rt !== 'indicates' || fr.src !== x || fr.tgt === undefined) continue;
    const fy = reader.latest(fr.tgt);
    if (fy === undefined || isSro(fy.type)) continue;
    const from = Math.max(countsFrom(fr), countsFrom(fy));
    if (from === Infinity) continue;
    for (const s of fy.own) lower(m, s, from);
    for (const [s, t] of targeted(fr.tgt) ?? []) lower(m, s, Math.max(from, t));
  }
  return thresholds(m);
}

/** Opinion values about `x`, totalled per rank of the opinion. */
export function opinionsOf(x: string, reader: LinkReader): OpinionTotals | undefined {
  const totals = new Map<number, [number, number, number]>();
  for (const o of reader.referrers(x, 'o')) {
    const fo = reader.latest(o);
    if (fo === undefined || fo.type !== 'opinion' || fo.opinion === undefined || !fo.refs?.includes(x)) continue;
    const from = countsFrom(fo);
    if (from === Infinity) continue;
    const t = totals.get(from);
    if (t) {
      t[1] += fo.opinion;
      t[2]++;
    } else totals.set(from, [from, fo.opinion, 1]);
  }
  return totals.size === 0 ? undefined : [...totals.values()].sort((a, b) => a[0] - b[0]);
}

/** The summary of `x` from its links as they are now. */
export function summaryOf(
  x: string,
  reader: LinkReader,
  targeted: (y: string) => SectorThresholds | undefined = (y) => targetedOf(y, reader),
): LinkSummary | undefined {
  const t = targetedOf(x, reader);
  const i = typeOfId(x) === 'indicator' ? indicatedOf(x, reader, targeted) : undefined;
  const o = opinionsOf(x, reader);
  if (t === undefined && i === undefined && o === undefined) return undefined;
  return { ...(t ? { targeted: t } : {}), ...(i ? { indicated: i } : {}), ...(o ? { opinions: o } : {}) };
}

/** Linked sectors and opinion score of one version of `id` (of `type`, with `facts`), from summaries. */
export function linkedOfVersion(id: string, type: string, facts: VersionFacts, reader: SummaryReader, withEnds = true): IndexedAttributes {
  const r = facts.rank;
  const summary = reader.summary(id);
  let sectors: Set<string> | undefined;
  const add = (s: string) => (sectors ??= new Set(facts.own)).add(s);
  const addUpTo = (list: SectorThresholds | undefined) => {
    if (list) for (const [s, t] of list) if (t <= r) add(s);
  };
  if (isSro(type)) {
    for (const end of facts.refs ?? []) {
      const fe = reader.latest(end);
      if (fe === undefined || isSro(fe.type) || countsFrom(fe) > r) continue;
      for (const s of fe.own) add(s);
      const se = reader.summary(end);
      if (se) {
        addUpTo(se.targeted);
        addUpTo(se.indicated);
      }
    }
  } else if (summary) {
    addUpTo(summary.targeted);
    addUpTo(summary.indicated);
  }
  let sum = 0;
  let n = 0;
  for (const [rank, s, c] of summary?.opinions ?? []) {
    if (rank > r) break;
    sum += s;
    n += c;
  }
  const list = sectors === undefined ? facts.own : [...sectors].sort();
  const linked: LinkedAttributes = n > 0 ? { sectors: list, opinion: sum / n } : { sectors: list };
  return isSro(type) && withEnds ? { ...linked, narrowest: narrowestOf(list, facts.refs ?? [], reader) } : linked;
}

/** See IndexedAttributes.narrowest; an end's sectors are those of its latest version. */
function narrowestOf(own: readonly string[], refs: readonly string[], reader: SummaryReader): readonly string[] | null {
  let narrowest = own;
  for (const end of refs) {
    // an end that is itself a relationship or sighting (not valid STIX) tells nothing here:
    // leaving it out only files the relationship under more sectors, never fewer
    if (isSro(typeOfId(end))) continue;
    const fe = reader.latest(end);
    if (fe === undefined || neverRedistributed(fe.tlp)) return null;
    const sectors = linkedOfVersion(end, fe.type, fe, reader, false).sectors;
    if (sectors.length < narrowest.length) narrowest = sectors;
  }
  return narrowest;
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** Whether an object's change matters to what links to it: when it counts, and its own sectors. */
function endChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  const from = countsFrom(after);
  return countsFrom(before) !== from || (from !== Infinity && !sameList(before?.own, after?.own));
}

/**
 * Whether an object's change matters to the relationships and sightings on it beyond their
 * sectors: where the sector index files them (see IndexedAttributes.narrowest) follows the
 * end's existence, rank, revocation, own sectors and whether it is ever redistributed.
 */
function endIndexChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  return (
    before.rank !== after.rank ||
    before.revoked !== after.revoked ||
    !sameList(before.own, after.own) ||
    neverRedistributed(before.tlp) !== neverRedistributed(after.tlp)
  );
}

/** Whether a relationship's or opinion's change matters to what it refers to. */
function linkChanged(before: VersionFacts | undefined, after: VersionFacts | undefined): boolean {
  return (
    countsFrom(before) !== countsFrom(after) ||
    before?.rt !== after?.rt ||
    before?.opinion !== after?.opinion ||
    // a relationship's refs are [source, target] in that order
    !sameList(before?.refs, after?.refs)
  );
}

function sameThresholds(a: SectorThresholds | undefined, b: SectorThresholds | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every(([s, t], i) => s === b[i]?.[0] && t === b[i]?.[1]);
}

function sameTotals(a: OpinionTotals | undefined, b: OpinionTotals | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every(([r, s, c], i) => r === b[i]?.[0] && s === b[i]?.[1] && c === b[i]?.[2]);
}

/**
 * What a transaction's latest-version changes do to summaries, and which objects must have
 * their versions re-derived. Reads the links as they are after the changes (the caller relinks
 * first). Propagation stops where a summary comes out unchanged:
 *   identity's own sectors / rank  -> `targeted` of the objects targeting it
 *   targets relationship           -> `targeted` of its source
 *   `targeted` of y changed        -> y re-derived; `indicated` of the indicators of y
 *   object's own sectors / rank    -> `indicated` of indicators of it
 *   indicates relationship         -> `indicated` of its source
 *   opinion                        -> `opinions` of what it refers to
 *   any summary of y changed       -> y re-derived
 *   y's summaries, own sectors, rank, revocation or whether it is ever redistributed changed
 *                                  -> relationships and sightings any version of which has y
 *                                     as an end (role v) re-derived
 */
export function propagate(changes: readonly LatestChange[], reader: SummaryReader): Propagation {
  const targetedDirty = new Set<string>();
  const indicatedDirty = new Set<string>();
  const opinionsDirty = new Set<string>();
  const ends = new Set<string>();
  const sourcesOf = (y: string, role: 'tt' | 'it', into: Set<string>) => {
    for (const rel of reader.referrers(y, role)) {
      const src = reader.latest(rel)?.src;
      if (src !== undefined) into.add(src);
    }
  };

  for (const { id, type, before, after } of changes) {
    if (type === 'relationship' && linkChanged(before, after)) {
      for (const f of [before, after]) {
        if (f?.src === undefined) continue;
        if (f.rt === 'targets') targetedDirty.add(f.src);
        else if (f.rt === 'indicates') indicatedDirty.add(f.src);
      }
    } else if (type === 'opinion' && linkChanged(before, after)) {
      for (const f of [before, after]) for (const ref of f?.refs ?? []) opinionsDirty.add(ref);
    }
    // any non-SRO (an opinion too) can be the end of a relationship or sighting
    if (!isSro(type) && endChanged(before, after)) {
      ends.add(id);
      if (type === 'identity') sourcesOf(id, 'tt', targetedDirty);
      sourcesOf(id, 'it', indicatedDirty);
    } else if (!isSro(type) && endIndexChanged(before, after)) {
      ends.add(id);
    }
  }

  const summaries = new Map<string, LinkSummary | undefined>();
  const current = (x: string) => (summaries.has(x) ? summaries.get(x) : reader.summary(x));
  const rederive = new Set<string>();
  const update = (x: string, part: keyof LinkSummary, value: LinkSummary[keyof LinkSummary]) => {
    const { [part]: _old, ...rest } = current(x) ?? {};
    const next: LinkSummary = value === undefined ? rest : { ...rest, [part]: value };
    summaries.set(x, Object.keys(next).length === 0 ? undefined : next);
    rederive.add(x);
  };

  for (const x of targetedDirty) {
    const now = targetedOf(x, reader);
    if (sameThresholds(current(x)?.targeted, now)) continue;
    update(x, 'targeted', now);
    ends.add(x);
    sourcesOf(x, 'it', indicatedDirty);
  }
  for (const x of indicatedDirty) {
    if (typeOfId(x) !== 'indicator') continue;
    const now = indicatedOf(x, reader, (y) => current(y)?.targeted);
    if (sameThresholds(current(x)?.indicated, now)) continue;
    update(x, 'indicated', now);
    ends.add(x);
  }
  for (const x of opinionsDirty) {
    const now = opinionsOf(x, reader);
    if (sameTotals(current(x)?.opinions, now)) continue;
    update(x, 'opinions', now);
  }
  for (const y of ends) for (const z of reader.referrers(y, 'v')) rederive.add(z);
  return { summaries, rederive };
}

/** Whether two summaries are equal (for `relay check`). */
export function sameSummary(a: LinkSummary | undefined, b: LinkSummary | undefined): boolean {
  return sameThresholds(a?.targeted, b?.targeted) && sameThresholds(a?.indicated, b?.indicated) && sameTotals(a?.opinions, b?.opinions);
}
