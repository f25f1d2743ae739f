/**
 * Incremental derivation in the real store (LMDB): random STIX objects and versions (TLP 1.0 /
 * 2.0, unknown markings, revocations, sector labels, relationships re-pointed by later
 * versions, versions arriving out of order), committed in random batches, with random
 * deletions. After every step `check()` must be clean: it compares every stored entry's linked
 * sectors and opinion score with a from-scratch walk of the links (`deriveLinked`), every link
 * summary with a recomputation, and the links index (roles of latest versions, ends of every
 * relationship and sighting version) with the versions stored.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { DEFAULT_NODE_POLICY } from '../../src/policy/types.ts';
import { Store } from '../../src/store/index.ts';
import { linkedSteps, runSteps, SECTOR_LABEL } from '../support/linked-corpus.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';

describe('incremental derivation in the store', () => {
  it('leaves every entry, summary and link exactly as a from-scratch derivation after any batches and deletions', async () => {
    await fc.assert(
      fc.asyncProperty(linkedSteps({ deletions: true, minLength: 10, maxLength: 60 }), async (steps) => {
        const t = tempDir('relay-derivation-');
        const store = Store.open(join(t.dir, 'store'));
        try {
          const ingestor = new Ingestor(store, { ...DEFAULT_NODE_POLICY, sectorLabels: [SECTOR_LABEL] });
          runSteps(steps, store, ingestor, C, (report) => {
            expect(report?.outcomes.filter((o) => o.kind === 'rejected') ?? []).toEqual([]);
            expect(store.check().problems).toEqual([]);
          });
        } finally {
          await store.close();
          t.cleanup();
        }
      }),
      { numRuns: 150 },
    );
  }, 300_000);
});
