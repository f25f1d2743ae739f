/**
 * What a member's TAXII client receives when it polls incrementally, property-based (real
 * LMDB, the server's own selection and member policy, no HTTP): random batches of linked STIX
 * (test/support/linked-corpus.ts) and random member profiles. After every commit each member
 * polls like a TAXII client: pages with `next` (small pages and scan budgets, so paging and
 * budget-spent pages happen), then remembers X-TAXII-Date-Added-Last and continues from it with
 * `added_after` next time. In the end, every object the member may see (its latest version, by
 * a full read of the collection) must have been delivered to it in that version at some point:
 * objects that become visible only later (a relationship whose indicator arrives after it, an
 * indicator whose sector arrives by a later relationship) must come round again. Twice: with
 * derivation done before each ingest call returns, and with the re-indexer working in small
 * steps between polls (clients poll while derivation is under way) and drained at the end.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reindexer } from '../../../src/derive/index.ts';
import { Ingestor } from '../../../src/ingest/index.ts';
import { type MemberProfile, type NodePolicy } from '../../../src/policy/index.ts';
import { DEFAULT_NODE_POLICY } from '../../../src/policy/types.ts';
import { Store } from '../../../src/store/index.ts';
import type { Micros } from '../../../src/stix/time.ts';
import { MemberView } from '../../../src/taxii/server/policy.ts';
import { selectPage, type Selection } from '../../../src/taxii/server/select.ts';
import { LINKED_SECTORS, linkedSteps, runSteps, SECTOR_LABEL } from '../../support/linked-corpus.ts';
import { runSeed } from '../../support/seed.ts';
import { tempDir } from '../../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
const POLICY: NodePolicy = { ...DEFAULT_NODE_POLICY, sectorLabels: [SECTOR_LABEL] };
/** the default query: latest versions */
const LATEST: Selection['query'] = {
  ids: null,
  types: null,
  specVersions: { kind: 'latest' },
  versions: { all: false, first: false, last: true, keys: new Set() },
};

const profile = fc.record({
  sectors: fc.subarray(LINKED_SECTORS),
  unscoped: fc.boolean(),
  tlpCeiling: fc.constantFrom('clear' as const, 'green' as const, 'amber' as const),
  minConfidence: fc.constantFrom(undefined, 50),
  minOpinion: fc.constantFrom(undefined, 3),
});

class Poller {
  /** versions delivered, by object id */
  readonly delivered = new Map<string, Set<string>>();
  /** X-TAXII-Date-Added-Last of the last non-empty page */
  private addedAfter: Micros = 0;

  constructor(
    private readonly store: Store,
    readonly member: MemberProfile,
  ) {}

  private page(after: Micros, limit: number, scanBudget: number) {
    const view = new MemberView(this.store, POLICY, this.member, C);
    return selectPage(this.store, {
      collection: C,
      after,
      limit,
      query: LATEST,
      specScope: { served: new Set(['2.1']), mixed: false },
      scanBudget,
      policy: view.accept,
      filing: view.filingKeys(),
    });
  }

  /** One poll: added_after from last time, then `next` until `more` is false. */
  poll(): void {
    let resume = this.addedAfter;
    for (let pages = 0; pages < 10_000; pages++) {
      const result = this.page(resume, 2, 5);
      for (const e of result.entries) {
        const versions = this.delivered.get(e.id) ?? new Set<string>();
        versions.add(e.versionKey);
        this.delivered.set(e.id, versions);
        if (e.dateAdded > this.addedAfter) this.addedAfter = e.dateAdded;
      }
      if (!result.more) return;
      resume = result.resumeAfter;
    }
    throw new Error('poll did not finish');
  }

  /** What a client reading the whole collection now receives. */
  everything(): Array<{ id: string; versionKey: string }> {
    const result = this.page(0, 100_000, 1_000_000);
    expect(result.more).toBe(false);
    return result.entries.map((e) => ({ id: e.id, versionKey: e.versionKey }));
  }
}

describe('incremental polling', () => {
  for (const mode of ['derived before each ingest call returns', 'derived in the background, polled in between'] as const) {
    it(`delivers every object a member may see, in its current version, to a client polling with next and added_after (${mode})`, async () => {
      // what the members could see in the end, and what reached them: an empty view everywhere
      // (a policy that admits nothing) must fail the test, not pass it vacuously
      let visible = 0;
      let delivered = 0;
      await fc.assert(
        fc.asyncProperty(
          linkedSteps({ deletions: false, minLength: 10, maxLength: 60 }),
          fc.array(profile, { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 30 }),
          async (steps, profiles, stepsBetweenPolls) => {
            const t = tempDir('relay-delivery-');
            const store = Store.open(join(t.dir, 'store'));
            try {
              const pollers = profiles.map((p, i) => new Poller(store, { memberId: `m${i}`, consent: 'none', ...p }));
              const background = mode !== 'derived before each ingest call returns';
              // in the background mode nothing is derived inline: the re-indexer takes a few small
              // steps between commits and polls, and clients poll while work is still queued
              const reindexer = new Reindexer(store, POLICY, { itemsPerStep: 2, fanoutChunk: 2 });
              const ingestor = new Ingestor(store, POLICY, undefined, background ? { reindexer, inlineItems: 0 } : {});
              let turn = 0;
              runSteps(steps, store, ingestor, C, () => {
                if (background) for (let k = 0; k < (stepsBetweenPolls[turn++ % stepsBetweenPolls.length] as number); k++) reindexer.step();
                pollers.forEach((p) => p.poll());
              });
              if (background) {
                reindexer.drain();
                pollers.forEach((p) => p.poll());
              }
              for (const p of pollers) {
                const now = p.everything();
                visible += now.length;
                for (const versions of p.delivered.values()) delivered += versions.size;
                const missed = now.filter(({ id, versionKey }) => !p.delivered.get(id)?.has(versionKey));
                expect(missed, `member ${JSON.stringify(p.member)} was never sent ${JSON.stringify(missed)}`).toEqual([]);
              }
            } finally {
              await store.close();
              t.cleanup();
            }
          },
        ),
        { numRuns: 120, seed: runSeed(`delivery property (${mode})`) },
      );
      console.log(`delivery property (${mode}): ${visible} versions visible in the end, ${delivered} deliveries`);
      expect(visible).toBeGreaterThan(120);
      expect(delivered).toBeGreaterThanOrEqual(visible);
    }, 300_000);
  }
});
