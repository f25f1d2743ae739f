/**
 * What share-back needs from the configuration, resolved once: each inbox's route (where
 * released objects go, how personal data is reviewed), each member as a sharer (names to scrub,
 * identities, consent), and the relay's own identity and re-issue namespaces.
 */
import type { RelayConfig } from '../config/index.ts';
import type { AttributionConsent } from '../policy/types.ts';
import type { OutboxTarget } from '../store/index.ts';
import { reissueNamespaces, relayIdentity, type ReissueNamespaces, type RelayIdentity } from './reissue.ts';
import type { ReviewMode } from './review.ts';

/** One inbox collection and where what members post to it goes. */
export interface InboxRoute {
  readonly inbox: string;
  readonly apiRoot: string;
  /** the mirror released objects are ingested into (members' audience) */
  readonly redistributeTo?: string | undefined;
  /** the upstream collection released objects are forwarded to (the hub's audience) */
  readonly forwardTo?: OutboxTarget | undefined;
  readonly reviewMode: ReviewMode;
}

/** A member as a sharer. */
export interface SharerProfile {
  readonly name: string;
  readonly aliases: readonly string[];
  /** configured identity ids (more are found in what it shares: store.shareback.identitiesOf) */
  readonly identityIds: readonly string[];
  readonly consent: AttributionConsent;
}

export interface ShareBackSettings {
  readonly inboxes: ReadonlyMap<string, InboxRoute>;
  readonly sharers: ReadonlyMap<string, SharerProfile>;
  readonly relay: RelayIdentity;
  readonly namespaces: ReissueNamespaces;
}

export function shareBackSettings(config: Pick<RelayConfig, 'api_roots' | 'members' | 'shareback' | 'node'>): ShareBackSettings {
  const inboxes = new Map<string, InboxRoute>();
  for (const root of config.api_roots) {
    for (const c of root.collections) {
      if (c.kind !== 'inbox') continue;
      inboxes.set(c.id, {
        inbox: c.id,
        apiRoot: root.path,
        redistributeTo: c.redistribute_to,
        forwardTo: c.forward_to,
        reviewMode: c.review_mode,
      });
    }
  }
  const sharers = new Map(
    config.members.map((m) => [
      m.id,
      { name: m.name, aliases: m.aliases, identityIds: m.identity_ids, consent: m.policy.attribution_consent } satisfies SharerProfile,
    ]),
  );
  const { identity, federation } = config.shareback;
  const name = identity.name ?? config.node.title;
  const fixedBy = federation ?? name;
  return {
    inboxes,
    sharers,
    relay: relayIdentity({ federation: fixedBy, name, id: identity.id, description: identity.description }),
    namespaces: reissueNamespaces(fixedBy),
  };
}
