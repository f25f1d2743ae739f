/** STIX builders for policy tests: identities with sectors, relationships, sightings, opinions. */
import { indicator, uuidFor } from './stix-fixtures.ts';

export const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;

export const TLP2 = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  amberStrict: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
} as const;

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
  return { type: 'malware', spec_version: '2.1', id: `malware--${uuidFor(n, 2)}`, ...at(n, version), name: `malware ${n}`, is_family: true, ...extra };
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
  return { type: 'opinion', spec_version: '2.1', id: `opinion--${uuidFor(n, 5)}`, ...at(n, version), opinion: value, object_refs: refs, ...extra };
}

export const marked = (...refs: string[]) => ({ object_marking_refs: refs });
