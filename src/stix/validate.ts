/**
 * STIX 2.1 validation for a relay: the rules that make an object storable and servable
 * (identity, version, timestamps, required properties, marking references). It is deliberately
 * not a full schema check: the relay is a transport, so open vocabularies, custom properties
 * and extension-defined types pass through unchanged.
 */
import { stixTimestampKey } from './time.ts';
import { categoryOf, UNVERSIONED, type ObjectCategory, type StixObject } from './types.ts';

/** What the store needs to know about a valid object version. */
export interface ValidObject {
  readonly object: StixObject;
  readonly type: string;
  readonly id: string;
  readonly category: ObjectCategory;
  readonly specVersion: string;
  /** the TAXII `version` string: `modified`, else `created`, else UNVERSIONED */
  readonly version: string;
  /** the version as a sortable instant key (see stixTimestampKey) */
  readonly versionKey: string;
}

export type Validation =
  { readonly ok: true; readonly value: ValidObject } | { readonly ok: false; readonly reason: string; readonly id?: string };

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
const REF_PROPERTIES = ['created_by_ref', 'source_ref', 'target_ref', 'sighting_of_ref', 'object_ref'];
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

export function validateObject(input: unknown): Validation {
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

  const hasCreated = o.created !== undefined;
  const category = categoryOf(type, hasCreated);
  const scoLike = category === 'sco' || category === 'custom-sco';

  const spec = o.spec_version;
  if (spec === undefined) {
    if (!scoLike) {
      return fail("missing required property 'spec_version' (without it the object is STIX 2.0)", id);
    }
  } else if (spec !== '2.1') {
    return fail(`unsupported spec_version '${String(spec)}': only STIX 2.1 is accepted`, id);
  }

  // Millisecond precision is required where versions are told apart. A marking-definition is
  // never versioned (its `created` is its only version), so any RFC 3339 precision will do:
  // MITRE's statement marking is published with `created: "2017-06-01T00:00:00Z"`.
  const createdDigits = type === 'marking-definition' ? 0 : 3;
  let createdKey: string | null = null;
  if (!scoLike) {
    if (typeof o.created !== 'string') return fail("missing required property 'created'", id);
    createdKey = stixTimestampKey(o.created, createdDigits);
    if (!createdKey) return fail(`invalid timestamp in 'created': '${o.created}'`, id);
  }
  let modifiedKey: string | null = null;
  const needsModified = !scoLike && type !== 'marking-definition';
  if (o.modified !== undefined || needsModified) {
    if (typeof o.modified !== 'string') return fail("missing required property 'modified'", id);
    modifiedKey = stixTimestampKey(o.modified, 3);
    if (!modifiedKey) return fail(`invalid timestamp in 'modified': '${o.modified}'`, id);
    if (createdKey && modifiedKey < createdKey) {
      return fail(`'modified' (${o.modified}) is earlier than 'created' (${String(o.created)})`, id);
    }
  }

  for (const property of REQUIRED[type] ?? []) {
    if (o[property] === undefined) return fail(`missing required property '${property}'`, id);
  }
  if (type === 'marking-definition' && o.extensions === undefined) {
    if (o.definition_type === undefined || o.definition === undefined) {
      return fail("marking-definition needs 'definition_type' and 'definition' when it has no 'extensions'", id);
    }
  }

  // Property names of custom and extension-defined types belong to their extension's schema
  // (cti-stix-elevator's `windows-hook` has `win-hook-type`); the relay passes them through.
  const customType = category === 'custom-sdo' || category === 'custom-sco';
  for (const property of customType ? [] : Object.keys(o)) {
    if (!PROPERTY_NAME.test(property) && property !== 'id' && property !== 'type') {
      return fail(`invalid property name '${property}': a-z, 0-9 and _, 3-250 characters`, id);
    }
  }
  for (const property of REF_PROPERTIES) {
    const value = o[property];
    if (value !== undefined && !isIdentifier(value)) {
      return fail(`invalid reference in '${property}': '${String(value)}'`, id);
    }
  }
  for (const property of TIMESTAMP_PROPERTIES) {
    const value = o[property];
    if (value !== undefined && (typeof value !== 'string' || !stixTimestampKey(value))) {
      return fail(`invalid timestamp in '${property}': '${String(value)}'`, id);
    }
  }
  if (o.revoked !== undefined && typeof o.revoked !== 'boolean') {
    return fail("'revoked' must be a boolean", id);
  }
  if (o.confidence !== undefined) {
    const c = o.confidence;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 100) {
      return fail("'confidence' must be an integer from 0 to 100", id);
    }
  }
  const markingProblem = checkMarkings(o);
  if (markingProblem) return fail(markingProblem, id);

  const version = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : UNVERSIONED;
  const versionKey = modifiedKey ?? createdKey ?? (stixTimestampKey(UNVERSIONED) as string);
  return {
    ok: true,
    value: {
      object: o as unknown as StixObject,
      type,
      id,
      category,
      specVersion: typeof spec === 'string' ? spec : '2.1',
      version,
      versionKey,
    },
  };
}

function checkMarkings(o: Record<string, unknown>): string | null {
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
