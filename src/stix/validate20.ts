/**
 * STIX 2.0's own rules for an object (STIX 2.0 Part 1, Core Concepts; Part 2, Objects), where
 * they differ from 2.1's. The common checks (type, id form, property names, references,
 * markings) are validate.ts's. A STIX 2.0 object:
 *   - has no `spec_version` (its bundle carried the version) or says "2.0";
 *   - is identified by `<type>--<UUID version 4>`;
 *   - always has `created` and, except a marking-definition, `modified` (later than or equal to
 *     `created`), each a UTC RFC 3339 timestamp of any sub-second precision;
 *   - is never a top-level cyber observable: observables live inside an observed-data's
 *     `objects` until STIX 2.1;
 *   - is not of a type STIX 2.1 introduced (an object of one without `spec_version` is a STIX 2.1
 *     object that lost it, and storing it as 2.0 would mislabel it).
 * As for 2.1, only the properties the relay depends on are required (relationship ends,
 * sighting target, a marking-definition's definition); descriptive ones (`labels`, `name`) are
 * the producer's business.
 */
import { stixTimestampKey } from './time.ts';
import { SCO_TYPES } from './types.ts';
import type { Versioning } from './validate.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Types defined by STIX 2.1 that STIX 2.0 does not have. */
const STIX21_TYPES = new Set([
  'grouping',
  'incident',
  'infrastructure',
  'location',
  'malware-analysis',
  'note',
  'opinion',
  'language-content',
  'extension-definition',
]);

const REQUIRED_20: Record<string, readonly string[]> = {
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'marking-definition': ['definition_type', 'definition'],
};

/** STIX 2.0 identity, created / modified and required properties; a string is the reason it fails. */
export function versioning20(o: Record<string, unknown>, type: string, id: string): Versioning | string {
  if (SCO_TYPES.has(type)) {
    return `'${type}' is a cyber observable: STIX 2.0 has no top-level observables (they live inside an observed-data's 'objects')`;
  }
  if (STIX21_TYPES.has(type)) {
    return `'${type}' is a STIX 2.1 type: a STIX 2.1 object needs "spec_version": "2.1" (without it the object reads as STIX 2.0)`;
  }
  if (!UUID_V4.test(id.slice(id.indexOf('--') + 2))) {
    return `invalid id '${id}': STIX 2.0 identifiers end in a version 4 UUID`;
  }
  if (typeof o.created !== 'string') return "missing required property 'created'";
  const createdKey = stixTimestampKey(o.created);
  if (!createdKey) return `invalid timestamp in 'created': '${o.created}'`;
  let modifiedKey: string | null = null;
  if (o.modified !== undefined || type !== 'marking-definition') {
    if (typeof o.modified !== 'string') return "missing required property 'modified'";
    modifiedKey = stixTimestampKey(o.modified);
    if (!modifiedKey) return `invalid timestamp in 'modified': '${o.modified}'`;
    if (modifiedKey < createdKey) return `'modified' (${o.modified}) is earlier than 'created' (${o.created})`;
  }
  for (const property of REQUIRED_20[type] ?? []) {
    if (o[property] === undefined) return `missing required property '${property}'`;
  }
  return { createdKey, modifiedKey };
}
