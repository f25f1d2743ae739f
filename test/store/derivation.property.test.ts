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
import { DEFAULT_NODE_POLICY } from '../../src/policy/index.ts';
import { Store } from '../../src/store/index.ts';
import { identity, indicator, malware, marked, opinion, relationship, sighting, TLP1, TLP2, UNKNOWN_MARKING } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const C = '11111111-1111-4111-8111-111111111111';
type Obj = Record<string, unknown>;
type Kind = 'identity' | 'malware' | 'indicator' | 'relationship' | 'sighting' | 'opinion';
const POOL: Record<Kind, number> = { identity: 3, malware: 2, indicator: 3, relationship: 5, sighting: 2, opinion: 2 };
const KINDS = Object.keys(POOL) as Kind[];
const SECTORS = ['energy', 'water'];
const MARKINGS = [undefined, TLP2.clear, TLP2.green, TLP2.green, TLP1.green, TLP1.amber, TLP2.red, UNKNOWN_MARKING];

/** the id of pool member `n` of a kind (the fixtures' numbering) */
const idOf = (kind: Kind, n: number): string => build(kind, n, 0, {}) .id as string;
const targetOf = (kinds: readonly Kind[]) => fc.record({ kind: fc.constantFrom(...kinds), n: fc.nat({ max: 2 }) }).map(({ kind, n }) => idOf(kind, n % POOL[kind]));

interface Shape {
  readonly marking: string | undefined;
  readonly revoked: boolean;
  readonly sectors: string[];
  readonly rt: string;
  readonly src: string;
  readonly tgt: string;
  readonly value: string;
}

const shape: fc.Arbitrary<Shape> = fc.constantFrom('targets', 'targets', 'indicates', 'related-to').chain((rt) =>
  fc.record({
    marking: fc.constantFrom(...MARKINGS),
    revoked: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    sectors: fc.subarray(SECTORS),
    rt: fc.constant(rt),
    src: targetOf(rt === 'targets' ? ['malware', 'indicator'] : rt === 'indicates' ? ['indicator'] : ['indicator', 'malware', 'identity']),
    tgt: targetOf(rt === 'targets' ? ['identity'] : rt === 'indicates' ? ['malware'] : ['indicator', 'malware', 'identity']),
    value: fc.constantFrom('strongly-disagree', 'neutral', 'agree', 'strongly-agree'),
  }),
);

function build(kind: Kind, n: number, version: number, s: Partial<Shape>): Obj {
  const extra: Obj = {
    ...(s.marking ? marked(s.marking) : {}),
    ...(s.revoked ? { revoked: true } : {}),
    ...(s.sectors && s.sectors.length > 0 && kind !== 'identity' ? { labels: s.sectors.map((x) => `sector:${x}`) } : {}),
  };
  const k = 100 * (KINDS.indexOf(kind) + 1) + n;
  switch (kind) {
    case 'identity':
      return identity(k, s.sectors ?? [], extra, version);
    case 'malware':
      return malware(k, extra, version);
    case 'indicator':
      return indicator(k, version, extra);
    case 'relationship':
      return relationship(k, s.rt ?? 'related-to', s.src ?? '', s.tgt ?? '', extra, version);
    case 'sighting':
      return sighting(k, s.src ?? '', s.tgt ? [s.tgt] : [], extra, version);
    case 'opinion':
      return opinion(k, s.value ?? 'neutral', [s.src ?? ''], extra, version);
  }
}

type Step =
  | { readonly kind: 'add'; readonly object: Kind; readonly n: number; readonly older: boolean; readonly shape: Shape }
  | { readonly kind: 'delete'; readonly object: Kind; readonly n: number; readonly newest: boolean }
  | { readonly kind: 'commit'; readonly batchSize: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), object: fc.constantFrom(...KINDS), n: fc.nat({ max: 4 }), older: fc.boolean(), shape }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), object: fc.constantFrom(...KINDS), n: fc.nat({ max: 4 }), newest: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), batchSize: fc.integer({ min: 1, max: 8 }) }) },
);

describe('incremental derivation in the store', () => {
  it('leaves every entry, summary and link exactly as a from-scratch derivation after any batches and deletions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 60, size: 'max' }), async (steps) => {
        const t = tempDir('relay-derivation-');
        const store = Store.open(join(t.dir, 'store'));
        try {
          const ingestor = new Ingestor(store, { ...DEFAULT_NODE_POLICY, sectorLabels: ['sector:'] });
          /** version numbers used per object (minutes after created), to place older versions between them */
          const used = new Map<string, number[]>();
          let pending: Obj[] = [];
          for (const s of steps) {
            if (s.kind === 'add') {
              const n = s.n % POOL[s.object];
              const versions = used.get(`${s.object}${n}`) ?? [];
              const top = versions.length === 0 ? 0 : Math.max(...versions);
              // an older version goes between existing ones (STIX allows any arrival order)
              const v = s.older && top > 1 && !versions.includes(top - 1) ? top - 1 : versions.length === 0 ? 0 : top + 2;
              used.set(`${s.object}${n}`, [...versions, v]);
              pending.push(build(s.object, n, v, s.shape));
            } else if (s.kind === 'delete') {
              const versions = store.versionsOf(C, idOf(s.object, s.n % POOL[s.object]));
              const victim = s.newest ? versions[versions.length - 1] : versions[0];
              if (victim) store.deleteVersions(C, [victim]);
              expect(store.check().problems).toEqual([]);
            } else {
              const report = ingestor.ingest(C, pending, { source: 'import', detail: 'property' }, { batchSize: s.batchSize });
              expect(report.outcomes.filter((o) => o.kind === 'rejected')).toEqual([]);
              pending = [];
              expect(store.check().problems).toEqual([]);
            }
          }
        } finally {
          await store.close();
          t.cleanup();
        }
      }),
      { numRuns: 150 },
    );
  });
});
