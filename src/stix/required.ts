/**
 * The required properties of each STIX 2.1 type, as the specification defines them. Ingest
 * enforces only part of this (see validate.ts); redaction uses all of it, because removing a
 * required property from a member's copy would serve an object that is not valid STIX.
 */
import { SCO_TYPES } from './types.ts';

const SPEC_REQUIRED: Record<string, readonly string[]> = {
  'attack-pattern': ['name'],
  campaign: ['name'],
  'course-of-action': ['name'],
  grouping: ['context', 'object_refs'],
  identity: ['name'],
  incident: ['name'],
  indicator: ['pattern', 'pattern_type', 'valid_from'],
  infrastructure: ['name'],
  'intrusion-set': ['name'],
  malware: ['is_family'],
  'malware-analysis': ['product'],
  note: ['content', 'object_refs'],
  'observed-data': ['first_observed', 'last_observed', 'number_observed'],
  opinion: ['opinion', 'object_refs'],
  report: ['name', 'published', 'object_refs'],
  'threat-actor': ['name'],
  tool: ['name'],
  vulnerability: ['name'],
  relationship: ['relationship_type', 'source_ref', 'target_ref'],
  sighting: ['sighting_of_ref'],
  'language-content': ['object_ref', 'contents', 'created', 'modified'],
  'marking-definition': ['created'],
  'extension-definition': ['created_by_ref', 'name', 'schema', 'version', 'extension_types'],
  'autonomous-system': ['number'],
  directory: ['path'],
  'domain-name': ['value'],
  'email-addr': ['value'],
  'email-message': ['is_multipart'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'mac-addr': ['value'],
  mutex: ['name'],
  'network-traffic': ['protocols'],
  software: ['name'],
  url: ['value'],
};

/** Properties an object of this type cannot be served without (common + type-specific). */
export function requiredProperties(type: string): readonly string[] {
  const common =
    SCO_TYPES.has(type) || type === 'marking-definition' ? ['type', 'id'] : ['type', 'id', 'spec_version', 'created', 'modified'];
  return [...common, ...(SPEC_REQUIRED[type] ?? [])];
}
