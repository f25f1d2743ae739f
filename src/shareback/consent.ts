/**
 * Who may learn that a member shared an object (issue 11, `attribution_consent`): `everyone`
 * keeps attribution towards every audience; `usg` only towards the upstream hub (the national
 * program's government-only consent); `none` towards no one.
 */
import type { AttributionConsent } from '../policy/types.ts';

export const AUDIENCES = ['upstream-hub', 'members', 'peers'] as const;
/** Where a shared object goes: the upstream hub, this node's other members, or peer nodes. */
export type Audience = (typeof AUDIENCES)[number];

/** What an audience receives: the member's attribution, or the object anonymized. */
export type Attribution = 'attributed' | 'anonymous';

export function attributionFor(consent: AttributionConsent, audience: Audience): Attribution {
  if (consent === 'everyone') return 'attributed';
  if (consent === 'usg' && audience === 'upstream-hub') return 'attributed';
  return 'anonymous';
}
