/**
 * What releasing some of a member's objects sends where: the members' form (ingested into the
 * inbox's redistribute_to mirror) and the hub's form (queued in the outbox for forward_to), each
 * anonymized or not per the member's consent (anonymize.ts), with the re-issue mappings to keep.
 * An object whose anonymized form would still name the member in an IOC value (which the relay
 * never alters) is not released: the processor holds it for a reviewer. Pure.
 */
import type { StixObject } from '../stix/types.ts';
import { batchToAudience, type BatchResult, type Outgoing, type Release, type ReissuedLookup, type ReissueMapping } from './anonymize.ts';
import type { Audience } from './consent.ts';
import type { ReissueNamespaces, RelayIdentity } from './reissue.ts';
import type { InboxRoute, SharerProfile } from './settings.ts';

export interface PlanContext {
  readonly route: InboxRoute;
  readonly sharer: SharerProfile;
  /** configured and earlier-found identity ids of the member */
  readonly identityIds: readonly string[];
  readonly relay: RelayIdentity;
  readonly namespaces: ReissueNamespaces;
  /** re-issues made earlier (and predicted ones for objects still under review) */
  readonly reissued: ReissuedLookup;
  /** hold what would still name the member (default); false after a reviewer approved it as it is */
  readonly holdNamingMember?: boolean;
}

export interface ReleasePlan {
  /** the members' form, the relay identity first when a re-issue names it (empty without redistribute_to) */
  readonly redistribute: readonly StixObject[];
  /** the hub's form, likewise (empty without forward_to) */
  readonly forward: readonly StixObject[];
  readonly mappings: readonly ReissueMapping[];
  /** identity objects of the batch found to be the member's */
  readonly discoveredIdentityIds: readonly string[];
  /** releases (by index) whose anonymized form still names the member, with the paths: hold them */
  readonly namingMember: ReadonlyMap<number, readonly string[]>;
  /** releases (by index) no audience receives, and why (the member's own identity, anonymized) */
  readonly dropped: ReadonlyMap<number, string>;
}

/** The audiences an inbox's route reaches. */
export function audiencesOf(route: InboxRoute): Audience[] {
  return [
    ...(route.redistributeTo !== undefined ? (['members'] as const) : []),
    ...(route.forwardTo !== undefined ? (['upstream-hub'] as const) : []),
  ];
}

export function planRelease(releases: readonly Release[], context: PlanContext): ReleasePlan {
  const audiences = audiencesOf(context.route);
  const namingMember = new Map<number, readonly string[]>();
  let active = releases.map((_, i) => i);
  let results = new Map<Audience, BatchResult>();
  // Holding one object can change what refers to it; the held set only grows, so this ends.
  for (let round = 0; round <= releases.length; round++) {
    results = new Map(
      audiences.map((audience) => [
        audience,
        batchToAudience(
          active.map((i) => releases[i] as Release),
          contextFor(context, audience),
        ),
      ]),
    );
    const naming = new Map<number, string[]>();
    for (const result of results.values()) {
      result.outgoing.forEach((out, k) => {
        if (out.kind !== 'drop' && out.remaining.length > 0)
          naming.set(active[k] as number, [...(naming.get(active[k] as number) ?? []), ...out.remaining]);
      });
    }
    if (naming.size === 0 || context.holdNamingMember === false) break;
    for (const [i, paths] of naming) namingMember.set(i, [...new Set(paths)]);
    active = active.filter((i) => !naming.has(i));
  }

  const formOf = (audience: Audience): StixObject[] => {
    const result = results.get(audience);
    if (!result) return [];
    const objects = result.outgoing.flatMap((out: Outgoing) => (out.kind === 'drop' ? [] : [out.object]));
    return objects.some((o) => o.created_by_ref === context.relay.id) ? [context.relay, ...objects] : objects;
  };
  const dropped = new Map<number, string>();
  active.forEach((i, k) => {
    const reasons = [...results.values()].map((r) => r.outgoing[k]).filter((out) => out?.kind === 'drop');
    if (reasons.length > 0 && reasons.length === results.size) dropped.set(i, (reasons[0] as { reason: string }).reason);
  });
  return {
    redistribute: formOf('members'),
    forward: formOf('upstream-hub'),
    mappings: [...results.values()].flatMap((r) => r.mapping),
    discoveredIdentityIds: [...new Set([...results.values()].flatMap((r) => r.discoveredIdentityIds))],
    namingMember,
    dropped,
  };
}

function contextFor(context: PlanContext, audience: Audience) {
  const { sharer } = context;
  return {
    member: { name: sharer.name, aliases: sharer.aliases, identityIds: context.identityIds },
    consent: sharer.consent,
    audience,
    relay: context.relay,
    namespaces: context.namespaces,
    reissued: context.reissued,
  };
}
