/**
 * STIX validation for a relay: the rules that make an object storable and servable (identity,
 * version, timestamps, required properties, marking references). It is deliberately not a full
 * schema check: the relay is a transport, so open vocabularies, custom properties and
 * extension-defined types pass through unchanged.
 *
 * An object is STIX 2.1 or STIX 2.0 (`specVersionOf`); the collection it is meant for says which
 * of the two it accepts (`ValidationOptions.accept`, from its media_types). STIX 2.0 objects are
 * checked by STIX 2.0's rules (validate20.ts) and stored as received, never rewritten.
 */
import { describeSpecVersions, ONLY_STIX_21, type SpecVersion } from './specversion.ts';
import { stixTimestampKey } from './time.ts';
import { categoryOf, UNVERSIONED, type ObjectCategory, type StixObject } from './types.ts';
import { versioning20 } from './validate20.ts';

/** What the store needs to know about a valid object version. */
export interface ValidObject {
  readonly object: StixObject;
  readonly type: string;
  readonly id: string;
  readonly category: ObjectCategory;
  readonly specVersion: SpecVersion;
  /** the TAXII `version` string: `modified`, else `created`, else UNVERSIONED */
  readonly version: string;
  /** the version as a sortable instant key (see stixTimestampKey) */
  readonly versionKey: string;
}

export type Validation =
  { readonly ok: true; readonly value: ValidObject } | { readonly ok: false; readonly reason: string; readonly id?: string };

export interface ValidationOptions {
  /** the spec versions the target collection accepts (default: STIX 2.1 only) */
  readonly accept?: ReadonlySet<SpecVersion>;
  /**
   * The object came in a bundle whose `spec_version` is "2.0" (STIX 2.0 bundles carry the
   * version for their objects): without its own `spec_version` the object is STIX 2.0, an
   * observable-like one included.
   */
  readonly inStix20Bundle?: boolean;
}

/** What an object's own versioning rules yield: its created / modified instants (null: absent). */
export interface Versioning {
  readonly createdKey: string | null;
  readonly modifiedKey: string | null;
}

const TYPE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROPERTY_NAME = /^[a-z0-9_]{3,250}$/;

/**
 * Required properties beyond the common ones, enforced only where the relay itself depends on
 * them: the links its policy walks (relationship ends, sighting target, opinion scores,
 * language-content target) and the meta objects that define markings and extensions.
 * Other type-specific required properties (`name` on most SDOs, `is_family` on malware,
 * `protocols` on network-traffic, `published` on report, SCO `value`s …) are the producer's
 * and the consumer's business: real feeds omit them, and a transport must not drop an object
 * a member's tools can still use. See docs/ARCHITECTURE.md ("What ingest rejects").
 */
const REQUIRED: Record<string, readonly string[]> = {
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  opinion: ['opinion', 'object_refs'],
  'language-content': ['object_ref', 'contents'],
  'extension-definition': ['created_by_ref', 'name', 'schema', 'version', 'extension_types'],
};

/** Properties holding a single identifier, checked for form (`type--uuid`). */
const REF_PROPERTIES: Record<SpecVersion, readonly string[]> = {
  '2.1': ['created_by_ref', 'source_ref', 'target_ref', 'sighting_of_ref', 'object_ref'],
  '2.0': ['created_by_ref', 'source_ref', 'target_ref', 'sighting_of_ref'],
};
/** Timestamp-valued properties checked when present (beyond created/modified). */
const TIMESTAMP_PROPERTIES = [
  'valid_from',
  'valid_until',
  'first_seen',
  'last_seen',
  'first_observed',
  'last_observed',
  'published',
  'start_time',
  'stop_time',
];

export function isIdentifier(value: unknown, type?: string): value is string {
  if (typeof value !== 'string') return false;
  const sep = value.indexOf('--');
  if (sep <= 0) return false;
  const prefix = value.slice(0, sep);
  if (type !== undefined && prefix !== type) return false;
  return TYPE_NAME.test(prefix) && UUID.test(value.slice(sep + 2));
}

function fail(reason: string, id?: unknown): Validation {
  return typeof id === 'string' ? { ok: false, reason, id } : { ok: false, reason };
}

/**
 * The spec version an object is written in: its own `spec_version` ("2.1" or "2.0"); without
 * one, STIX 2.0 when its bundle says so, otherwise STIX 2.1's rule: observables (objects
 * without `created`) are 2.1, everything else is 2.0. A string is the reason it is neither.
 */
export function specVersionOf(o: Record<string, unknown>, category: ObjectCategory, inStix20Bundle = false): SpecVersion | string {
  const spec = o.spec_version;
  if (spec === '2.1' || spec === '2.0') return spec;
  if (spec !== undefined) return `unsupported spec_version '${String(spec)}': STIX 2.1 and 2.0 are known`;
  if (inStix20Bundle) return '2.0';
  return category === 'sco' || category === 'custom-sco' ? '2.1' : '2.0';
}

/** Why an object of a spec version the collection does not accept is refused. */
function refusal(o: Record<string, unknown>, spec: SpecVersion, accept: ReadonlySet<SpecVersion>, inStix20Bundle: boolean): string {
  const only = `this collection accepts STIX ${describeSpecVersions(accept)} only`;
  if (spec === '2.0' && o.spec_version === undefined) {
    return inStix20Bundle
      ? `STIX 2.0 object (its bundle's spec_version is '2.0'): ${only}`
      : `missing required property 'spec_version' (without it the object is STIX 2.0): ${only}`;
  }
  return `STIX ${spec} object: ${only}`;
}

export function validateObject(input: unknown, options: ValidationOptions = {}): Validation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail('not a JSON object');
  }
  const o = input as Record<string, unknown>;
  const { type, id } = o;
  if (typeof type !== 'string') return fail("missing required property 'type'", id);
  if (type.length < 3 || type.length > 250 || !TYPE_NAME.test(type)) {
    return fail(`invalid type '${type}': a-z, 0-9 and single hyphens, 3-250 characters`, id);
  }
  if (type === 'bundle') return fail('a bundle is not a STIX object; send its objects', id);
  if (typeof id !== 'string') return fail("missing required property 'id'");
  if (!isIdentifier(id)) return fail(`invalid id '${id}': expected '<type>--<UUID>'`, id);
  if (!id.startsWith(`${type}--`)) return fail(`id '${id}' does not start with its type '${type}--'`, id);

  const category = categoryOf(type, o.created !== undefined);
  const inStix20Bundle = options.inStix20Bundle === true;
  const spec = specVersionOf(o, category, inStix20Bundle);
  if (spec !== '2.0' && spec !== '2.1') return fail(spec, id);
  const accept = options.accept ?? ONLY_STIX_21;
  if (!accept.has(spec)) return fail(refusal(o, spec, accept, inStix20Bundle), id);

  const versioning = spec === '2.0' ? versioning20(o, type, id) : versioning21(o, type, category);
  if (typeof versioning === 'string') return fail(versioning, id);
  const problem = commonProblem(o, category, spec);
  if (problem) return fail(problem, id);

  const version = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : UNVERSIONED;
  const versionKey = versioning.modifiedKey ?? versioning.createdKey ?? (stixTimestampKey(UNVERSIONED) as string);
  return { ok: true, value: { object: o as unknown as StixObject, type, id, category, specVersion: spec, version, versionKey } };
}

/** STIX 2.1: created / modified (with millisecond precision), and the required properties. */
function versioning21(o: Record<string, unknown>, type: string, category: ObjectCategory): Versioning | string {
  const scoLike = category === 'sco' || category === 'custom-sco';
  // Millisecond precision is required where versions are told apart. A marking-definition is
  // never versioned (its `created` is its only version), so any RFC 3339 precision will do:
  // MITRE's statement marking is published with `created: "2017-06-01T00:00:00Z"`.
  const createdDigits = type === 'marking-definition' ? 0 : 3;
  let createdKey: string | null = null;
  if (!scoLike) {
    if (typeof o.created !== 'string') return "missing required property 'created'";
    createdKey = stixTimestampKey(o.created, createdDigits);
    if (!createdKey) return `invalid timestamp in 'created': '${o.created}'`;
  }
  let modifiedKey: string | null = null;
  const needsModified = !scoLike && type !== 'marking-definition';
  if (o.modified !== undefined || needsModified) {
    if (typeof o.modified !== 'string') return "missing required property 'modified'";
    modifiedKey = stixTimestampKey(o.modified, 3);
    if (!modifiedKey) return `invalid timestamp in 'modified': '${o.modified}'`;
    if (createdKey && modifiedKey < createdKey) return `'modified' (${o.modified}) is earlier than 'created' (${String(o.created)})`;
  }

  for (const property of REQUIRED[type] ?? []) {
    if (o[property] === undefined) return `missing required property '${property}'`;
  }
  if (type === 'marking-definition' && o.extensions === undefined) {
    if (o.definition_type === undefined || o.definition === undefined) {
      return "marking-definition needs 'definition_type' and 'definition' when it has no 'extensions'";
    }
  }
  return { createdKey, modifiedKey };
}

/** The rules both spec versions share: property names, references, timestamps, markings. */
function commonProblem(o: Record<string, unknown>, category: ObjectCategory, spec: SpecVersion): string | null {
  // Property names of custom and extension-defined types belong to their extension's schema
  // (cti-stix-elevator's `windows-hook` has `win-hook-type`); the relay passes them through.
  const customType = category === 'custom-sdo' || category === 'custom-sco';
  for (const property of customType ? [] : Object.keys(o)) {
    if (!PROPERTY_NAME.test(property) && property !== 'id' && property !== 'type') {
      return `invalid property name '${property}': a-z, 0-9 and _, 3-250 characters`;
    }
  }
  for (const property of REF_PROPERTIES[spec]) {
    const value = o[property];
    if (value !== undefined && !isIdentifier(value)) return `invalid reference in '${property}': '${String(value)}'`;
  }
  for (const property of TIMESTAMP_PROPERTIES) {
    const value = o[property];
    if (value !== undefined && (typeof value !== 'string' || !stixTimestampKey(value))) {
      return `invalid timestamp in '${property}': '${String(value)}'`;
    }
  }
  if (o.revoked !== undefined && typeof o.revoked !== 'boolean') return "'revoked' must be a boolean";
  // STIX 2.0 defines no `confidence`, but member policy reads it on any object, so a 2.0 object
  // that carries one is held to the same form.
  if (o.confidence !== undefined) {
    const c = o.confidence;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 100) return "'confidence' must be an integer from 0 to 100";
  }
  return checkMarkings(o, spec);
}

function checkMarkings(o: Record<string, unknown>, spec: SpecVersion): string | null {
  const refs = o.object_marking_refs;
  if (refs !== undefined) {
    if (!Array.isArray(refs) || refs.length === 0) {
      return "'object_marking_refs' must be a non-empty list of marking-definition ids";
    }
    for (const ref of refs) {
      if (!isIdentifier(ref, 'marking-definition')) {
        return `invalid marking reference '${String(ref)}' in 'object_marking_refs'`;
      }
      if (ref === o.id) return "'object_marking_refs' must not reference the object itself";
    }
  }
  const granular = o.granular_markings;
  if (granular !== undefined) {
    if (!Array.isArray(granular) || granular.length === 0) {
      return "'granular_markings' must be a non-empty list";
    }
    for (const g of granular as unknown[]) {
      if (g === null || typeof g !== 'object') return "'granular_markings' entries must be objects";
      const entry = g as Record<string, unknown>;
      const hasRef = entry.marking_ref !== undefined;
      const hasLang = entry.lang !== undefined;
      // STIX 2.0 granular markings are marking references only (`lang` came with 2.1)
      if (spec === '2.0' && !hasRef) return "each STIX 2.0 granular marking needs a 'marking_ref'";
      if (hasRef === hasLang) return "each granular marking needs exactly one of 'marking_ref' and 'lang'";
      if (hasRef && !isIdentifier(entry.marking_ref, 'marking-definition')) {
        return `invalid marking reference '${String(entry.marking_ref)}' in 'granular_markings'`;
      }
      const selectors = entry.selectors;
      if (!Array.isArray(selectors) || selectors.length === 0 || !selectors.every((s) => typeof s === 'string')) {
        return "each granular marking needs a non-empty 'selectors' list of strings";
      }
    }
  }
  return null;
}
