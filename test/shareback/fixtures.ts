/** Objects, a member and a relay for the share-back anonymization and review tests. */
import type { AttributionConsent } from '../../src/policy/types.ts';
import type { AudienceContext, SharingMember } from '../../src/shareback/anonymize.ts';
import type { Audience } from '../../src/shareback/consent.ts';
import { reissueNamespaces, relayIdentity } from '../../src/shareback/reissue.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { validateObject } from '../../src/stix/validate.ts';

export const FEDERATION = 'example-isac-federation';
export const RELAY = relayIdentity({ federation: FEDERATION, name: 'Example ISAC' });
export const NAMESPACES = reissueNamespaces(FEDERATION);

export const MEMBER_IDENTITY = 'identity--a0000000-0000-4000-8000-000000000001';
export const MEMBER_SOC_IDENTITY = 'identity--a0000000-0000-4000-8000-000000000002';
export const MEMBER: SharingMember = {
  name: 'Acme Bank',
  aliases: ['Acme', 'acmebank.example'],
  identityIds: [MEMBER_IDENTITY, MEMBER_SOC_IDENTITY],
};

export const TLP_AMBER = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
export const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
export const MALWARE = 'malware--b0000000-0000-4000-8000-000000000001';

export function context(consent: AttributionConsent, audience: Audience, extra: Partial<AudienceContext> = {}): AudienceContext {
  return { member: MEMBER, consent, audience, relay: RELAY, namespaces: NAMESPACES, ...extra };
}

/** Anonymized for every audience (consent none), towards members. */
export const ANONYMOUS = context('none', 'members');
/** Attributed for every audience (consent everyone), towards members. */
export const ATTRIBUTED = context('everyone', 'members');

const T0 = '2024-03-01T10:00:00.000Z';
const T1 = '2024-03-02T10:00:00.000Z';

export function memberIdentity(extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: MEMBER_IDENTITY,
    created: T0,
    modified: T0,
    name: 'Acme Bank',
    identity_class: 'organization',
    sectors: ['financial-services'],
    ...extra,
  };
}

export function indicator(extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--c0000000-0000-4000-8000-000000000001',
    created: T0,
    modified: T1,
    created_by_ref: MEMBER_IDENTITY,
    name: 'Credential phishing kit',
    description: 'Phishing pages imitating the Acme Bank login, seen by the Acme SOC.',
    pattern: "[url:value = 'https://acmebank.example.login-verify.test/']",
    pattern_type: 'stix',
    valid_from: T0,
    indicator_types: ['malicious-activity'],
    object_marking_refs: [TLP_GREEN],
    ...extra,
  };
}

export function relationship(source: string, target: string, extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: 'relationship--d0000000-0000-4000-8000-000000000001',
    created: T0,
    modified: T0,
    created_by_ref: MEMBER_IDENTITY,
    relationship_type: 'indicates',
    source_ref: source,
    target_ref: target,
    ...extra,
  };
}

export function sighting(extra: Record<string, unknown> = {}): StixObject {
  return {
    type: 'sighting',
    spec_version: '2.1',
    id: 'sighting--e0000000-0000-4000-8000-000000000001',
    created: T0,
    modified: T0,
    created_by_ref: MEMBER_IDENTITY,
    sighting_of_ref: indicator().id,
    where_sighted_refs: [MEMBER_IDENTITY],
    count: 3,
    ...extra,
  };
}

/** The object must be storable STIX 2.1 (the relay's own validation). */
export function expectValid(object: unknown): void {
  const v = validateObject(object);
  if (!v.ok) throw new Error(`invalid STIX: ${v.reason}\n${JSON.stringify(object)}`);
}

/** Every string and key in a JSON value, with its path. */
export function strings(value: unknown, at = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [{ path: `${at}.${k}#key`, text: k }, ...strings(v, `${at}.${k}`)]);
  }
  return [];
}
