/** STIX 2.1 objects for the TAXII server tests. */
import { randomUUID } from 'node:crypto';

export const TLP_GREEN = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';

export function ts(ms: number): string {
  return new Date(ms).toISOString();
}

const BASE = Date.parse('2024-01-01T00:00:00.000Z');

/** An indicator version: same id, `modified` = created + `v` seconds. */
export function indicator(id = `indicator--${randomUUID()}`, v = 0, extra: Record<string, unknown> = {}) {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: ts(BASE),
    modified: ts(BASE + v * 1000),
    name: `indicator ${id.slice(-4)} v${v}`,
    pattern: "[ipv4-addr:value = '198.51.100.1']",
    pattern_type: 'stix',
    valid_from: ts(BASE),
    ...extra,
  };
}

export function malware(id = `malware--${randomUUID()}`, v = 0) {
  return {
    type: 'malware',
    spec_version: '2.1',
    id,
    created: ts(BASE),
    modified: ts(BASE + v * 1000),
    name: 'bad thing',
    is_family: false,
  };
}

/** A marking-definition: no `modified`; its version is `created`. */
export function marking(id = `marking-definition--${randomUUID()}`) {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: '2023-05-06T07:08:09.123Z',
    definition_type: 'statement',
    definition: { statement: 'Copyright test' },
  };
}

/** An SCO: no created/modified; its version is the fixed sentinel. */
export function ipv4(value = `198.51.100.${Math.floor(Math.random() * 250)}`) {
  return { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${randomUUID()}`, value };
}

export const UNVERSIONED = '1970-01-01T00:00:00.000Z';

/** TAXII timestamp: exactly six fractional digits. */
export const TAXII_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
