/**
 * Which versions may cross from this node to its federation peers, by the version's TLP
 * (`stix/markings.ts` `ObjectTlp`, as ingest resolved it). Defaults:
 *
 * - CLEAR, GREEN, AMBER: sent. AMBER allows sharing "within their organization and its clients"
 *   on a need-to-know basis; the ISAC's nodes serve the ISAC's members, who are exactly those.
 * - AMBER+STRICT: not sent unless `allowAmberStrict`. It restricts sharing to "the organization
 *   only". A federation run entirely by one organization is that organization, and it may turn
 *   this on; but federations also place nodes at members or partners (nodes "near its members"),
 *   whose operators are other organizations, and the sender cannot tell which peers those are.
 *   No member is ever served AMBER+STRICT (`policy/decide.ts`), so keeping it on the node that
 *   received it loses no member a delivery.
 * - RED: not sent unless `allowRed`. RED is for the named recipients only, with no further
 *   disclosure; replicating it is a disclosure to every peer's operators.
 * - unmarked: judged as `policy.default_tlp` (AMBER by default), as for members.
 * - unknown marking (neither TLP, nor mapped in `policy.marking_map`, nor a known statement):
 *   never sent, and no setting sends it: the node cannot know what the marking allows (fail
 *   closed, as for members). Mapping the marking to a TLP level makes it a known level.
 *
 * The reconciled set is the set a node may send: versions and tombstones that pass here, in the
 * mirror collections (`egressRule`, which the store applies to its item set). Every node of a
 * federation must therefore use the same egress settings; otherwise a version one node sends and
 * the other keeps to itself shows as a difference in every anti-entropy session.
 */
import type { ObjectTlp, TlpLevel } from '../stix/markings.ts';
import type { ReconRule } from '../store/index.ts';

export interface EgressPolicy {
  /** RED versions cross to peers */
  readonly allowRed: boolean;
  /** AMBER+STRICT versions cross to peers (only when every node is run by the same organization) */
  readonly allowAmberStrict: boolean;
}

export const DEFAULT_EGRESS: EgressPolicy = { allowRed: false, allowAmberStrict: false };

export type EgressDecision = { readonly send: true } | { readonly send: false; readonly because: string };

const SEND: EgressDecision = { send: true };

/** Whether a version with this TLP may be sent to peers, and if not, why (for logs and `explain`). */
export function egressOf(tlp: ObjectTlp, defaultTlp: TlpLevel, policy: EgressPolicy = DEFAULT_EGRESS): EgressDecision {
  if (tlp.kind === 'unknown') {
    return {
      send: false,
      because: `unknown marking ${tlp.markings.join(', ')}: never sent to peers (map it in policy.marking_map)`,
    };
  }
  const level = tlp.kind === 'unmarked' ? defaultTlp : tlp.level;
  const label = tlp.kind === 'unmarked' ? `unmarked (policy.default_tlp: ${level.toUpperCase()})` : `TLP:${level.toUpperCase()}`;
  if (level === 'red' && !policy.allowRed) return { send: false, because: `${label}: not sent to peers unless allow_red is set` };
  if (level === 'amber+strict' && !policy.allowAmberStrict) {
    return { send: false, because: `${label}: organization only; not sent to peers unless allow_amber_strict is set` };
  }
  return SEND;
}

/**
 * A tombstone carries no content, only the id and version it deletes. It follows the decision for
 * that version when the node knows its TLP (a RED version that never left needs no tombstone
 * abroad); a tombstone for a version the node never held came from a peer and is passed on.
 */
export function egressOfTombstone(
  deletedVersionTlp: ObjectTlp | undefined,
  defaultTlp: TlpLevel,
  policy: EgressPolicy = DEFAULT_EGRESS,
): EgressDecision {
  if (deletedVersionTlp === undefined) return SEND;
  return egressOf(deletedVersionTlp, defaultTlp, policy);
}

/** Version of what `egressRule` decides by: a change to the rules above bumps it (the sets are rebuilt). */
const EGRESS_RULE_VERSION = 1;

/**
 * The store's reconciliation rule (store/federation-items.ts): its item set holds the versions and
 * tombstones of `collections` (the mirrors) that these settings send. The fingerprint names every
 * input, so a store opened with other settings rebuilds its set.
 */
export function egressRule(collections: Iterable<string>, defaultTlp: TlpLevel, policy: EgressPolicy): ReconRule {
  const mirrors = [...new Set(collections)].sort();
  const settings: EgressPolicy = { allowRed: policy.allowRed, allowAmberStrict: policy.allowAmberStrict };
  return {
    fingerprint: JSON.stringify({ egress: EGRESS_RULE_VERSION, collections: mirrors, defaultTlp, ...settings }),
    collections: new Set(mirrors),
    sendsVersion: (tlp) => egressOf(tlp, defaultTlp, settings).send,
    sendsTombstone: (deletedTlp) => egressOfTombstone(deletedTlp, defaultTlp, settings).send,
  };
}
