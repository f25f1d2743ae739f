/**
 * Incremental linked attributes (policy/linked.ts) against the definition (derive.ts
 * `deriveLinked`, a walk over the links), on an in-memory link graph with the store's
 * bookkeeping: random batches of new versions (latest or older), revocations and deletions;
 * after each batch only the fresh versions and the versions of the objects `propagate` names
 * are re-derived. Then every version of every object must equal the walk, and every summary a
 * from-scratch computation. A missed dependency in `propagate` leaves some version stale.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveLinked, endRefs, linkKeys, type LinkedAttributes, type LinkRole, type VersionFacts } from '../../src/policy/derive.ts';
import {
  linkedOfVersion,
  propagate,
  sameSummary,
  summaryOf,
  type LatestChange,
  type LinkSummary,
  type SummaryReader,
} from '../../src/policy/linked.ts';

const POOL: Record<string, number> = { identity: 3, malware: 2, indicator: 4, relationship: 6, sighting: 2, opinion: 3 };
const ids = Object.entries(POOL).flatMap(([type, n]) => Array.from({ length: n }, (_, i) => `${type}--${i}`));
const typeOf = (id: string) => id.slice(0, id.indexOf('--'));
const SECTORS = ['energy', 'water', 'health'];

const ref = fc.constantFrom(...ids);
const of = (...types: string[]) => fc.constantFrom(...ids.filter((id) => types.includes(typeOf(id))));
/** mostly well-typed ends (so chains form), sometimes any object */
const end = (...types: string[]) => fc.oneof({ weight: 6, arbitrary: of(...types) }, { weight: 1, arbitrary: ref });
const ENDS: Record<string, readonly [fc.Arbitrary<string>, fc.Arbitrary<string>]> = {
  targets: [end('malware', 'indicator'), end('identity')],
  indicates: [end('indicator'), end('malware', 'indicator')],
  'related-to': [ref, ref],
};
const base = {
  // mostly one level, so that whole chains count; sometimes any rank (0..4 TLP, 5 unknown)
  rank: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }) }),
  revoked: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  own: fc.subarray(SECTORS),
};
const finish = <T extends { own: string[] }>(f: T) => ({
  tlp: { kind: 'unmarked' } as const,
  granular: false,
  ...f,
  own: [...f.own].sort(),
});
const factsFor = (type: string): fc.Arbitrary<VersionFacts> => {
  switch (type) {
    case 'relationship':
      return fc
        .constantFrom('targets', 'targets', 'indicates', 'indicates', 'related-to')
        .chain((rt) => fc.record({ ...base, rt: fc.constant(rt), src: ENDS[rt]![0], tgt: ENDS[rt]![1] }))
        .map((f) => ({ ...finish(f), refs: [...new Set([f.src, f.tgt])] }));
    case 'sighting':
    case 'opinion':
      return fc
        .record({
          ...base,
          refs: fc.uniqueArray(end('indicator', 'malware', 'identity'), { minLength: 1, maxLength: 3 }),
          opinion: fc.integer({ min: 1, max: 5 }),
        })
        .map(({ opinion, ...f }) => ({ ...finish(f), ...(type === 'opinion' ? { opinion } : {}) }));
    default:
      return fc.record(base).map(finish);
  }
};

/** A new latest version that differs from the current one in one property (same links otherwise). */
type Revision =
  | { readonly rank: number }
  | { readonly revoked: boolean }
  | { readonly own: string[] }
  | { readonly opinion: number }
  | { readonly rt: string };
const revision: fc.Arbitrary<Revision> = fc.oneof(
  base.rank.map((rank) => ({ rank })),
  fc.constantFrom('targets', 'indicates', 'related-to').map((rt) => ({ rt })),
  fc.boolean().map((revoked) => ({ revoked })),
  base.own.map((own) => ({ own: [...own].sort() })),
  fc.integer({ min: 1, max: 5 }).map((opinion) => ({ opinion })),
);

type Command =
  | { readonly kind: 'add'; readonly id: string; readonly facts: VersionFacts; readonly older: boolean }
  | { readonly kind: 'revise'; readonly id: string; readonly change: Revision }
  | { readonly kind: 'delete'; readonly id: string }
  | { readonly kind: 'commit' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: ref.chain((id) =>
      fc.record({ kind: fc.constant('add' as const), id: fc.constant(id), facts: factsFor(typeOf(id)), older: fc.boolean() }),
    ),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('revise' as const), id: ref, change: revision }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: ref }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'commit' as const }) },
);

/** The store's bookkeeping, in memory: versions oldest first, links of latest versions, summaries, derived values. */
class Model {
  readonly versions = new Map<string, Array<{ facts: VersionFacts; derived?: LinkedAttributes }>>();
  readonly summaries = new Map<string, LinkSummary>();
  private changes: LatestChange[] = [];
  private fresh: Array<{ id: string; facts: VersionFacts }> = [];

  latest(id: string): VersionFacts | undefined {
    const list = this.versions.get(id);
    return list?.[list.length - 1]?.facts;
  }

  readonly reader: SummaryReader = {
    latest: (id) => {
      const f = this.latest(id);
      return f && { ...f, type: typeOf(id) };
    },
    referrers: (id: string, role: LinkRole) =>
      role === 'v'
        ? ids.filter((z) => this.versions.get(z)?.some((v) => endRefs(typeOf(z), v.facts).includes(id)))
        : ids.filter((z) => linkKeys(typeOf(z), this.latest(z)).some(([r, k]) => r === id && k === role)),
    summary: (id) => this.summaries.get(id),
  };

  apply(c: Command): void {
    if (c.kind === 'commit') return this.commit();
    if (c.kind === 'revise') {
      const current = this.latest(c.id);
      if (
        current === undefined ||
        ('opinion' in c.change && typeOf(c.id) !== 'opinion') ||
        ('rt' in c.change && typeOf(c.id) !== 'relationship')
      )
        return;
      return this.apply({ kind: 'add', id: c.id, facts: { ...current, ...c.change }, older: false });
    }
    const list = this.versions.get(c.id) ?? [];
    this.versions.set(c.id, list);
    const before = this.latest(c.id);
    if (c.kind === 'add') {
      const entry = { facts: c.facts };
      if (c.older && list.length > 0) list.splice(list.length - 1, 0, entry);
      else list.push(entry);
      this.fresh.push({ id: c.id, facts: c.facts });
    } else {
      if (list.length === 0) return;
      list.pop();
    }
    const after = this.latest(c.id);
    if (after !== before) this.changes.push({ id: c.id, type: typeOf(c.id), before, after });
  }

  /** What Store.deriveAfter does at the end of a transaction. */
  commit(): void {
    const { summaries, rederive } = propagate(this.changes, this.reader);
    for (const [id, s] of summaries) {
      if (s) this.summaries.set(id, s);
      else this.summaries.delete(id);
    }
    const freshFacts = new Set(this.fresh.map((f) => f.facts));
    for (const [id, list] of this.versions) {
      for (const v of list) {
        if (freshFacts.has(v.facts) || rederive.has(id)) v.derived = linkedOfVersion(id, typeOf(id), v.facts, this.reader);
      }
    }
    this.changes = [];
    this.fresh = [];
  }
}

const normal = (a: LinkedAttributes | undefined) => a && { sectors: [...a.sectors], opinion: a.opinion };

describe('incremental linked attributes', () => {
  it('equal a fresh walk of the links for every version after any sequence of batches', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 10, maxLength: 80, size: 'max' }), (commands) => {
        const model = new Model();
        for (const c of commands) {
          model.apply(c);
          if (c.kind !== 'commit') continue;
          for (const [id, list] of model.versions) {
            for (const v of list) {
              expect(normal(v.derived), `${id} version rank ${v.facts.rank}`).toEqual(
                normal(deriveLinked(id, typeOf(id), v.facts, model.reader)),
              );
            }
          }
          for (const id of ids) {
            const now = summaryOf(id, model.reader);
            expect(
              sameSummary(model.summaries.get(id), now),
              `summary of ${id}: ${JSON.stringify(model.summaries.get(id))} vs ${JSON.stringify(now)}`,
            ).toBe(true);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('a targets relationship that adds nothing new stops propagation at its source', () => {
    const model = new Model();
    const facts = (f: Partial<VersionFacts>): VersionFacts => ({
      tlp: { kind: 'unmarked' },
      rank: 1,
      granular: false,
      revoked: false,
      own: [],
      ...f,
    });
    const rel = (src: string, tgt: string, rt: string): VersionFacts => facts({ rt, src, tgt, refs: [src, tgt] });
    for (const [id, f] of [
      ['identity--0', facts({ own: ['energy'] })],
      ['identity--1', facts({ own: ['energy'] })],
      ['malware--0', facts({})],
      ['indicator--0', facts({})],
      ['relationship--0', rel('indicator--0', 'malware--0', 'indicates')],
      ['relationship--1', rel('malware--0', 'identity--0', 'targets')],
    ] as const) {
      model.apply({ kind: 'add', id, facts: f, older: false });
    }
    model.commit();
    expect(model.versions.get('indicator--0')?.[0]?.derived?.sectors).toEqual(['energy']);
    // a second identity of the same sector, at the same rank: the malware's summary is unchanged
    model.apply({ kind: 'add', id: 'relationship--2', facts: rel('malware--0', 'identity--1', 'targets'), older: false });
    const changes: LatestChange[] = [
      { id: 'relationship--2', type: 'relationship', before: undefined, after: model.latest('relationship--2') },
    ];
    const { summaries, rederive } = propagate(changes, model.reader);
    expect([...summaries.keys()]).toEqual([]);
    expect([...rederive]).toEqual([]);
  });
});
