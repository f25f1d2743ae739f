/**
 * What is known of a stored object version, as data: the shapes policy/ derives and store/
 * keeps. Pure types, no logic, so that the store can hold attributes without importing the
 * module that decides with them (docs/ARCHITECTURE.md, who may import whom).
 */
import type { ObjectTlp } from './markings.ts';

/** What one object version says about itself: exact at commit, derived from its body alone (and the node's policy settings). */
export interface VersionFacts {
  readonly tlp: ObjectTlp;
  /** effective TLP rank for link comparisons (unmarked: the default TLP; unknown markings: above RED) */
  readonly rank: number;
  /** whether it carries granular markings (then redaction may apply) */
  readonly granular: boolean;
  readonly confidence?: number;
  readonly revoked: boolean;
  /** sectors it names itself: identity `sectors`, configured custom properties and label prefixes */
  readonly ownSectors: readonly string[];
  /** relationships: their `relationship_type`, `source_ref` and `target_ref` */
  readonly relationshipType?: string;
  readonly sourceRef?: string;
  readonly targetRef?: string;
  /** what it refers to (distinct): relationship ends, sighting refs, opinion object_refs */
  readonly refs?: readonly string[];
  /** opinions: their value, 1 (strongly-disagree) to 5 (strongly-agree) */
  readonly opinionValue?: number;
}

/** What a version gets from other objects that link to it: eventually consistent, kept by the re-indexer. */
export interface LinkedAttributes {
  /** its own sectors plus those its links give it, sorted */
  readonly sectors: readonly string[];
  /** mean opinion value of the opinions about the object that count for this version */
  readonly opinion?: number;
}

/**
 * How a link refers to an object. The latest version of a `targets` relationship refers to its
 * source and target, of an `indicates` relationship likewise, the latest version of an opinion
 * to each of its object_refs: the links summaries are built from. Every version of a
 * relationship or sighting refers to each of its ends (`end-of`): the relationships and
 * sightings whose attributes follow that end.
 */
export type LinkRole = 'targets-source' | 'targets-target' | 'indicates-source' | 'indicates-target' | 'opinion-of' | 'end-of';

/** One link of a version: the object it refers to, and how. */
export type LinkKey = readonly [referenced: string, role: LinkRole];

/** [sector, threshold] pairs sorted by sector: the sector counts for versions of rank >= threshold. */
export type SectorThresholds = ReadonlyArray<readonly [sector: string, rank: number]>;

/** [rank, sum of values, count] per rank of the opinions counted, ascending by rank. */
export type OpinionTotals = ReadonlyArray<readonly [rank: number, sum: number, count: number]>;

/** What an object's links give it, whichever of its versions is indexed. Empty parts are absent. */
export interface LinkSummary {
  /** sectors of the identities it targets */
  readonly targeted?: SectorThresholds;
  /** indicators: own and targeted sectors of what they indicate */
  readonly indicated?: SectorThresholds;
  /** opinions about it, per rank */
  readonly opinions?: OpinionTotals;
}

/** The parts of a summary, each recomputed on its own when links change. */
export type SummaryPart = keyof LinkSummary;

/**
 * What the objects referring to one in some role are told when it changes: derive your linked
 * attributes again, move your latest version to a new date_added (re-announce), or recompute a
 * summary part of your source (a relationship's source: its targeted or indicated sectors).
 */
export type ReferrerNotice = 'rederive' | 'announce' | 'targeted-of-source' | 'indicated-of-source';

/** Sector-index filing keys with a meaning of their own (the others are sector names). */
export const FILING = {
  /** entries without any sector */
  unscoped: '',
  /** what reaches every reader whatever its sectors (marking and extension definitions): every sector scan reads it */
  everyReader: '\u0000every-reader',
} as const;

/** What a policy decision needs to know of one object version: its own facts and what its links give it. */
export interface ObjectAttributes {
  readonly type: string;
  readonly tlp: ObjectTlp;
  readonly sectors: readonly string[];
  readonly confidence?: number | undefined;
  /** mean of opinion values (1 strongly-disagree … 5 strongly-agree) about the object */
  readonly opinion?: number | undefined;
  readonly revoked: boolean;
  /** whether the object has granular markings (then redaction may apply) */
  readonly granular: boolean;
  /** relationships and sightings: the objects they refer to (each must be visible for them to be) */
  readonly refs?: readonly string[];
}
