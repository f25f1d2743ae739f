/** STIX 2.1 object model: just enough structure for a relay that passes content through. */

export interface StixObject {
  readonly type: string;
  readonly id: string;
  readonly spec_version?: string;
  readonly created?: string;
  readonly modified?: string;
  readonly revoked?: boolean;
  readonly object_marking_refs?: readonly string[];
  readonly granular_markings?: readonly GranularMarking[];
  readonly [property: string]: unknown;
}

export interface GranularMarking {
  readonly marking_ref?: string;
  readonly lang?: string;
  readonly selectors: readonly string[];
}

export const SDO_TYPES = new Set([
  'attack-pattern',
  'campaign',
  'course-of-action',
  'grouping',
  'identity',
  'incident',
  'indicator',
  'infrastructure',
  'intrusion-set',
  'location',
  'malware',
  'malware-analysis',
  'note',
  'observed-data',
  'opinion',
  'report',
  'threat-actor',
  'tool',
  'vulnerability',
]);

export const SRO_TYPES = new Set(['relationship', 'sighting']);

export const SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact',
  'autonomous-system',
  'directory',
  'domain-name',
  'email-addr',
  'email-message',
  'file',
  'ipv4-addr',
  'ipv6-addr',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'url',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
]);

export const META_TYPES = new Set(['language-content', 'marking-definition', 'extension-definition']);

export type ObjectCategory = 'sdo' | 'sro' | 'sco' | 'meta' | 'custom-sdo' | 'custom-sco';

/**
 * Category of a type. Types STIX does not define (x-… types, extension-defined new-sdo types
 * such as attack-flow's) are classed by shape: with `created` they are treated as SDOs.
 */
export function categoryOf(type: string, hasCreated: boolean): ObjectCategory {
  if (SDO_TYPES.has(type)) return 'sdo';
  if (SRO_TYPES.has(type)) return 'sro';
  if (SCO_TYPES.has(type)) return 'sco';
  if (META_TYPES.has(type)) return 'meta';
  return hasCreated ? 'custom-sdo' : 'custom-sco';
}

/** Version string of an object without `modified` or `created` (SCOs): one consistent value. */
export const UNVERSIONED = '1970-01-01T00:00:00.000Z';

export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
