/**
 * Policy configuration: each member's profile (`members[].policy`), the node-wide `policy`
 * section (default TLP, operator marking map, where sectors are read from) and what a
 * collection is (`kind`: mirror, view over a source collection, or write-only inbox).
 * Defaults are the conservative ones: unmarked objects are AMBER, a member sees up to GREEN.
 */
import { z } from 'zod';

const TLP_OF_CONFIG = {
  clear: 'clear',
  white: 'clear', // TLP 1.0 name, accepted as TLP 2.0 CLEAR
  green: 'green',
  amber: 'amber',
  'amber+strict': 'amber+strict',
  red: 'red',
} as const;

/** A member's ceiling: AMBER+STRICT and RED are never redistributed, so they are no ceiling. */
const ceilingSchema = z
  .enum(['clear', 'white', 'green', 'amber'], { message: 'expected clear (or white), green or amber' })
  .transform((v) => TLP_OF_CONFIG[v] as 'clear' | 'green' | 'amber');

const levelSchema = z
  .enum(['clear', 'white', 'green', 'amber', 'amber+strict', 'red'], {
    message: 'expected clear (or white), green, amber, amber+strict or red',
  })
  .transform((v) => TLP_OF_CONFIG[v]);

const typeName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a STIX type name such as "indicator"');
/** industry-sector-ov values; the vocabulary is open, so any non-empty string is tolerated */
const sectorName = z.string().min(1);

export const MEMBER_POLICY_DEFAULTS = {
  sectors: [] as string[],
  unscoped: true,
  tlp_ceiling: 'green' as const,
  attribution_consent: 'none' as const,
};

export const memberPolicySchema = z
  .strictObject({
    sectors: z.array(sectorName).default([]).describe('industry-sector-ov values of interest; empty: every sector'),
    unscoped: z.boolean().default(true).describe('with sectors set: also objects that have no sector'),
    tlp_ceiling: ceilingSchema.default('green'),
    min_confidence: z.number().int().min(0).max(100).optional(),
    min_opinion: z.number().min(1).max(5).optional(),
    allow_types: z.array(typeName).min(1).optional(),
    deny_types: z.array(typeName).optional(),
    attribution_consent: z.enum(['none', 'usg', 'everyone']).default('none'),
  })
  .default(MEMBER_POLICY_DEFAULTS);

const MARKING_ID = /^marking-definition--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROPERTY = /^[a-z0-9_]{3,250}$/;

export const POLICY_DEFAULTS = {
  default_tlp: 'amber' as const,
  marking_map: {} as Record<string, 'clear' | 'green' | 'amber' | 'amber+strict' | 'red'>,
  sector_properties: [] as string[],
  sector_labels: [] as string[],
};

export const policySchema = z
  .strictObject({
    default_tlp: levelSchema.default('amber').describe('TLP of objects without a TLP marking'),
    marking_map: z
      .record(z.string().regex(MARKING_ID, 'expected a marking-definition id'), levelSchema)
      .default({})
      .describe('extra marking-definition ids and the TLP level they count as'),
    sector_properties: z
      .array(z.string().regex(PROPERTY, 'expected a STIX property name (a-z, 0-9, _)'))
      .default([])
      .describe('custom properties whose string or list of strings names sectors'),
    sector_labels: z
      .array(z.string().min(1))
      .default([])
      .describe('label prefixes: a label "<prefix><sector>" puts the object in that sector'),
  })
  .default(POLICY_DEFAULTS);

/** The filter of a `kind: view` collection (ANDed with each member's own policy). */
export const viewFilterSchema = z.strictObject({
  sectors: z.array(sectorName).min(1).optional(),
  unscoped: z.boolean().default(false).describe('with sectors: also objects that have no sector'),
  min_confidence: z.number().int().min(0).max(100).optional(),
  min_opinion: z.number().min(1).max(5).optional(),
  types: z.array(typeName).min(1).optional(),
  tlp: ceilingSchema.optional().describe('highest TLP the view holds'),
});

/** Where an inbox forwards what members share: a writable collection of a configured upstream. */
export const forwardTargetSchema = z.strictObject({
  upstream: z.string().min(1).describe('name of an entry of `upstreams`'),
  collection: z.string().min(1).describe("the upstream's writable collection: id, alias or title"),
});

/** The extra keys of a collection (merged into the collection schema). */
export const collectionKindShape = {
  kind: z.enum(['mirror', 'view', 'inbox']).default('mirror'),
  source: z.string().min(1).optional().describe('view: id or alias of the collection it filters'),
  filter: viewFilterSchema.optional(),
  // share-back (inbox only): where accepted objects go, and how personal data is reviewed
  redistribute_to: z.string().min(1).optional().describe('inbox: id or alias of the collection members receive shared objects in'),
  forward_to: forwardTargetSchema.optional(),
  review_mode: z.enum(['withhold-fields', 'hold']).optional().describe('inbox: default withhold-fields'),
};

export type ForwardTargetConfig = z.infer<typeof forwardTargetSchema>;

export type MemberPolicyConfig = z.infer<typeof memberPolicySchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type ViewFilterConfig = z.infer<typeof viewFilterSchema>;
