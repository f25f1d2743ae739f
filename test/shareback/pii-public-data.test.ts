/**
 * The scanner on public threat data nobody on this project wrote (/work/shared/data): thousands
 * of indicators, IP addresses, hashes, domains, ports, versions and dates, and no phone numbers,
 * SSNs, card numbers, IBANs or postal addresses. Whatever of those kinds it flags there is a
 * false finding. Names and mailboxes it does find there are real people (report authors,
 * individual identities, the APT1 personas), so they are printed, not asserted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectsOfDocument } from '../../src/ingest/index.ts';
import { scanObjects, type PiiKind } from '../../src/shareback/pii/index.ts';
import { DATA, jsonFiles } from '../support/data.ts';

/** the IOC-heavy sets, and one ATT&CK bundle (ICS: ports, protocols, versions in prose) */
const SETS = [
  'oasis-stix-elevator-idioms',
  'oasis-json-schemas',
  'oasis-cti-documentation',
  'opencti-test-bundle',
  'oasis-medallion-taxii',
  'attack-flow-corpus',
  'oasis-common-objects',
  'opencti-sectors',
  'oasis-python-stix2-filestore',
  'mitre-attack/ics-attack-18.1.json',
];
const NEVER_THERE: readonly PiiKind[] = ['phone', 'ssn', 'credit_card', 'iban', 'postal_address'];

describe('PII scanner on public threat data', () => {
  it('flags no phone numbers, SSNs, card numbers, IBANs or postal addresses among its observables', () => {
    let objects = 0;
    const byKind = new Map<PiiKind, number>();
    const wrong: string[] = [];
    for (const set of SETS) {
      const path = join(DATA, set);
      for (const file of set.endsWith('.json') ? [path] : jsonFiles(path)) {
        let batch: unknown[];
        try {
          batch = objectsOfDocument(JSON.parse(readFileSync(file, 'utf8')));
        } catch {
          continue; // schemas and TAXII resources that are not STIX documents
        }
        objects += batch.length;
        for (const { id, findings } of scanObjects(batch)) {
          for (const f of findings) {
            byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
            if (NEVER_THERE.includes(f.kind)) wrong.push(`${file.slice(DATA.length + 1)} ${id} ${f.path} ${f.kind}`);
          }
        }
      }
    }
    console.log(`${objects} public objects scanned; findings by kind: ${JSON.stringify(Object.fromEntries(byKind))}`);
    expect(objects).toBeGreaterThan(5000);
    expect(wrong).toEqual([]);
  });
});
