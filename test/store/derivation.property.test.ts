/**
 * Incremental derivation in the real store (LMDB): random STIX objects and versions (TLP 1.0 /
 * 2.0, unknown markings, revocations, sector labels, relationships re-pointed by later
 * versions, versions arriving out of order), committed in random batches, with random
 * deletions. After every step (the re-indexer drains inline) the store's structural check must
 * be clean (the links index against the versions stored, the sector index against each entry's
 * filing …) and so must `checkDerived`: every version's facts against its body, its linked
 * sectors and opinion score against a from-scratch walk of the links (`deriveLinked`), every
 * link summary against a recomputation, every filing against the rule.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDerived } from '../../src/derive/index.ts';
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
          const policy = { ...DEFAULT_NODE_POLICY, sectorLabels: [SECTOR_LABEL] };
          const ingestor = new Ingestor(store, policy);
          runSteps(steps, store, ingestor, C, (report) => {
            expect(report?.outcomes.filter((o) => o.kind === 'rejected') ?? []).toEqual([]);
            expect(store.check().problems).toEqual([]);
            expect(checkDerived(store, policy)).toEqual({ checked: true, problems: [] });
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
