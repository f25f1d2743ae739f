/**
 * Small helpers for store, ingest and CLI tests: temp directories and generated STIX objects.
 * (test/support/node.ts is the TAXII node harness; this file is independent of it.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stixTimestampKey } from '../../src/stix/time.ts';
import { endRefs, linkKeys, versionFacts } from '../../src/policy/derive.ts';
import { initialFiling } from '../../src/policy/filing.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { PreparedVersion } from '../../src/store/index.ts';

/** A fresh temp directory and a function that removes it. */
export function tempDir(prefix = 'relay-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic UUIDv4-shaped string from a number (distinct numbers, distinct UUIDs). */
export function uuidFor(n: number, salt = 0): string {
  const hex = (n >>> 0).toString(16).padStart(8, '0');
  const s = (salt >>> 0).toString(16).padStart(4, '0').slice(-4);
  return `${hex}-${s}-4000-8000-${(n * 7919 + salt).toString(16).padStart(12, '0').slice(-12)}`;
}

/** A valid STIX 2.1 indicator; `version` (0, 1, 2 …) moves `modified` forward by seconds. */
export function indicator(n: number, version = 0, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const created = Date.UTC(2024, 0, 1) + n * 1000;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidFor(n)}`,
    created: new Date(created).toISOString(),
    modified: new Date(created + version * 60_000).toISOString(),
    name: `indicator ${n}`,
    pattern: `[ipv4-addr:value = '10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}']`,
    pattern_type: 'stix',
    valid_from: new Date(created).toISOString(),
    ...extra,
  };
}

/** A statement marking definition (a copyright line, not a TLP level): not known until it is ingested. */
export function statementMarking(id: string, statement = 'Copyright test corp'): Record<string, unknown> {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: '2017-06-01T00:00:00Z',
    definition_type: 'statement',
    definition: { statement },
  };
}

/**
 * A PreparedVersion for the store, built the way the ingestor builds one: with its policy
 * attributes (default node policy) unless `withAttributes` is false (a store without them).
 */
export function prepared(object: Record<string, unknown>, withAttributes = true): PreparedVersion {
  const version = (object.modified ?? object.created ?? '1970-01-01T00:00:00.000Z') as string;
  const type = object.type as string;
  const facts = versionFacts(object as StixObject, DEFAULT_NODE_POLICY);
  return {
    id: object.id as string,
    type,
    version,
    versionKey: stixTimestampKey(version) as string,
    specVersion: (object.spec_version as string | undefined) ?? '2.1',
    json: JSON.stringify(object),
    ...(withAttributes
      ? { stored: { facts, filing: initialFiling(type, facts), links: linkKeys(type, facts), ends: endRefs(type, facts) } }
      : {}),
  };
}
