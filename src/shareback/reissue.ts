/**
 * Re-issue: STIX lets only an object's creator version it, and a copy with anything changed
 * (anonymized, fields withheld, a reviewer's edit) is a different object that must have a new
 * id, created by whoever changed it (standards.md §2.4). The relay re-issues such objects under
 * its own identity with a deterministic id, a UUIDv5 of the original id in a namespace fixed for
 * the federation: every node computes the same id for the same object, retries and peers
 * agree, and every version of the member's object maps to a version of the same re-issued
 * object (the name is the id, not the content). Pure: no clock, no randomness, no I/O.
 */
import { stixTimestampKey } from '../stix/time.ts';
import { isIdentifier } from '../stix/validate.ts';
import type { StixObject } from '../stix/types.ts';
import type { Attribution } from './consent.ts';
import { uuidV5 } from './uuid5.ts';

/** Root of every UUIDv5 namespace the relay derives (a random v4 UUID fixed for the project). */
export const RELAY_UUID_NAMESPACE = '6d9ff096-3069-4d25-8e78-19dbac519947';

/**
 * One namespace per flavour: an object re-issued with attribution (fields withheld by review,
 * towards an audience the member consented to) and the same object anonymized are different
 * objects, so they get different ids; one id with two contents at the same version would be
 * undefined behaviour for anyone who receives both.
 */
export interface ReissueNamespaces {
  readonly attributed: string;
  readonly anonymous: string;
}

function requireFederation(federation: string): void {
  if (federation.trim() === '') throw new TypeError('the federation name must not be empty: it fixes the re-issue namespace');
}

export function reissueNamespaces(federation: string): ReissueNamespaces {
  requireFederation(federation);
  return {
    attributed: uuidV5(RELAY_UUID_NAMESPACE, `relay re-issue attributed ${federation}`),
    anonymous: uuidV5(RELAY_UUID_NAMESPACE, `relay re-issue anonymous ${federation}`),
  };
}

/** `<type>--<UUIDv5(namespace of the flavour, original id)>`: same type, new creator. */
export function reissuedId(namespaces: ReissueNamespaces, attribution: Attribution, originalId: string): string {
  if (!isIdentifier(originalId)) throw new TypeError(`not a STIX identifier: '${originalId}'`);
  const type = originalId.slice(0, originalId.indexOf('--'));
  return `${type}--${uuidV5(namespaces[attribution], originalId)}`;
}

/** The relay identity's id when none is configured: the same on every node of the federation. */
export function relayIdentityId(federation: string): string {
  requireFederation(federation);
  return `identity--${uuidV5(RELAY_UUID_NAMESPACE, `relay identity ${federation}`)}`;
}

/** A fixed `created` for the relay identity, so every node serializes the same object. */
export const RELAY_IDENTITY_CREATED = '2020-01-01T00:00:00.000Z';

export interface RelayIdentity extends StixObject {
  readonly type: 'identity';
  readonly spec_version: '2.1';
  readonly name: string;
  readonly created: string;
  readonly modified: string;
}

export interface RelayIdentityOptions {
  readonly federation: string;
  /** the ISAC's name as members and the hub know it */
  readonly name: string;
  /** a configured id; default relayIdentityId(federation) */
  readonly id?: string | undefined;
  readonly description?: string | undefined;
  /** default RELAY_IDENTITY_CREATED; the identity has one version */
  readonly created?: string | undefined;
}

/** The STIX identity object re-issued objects name as their creator. */
export function relayIdentity(options: RelayIdentityOptions): RelayIdentity {
  const id = options.id ?? relayIdentityId(options.federation);
  if (!isIdentifier(id, 'identity')) throw new TypeError(`the relay identity id must be 'identity--<UUID>', got '${id}'`);
  if (options.name.trim() === '') throw new TypeError('the relay identity needs a name');
  const created = options.created ?? RELAY_IDENTITY_CREATED;
  if (stixTimestampKey(created, 3) === null) throw new TypeError(`invalid STIX timestamp for the relay identity: '${created}'`);
  return {
    type: 'identity',
    spec_version: '2.1',
    id,
    created,
    modified: created,
    name: options.name,
    ...(options.description === undefined ? {} : { description: options.description }),
    identity_class: 'organization',
  };
}

/**
 * The STIX timestamp one microsecond after `modified`: the version the relay gives the full
 * object after a review that first released it without some fields (see review.ts). One
 * microsecond keeps it before any later version of the member's (whose timestamps have
 * millisecond precision in practice) and depends on nothing but the input.
 */
export function laterVersion(modified: string): string {
  const key = stixTimestampKey(modified, 3);
  if (key === null) throw new TypeError(`invalid STIX timestamp: '${modified}'`);
  let seconds = Date.parse(`${key.slice(0, 19)}Z`) / 1000;
  let nanos = Number(key.slice(20, 29)) + 1000;
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  let fraction = String(nanos).padStart(9, '0');
  while (fraction.length > 3 && fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
