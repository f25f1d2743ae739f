/**
 * Incremental linked attributes (policy/linked.ts) against the definition (derive.ts
 * `deriveLinked`, a walk over the links), on an in-memory link graph with the re-indexer's
 * bookkeeping: random batches of new versions (latest or older), revocations and deletions;
 * after each batch a worklist like the re-indexer's queue follows only what `changeEffects`
 * and `summaryChangeEffects` name (summary parts to recompute, referrers to tell), and
 * re-derives only the objects it reaches. Then every version of every object must equal the
 * walk, and every summary a from-scratch computation. A missed dependency in the effect rules
 * leaves some version stale. (src/derive/ runs the same rules over LMDB:
 * test/store/derivation.property.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveLinked, endRefs, linkKeys, type LinkedAttributes, type LinkRole, type VersionFacts } from '../../src/policy/derive.ts';
import {
  changeEffects,
  linkedOfVersion,
  sameSummary,
  samePart,
  summaryChangeEffects,
  summaryOf,
  summaryPartOf,
  type Effect,
  type LinkSummary,
  type SummaryReader,
} from '../../src/policy/linked.ts';
import type { SummaryPart } from '../../src/stix/attributes.ts';

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
  ownSectors: fc.subarray(SECTORS),
};
const finish = <T extends { ownSectors: string[] }>(f: T) => ({
  tlp: { kind: 'unmarked' } as const,
  granular: false,
  ...f,
  ownSectors: [...f.ownSectors].sort(),
});
const factsFor = (type: string): fc.Arbitrary<VersionFacts> => {
  switch (type) {
    case 'relationship':
      return fc
        .constantFrom('targets', 'targets', 'indicates', 'indicates', 'related-to')
        .chain((rt) => fc.record({ ...base, relationshipType: fc.constant(rt), sourceRef: ENDS[rt]![0], targetRef: ENDS[rt]![1] }))
        .map((f) => ({ ...finish(f), refs: [...new Set([f.sourceRef, f.targetRef])] }));
    case 'sighting':
    case 'opinion':
      return fc
        .record({
          ...base,
          refs: fc.uniqueArray(end('indicator', 'malware', 'identity'), { minLength: 1, maxLength: 3 }),
          opinionValue: fc.integer({ min: 1, max: 5 }),
        })
        .map(({ opinionValue, ...f }) => ({ ...finish(f), ...(type === 'opinion' ? { opinionValue } : {}) }));
    default:
      return fc.record(base).map(finish);
  }
};

/** A new latest version that differs from the current one in one property (same links otherwise). */
type Revision =
  | { readonly rank: number }
  | { readonly revoked: boolean }
  | { readonly ownSectors: string[] }
  | { readonly opinionValue: number }
  | { readonly relationshipType: string };
const revision: fc.Arbitrary<Revision> = fc.oneof(
  base.rank.map((rank) => ({ rank })),
  fc.constantFrom('targets', 'indicates', 'related-to').map((relationshipType) => ({ relationshipType })),
  fc.boolean().map((revoked) => ({ revoked })),
  base.ownSectors.map((own) => ({ ownSectors: [...own].sort() })),
  fc.integer({ min: 1, max: 5 }).map((opinionValue) => ({ opinionValue })),
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

interface Work {
  /** the object's latest facts when its change was first queued (null: it had none) */
  before?: VersionFacts | null;
  dirty: Set<SummaryPart>;
  rederive: boolean;
}

/** The store's bookkeeping, in memory: versions oldest first, links of latest versions, summaries, derived values, the queue. */
class Model {
  readonly versions = new Map<string, Array<{ facts: VersionFacts; derived?: LinkedAttributes }>>();
  readonly summaries = new Map<string, LinkSummary>();
  private readonly queue = new Map<string, Work>();
  /** objects whose versions the last commit derived again, in order */
  rederived: string[] = [];

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
      role === 'end-of'
        ? ids.filter((z) => this.versions.get(z)?.some((v) => endRefs(typeOf(z), v.facts).includes(id)))
        : ids.filter((z) => linkKeys(typeOf(z), this.latest(z)).some(([r, k]) => r === id && k === role)),
    summary: (id) => this.summaries.get(id),
  };

  private work(id: string): Work {
    let w = this.queue.get(id);
    if (!w) this.queue.set(id, (w = { dirty: new Set(), rederive: false }));
    return w;
  }

  apply(c: Command): void {
    if (c.kind === 'commit') return this.commit();
    if (c.kind === 'revise') {
      const current = this.latest(c.id);
      if (
        current === undefined ||
        ('opinionValue' in c.change && typeOf(c.id) !== 'opinion') ||
        ('relationshipType' in c.change && typeOf(c.id) !== 'relationship')
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
      // a fresh version is placed with its own sectors: its object is derived
      this.work(c.id).rederive = true;
    } else {
      if (list.length === 0) return;
      list.pop();
    }
    const after = this.latest(c.id);
    const w = this.work(c.id);
    if (after !== before && w.before === undefined) w.before = before ?? null;
  }

  /** What the re-indexer does with the queue, until it is empty. */
  commit(): void {
    this.rederived = [];
    for (let steps = 0; this.queue.size > 0; steps++) {
      if (steps > 100_000) throw new Error('the worklist does not end');
      const [id, w] = this.queue.entries().next().value as [string, Work];
      this.queue.delete(id);
      let rederive = w.rederive;
      const tell = (effects: readonly Effect[]) => {
        for (const e of effects) {
          if (e.kind === 'summary') {
            this.work(e.of).dirty.add(e.part);
            continue;
          }
          for (const z of this.reader.referrers(id, e.role)) {
            if (e.notice === 'rederive') this.work(z).rederive = true;
            else if (e.notice === 'targeted-of-source' || e.notice === 'indicated-of-source') {
              const src = this.latest(z)?.sourceRef;
              if (src !== undefined) this.work(src).dirty.add(e.notice === 'targeted-of-source' ? 'targeted' : 'indicated');
            }
          }
        }
      };
      if (w.before !== undefined) {
        tell(changeEffects(typeOf(id), w.before ?? undefined, this.latest(id)));
        rederive = true;
      }
      for (const part of w.dirty) {
        const current = this.summaries.get(id);
        const now = summaryPartOf(id, part, this.reader);
        if (samePart(current?.[part], now)) continue;
        const { [part]: _old, ...rest } = current ?? {};
        const next: LinkSummary = now === undefined ? rest : { ...rest, [part]: now };
        if (Object.keys(next).length > 0) this.summaries.set(id, next);
        else this.summaries.delete(id);
        rederive = true;
        tell(summaryChangeEffects(part));
      }
      if (!rederive) continue;
      this.rederived.push(id);
      for (const v of this.versions.get(id) ?? []) v.derived = linkedOfVersion(id, typeOf(id), v.facts, this.reader);
    }
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
      ownSectors: [],
      ...f,
    });
    const rel = (sourceRef: string, targetRef: string, relationshipType: string): VersionFacts =>
      facts({ relationshipType, sourceRef, targetRef, refs: [sourceRef, targetRef] });
    for (const [id, f] of [
      ['identity--0', facts({ ownSectors: ['energy'] })],
      ['identity--1', facts({ ownSectors: ['energy'] })],
      ['malware--0', facts({})],
      ['indicator--0', facts({})],
      ['relationship--0', rel('indicator--0', 'malware--0', 'indicates')],
      ['relationship--1', rel('malware--0', 'identity--0', 'targets')],
    ] as const) {
      model.apply({ kind: 'add', id, facts: f, older: false });
    }
    model.commit();
    expect(model.versions.get('indicator--0')?.[0]?.derived?.sectors).toEqual(['energy']);
    // a second identity of the same sector, at the same rank: the malware's summary is unchanged,
    // so neither it nor its indicator is derived again
    model.apply({ kind: 'add', id: 'relationship--2', facts: rel('malware--0', 'identity--1', 'targets'), older: false });
    model.commit();
    expect(model.rederived).toEqual(['relationship--2']);
  });
});
