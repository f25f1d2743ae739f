/** STIX builders for policy tests: identities with sectors, relationships, sightings, opinions. */
import { indicator, uuidFor } from './stix-fixtures.ts';

export { TLP1, TLP2 } from '../../src/stix/markings.ts';

/** A marking the node knows nothing about (fails closed unless mapped). */
export const UNKNOWN_MARKING = 'marking-definition--0badbad0-0000-4000-8000-000000000001';

type Obj = Record<string, unknown>;

const at = (n: number, version = 0) => {
  const created = Date.UTC(2024, 5, 1) + n * 1000;
  return { created: new Date(created).toISOString(), modified: new Date(created + version * 60_000).toISOString() };
};

export { indicator };

export function identity(n: number, sectors: string[] | undefined, extra: Obj = {}, version = 0): Obj {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${uuidFor(n, 1)}`,
    ...at(n, version),
    name: `identity ${n}`,
    identity_class: 'class',
    ...(sectors ? { sectors } : {}),
    ...extra,
  };
}

export function malware(n: number, extra: Obj = {}, version = 0): Obj {
  return {
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${uuidFor(n, 2)}`,
    ...at(n, version),
    name: `malware ${n}`,
    is_family: true,
    ...extra,
  };
}

export function relationship(n: number, type: string, source: string, target: string, extra: Obj = {}, version = 0): Obj {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: `relationship--${uuidFor(n, 3)}`,
    ...at(n, version),
    relationship_type: type,
    source_ref: source,
    target_ref: target,
    ...extra,
  };
}

export function sighting(n: number, of: string, where: string[] = [], extra: Obj = {}, version = 0): Obj {
  return {
    type: 'sighting',
    spec_version: '2.1',
    id: `sighting--${uuidFor(n, 4)}`,
    ...at(n, version),
    sighting_of_ref: of,
    ...(where.length > 0 ? { where_sighted_refs: where } : {}),
    ...extra,
  };
}

export function opinion(n: number, value: string, refs: string[], extra: Obj = {}, version = 0): Obj {
  return {
    type: 'opinion',
    spec_version: '2.1',
    id: `opinion--${uuidFor(n, 5)}`,
    ...at(n, version),
    opinion: value,
    object_refs: refs,
    ...extra,
  };
}

export const marked = (...refs: string[]) => ({ object_marking_refs: refs });
