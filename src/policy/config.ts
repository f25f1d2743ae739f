/** Policy inputs from the configuration: member profiles, node settings, view filters. */
import type { MemberConfig, RelayConfig } from '../config/index.ts';
import type { ViewFilterConfig } from '../config/policy.ts';
import type { TlpLevel } from '../stix/markings.ts';
import type { MemberProfile, NodePolicy } from './types.ts';

export function memberProfile(member: MemberConfig): MemberProfile {
  const p = member.policy;
  return {
    memberId: member.id,
    sectors: p.sectors,
    unscoped: p.unscoped,
    tlpCeiling: p.tlp_ceiling,
    minConfidence: p.min_confidence,
    minOpinion: p.min_opinion,
    allowTypes: p.allow_types,
    denyTypes: p.deny_types,
    consent: p.attribution_consent,
  };
}

export function nodePolicy(config: Pick<RelayConfig, 'policy'>): NodePolicy {
  const p = config.policy;
  return {
    defaultTlp: p.default_tlp,
    markingMap: new Map<string, TlpLevel>(Object.entries(p.marking_map)),
    sectorProperties: p.sector_properties,
    sectorLabels: p.sector_labels,
  };
}

/** A view's filter as a profile, so views go through the same decide() as members. */
export function viewProfile(collectionId: string, filter: ViewFilterConfig | undefined): MemberProfile {
  return {
    memberId: `view:${collectionId}`,
    sectors: filter?.sectors ?? [],
    unscoped: filter?.sectors ? filter.unscoped : true,
    tlpCeiling: filter?.tlp ?? 'amber',
    minConfidence: filter?.min_confidence,
    minOpinion: filter?.min_opinion,
    allowTypes: filter?.types,
    denyTypes: undefined,
    consent: 'none',
  };
}
