/** The inputs of a policy decision: what a member wants, and what is known of an object. */
import type { TlpLevel } from '../stix/markings.ts';

/** The highest TLP a member may receive: AMBER+STRICT and RED are never redistributed. */
export type TlpCeiling = Extract<TlpLevel, 'clear' | 'green' | 'amber'>;

export type AttributionConsent = 'none' | 'usg' | 'everyone';

export interface MemberProfile {
  readonly memberId: string;
  /** industry-sector-ov values of interest; empty means every sector */
  readonly sectors: readonly string[];
  /** whether objects with no sector at all are wanted (only matters when sectors is set) */
  readonly unscoped: boolean;
  readonly tlpCeiling: TlpCeiling;
  /** floors apply to objects that carry the property; objects without it pass */
  readonly minConfidence?: number | undefined;
  readonly minOpinion?: number | undefined;
  /** when set, only these types */
  readonly allowTypes?: readonly string[] | undefined;
  readonly denyTypes?: readonly string[] | undefined;
  readonly consent: AttributionConsent;
}

/** Node-wide policy settings. */
export interface PolicySettings {
  /** TLP given to objects without any TLP marking */
  readonly defaultTlp: TlpLevel;
}

/** Node-wide policy settings from config, including what ingest derives attributes with. */
export interface NodePolicy extends PolicySettings {
  /** operator-mapped marking-definition ids (community or vendor markings) and their level */
  readonly markingMap: ReadonlyMap<string, TlpLevel>;
  /** custom properties naming sectors (a string or a list of strings) */
  readonly sectorProperties: readonly string[];
  /** label prefixes: label "<prefix><sector>" names a sector */
  readonly sectorLabels: readonly string[];
}

export const DEFAULT_NODE_POLICY: NodePolicy = {
  defaultTlp: 'amber',
  markingMap: new Map(),
  sectorProperties: [],
  sectorLabels: [],
};

/** What the policy needs to know of one object version (a data type shared with the store). */
export type { ObjectAttributes } from '../stix/attributes.ts';
