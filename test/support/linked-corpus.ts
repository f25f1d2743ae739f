/**
 * Random linked STIX for property tests of derivation and delivery: small pools of identities
 * (with sectors), malware, indicators, relationships (targets / indicates / related-to, mostly
 * well-typed so chains form), sightings and opinions; TLP 1.0 / 2.0 and unknown markings,
 * revocations, sector labels (`sector:<name>`, for a node configured with that label prefix),
 * later versions, versions arriving out of order, relationships re-pointed by later versions,
 * random batch splits and deletions.
 */
import fc from 'fast-check';
import type { Ingestor } from '../../src/ingest/index.ts';
import type { Store } from '../../src/store/index.ts';
import { identity, indicator, malware, marked, opinion, relationship, sighting, TLP1, TLP2, UNKNOWN_MARKING } from './policy-fixtures.ts';

type Obj = Record<string, unknown>;
export type Kind = 'identity' | 'malware' | 'indicator' | 'relationship' | 'sighting' | 'opinion';
const POOL: Record<Kind, number> = { identity: 3, malware: 2, indicator: 3, relationship: 5, sighting: 2, opinion: 2 };
const KINDS = Object.keys(POOL) as Kind[];
export const LINKED_SECTORS = ['energy', 'water'];
/** the label prefix that names a sector in these objects (policy.sector_labels) */
export const SECTOR_LABEL = 'sector:';
const MARKINGS = [undefined, TLP2.clear, TLP2.green, TLP2.green, TLP1.green, TLP1.amber, TLP2.red, UNKNOWN_MARKING];

/** the id of pool member `n` of a kind */
export const idOf = (kind: Kind, n: number): string => build(kind, n % POOL[kind], 0, {}).id as string;
const targetOf = (kinds: readonly Kind[]) =>
  fc.record({ kind: fc.constantFrom(...kinds), n: fc.nat({ max: 2 }) }).map(({ kind, n }) => idOf(kind, n));

interface Shape {
  readonly marking: string | undefined;
  readonly revoked: boolean;
  readonly sectors: string[];
  readonly rt: string;
  readonly src: string;
  readonly tgt: string;
  readonly value: string;
  readonly confidence: number | undefined;
}

const shape: fc.Arbitrary<Shape> = fc.constantFrom('targets', 'targets', 'indicates', 'related-to').chain((rt) =>
  fc.record({
    marking: fc.constantFrom(...MARKINGS),
    revoked: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    sectors: fc.subarray(LINKED_SECTORS),
    rt: fc.constant(rt),
    src: targetOf(rt === 'targets' ? ['malware', 'indicator'] : rt === 'indicates' ? ['indicator'] : ['indicator', 'malware', 'identity']),
    tgt: targetOf(rt === 'targets' ? ['identity'] : rt === 'indicates' ? ['malware'] : ['indicator', 'malware', 'identity']),
    value: fc.constantFrom('strongly-disagree', 'neutral', 'agree', 'strongly-agree'),
    confidence: fc.constantFrom(undefined, 20, 80),
  }),
);

function build(kind: Kind, n: number, version: number, s: Partial<Shape>): Obj {
  const extra: Obj = {
    ...(s.marking ? marked(s.marking) : {}),
    ...(s.revoked ? { revoked: true } : {}),
    ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
    ...(s.sectors && s.sectors.length > 0 && kind !== 'identity' ? { labels: s.sectors.map((x) => `${SECTOR_LABEL}${x}`) } : {}),
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

export type Step =
  | { readonly kind: 'add'; readonly object: Kind; readonly n: number; readonly older: boolean; readonly shape: Shape }
  | { readonly kind: 'delete'; readonly object: Kind; readonly n: number; readonly newest: boolean }
  | { readonly kind: 'commit'; readonly batchSize: number };

/** Steps: new versions (mostly), commits of what was added since the last one, deletions (when `deletions`). */
export const linkedSteps = (options: { deletions: boolean; minLength: number; maxLength: number }): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constant('add' as const),
          object: fc.constantFrom(...KINDS),
          n: fc.nat({ max: 4 }),
          older: fc.boolean(),
          shape,
        }),
      },
      {
        weight: options.deletions ? 1 : 0,
        arbitrary: fc.record({
          kind: fc.constant('delete' as const),
          object: fc.constantFrom(...KINDS),
          n: fc.nat({ max: 4 }),
          newest: fc.boolean(),
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), batchSize: fc.integer({ min: 1, max: 8 }) }) },
    ),
    { minLength: options.minLength, maxLength: options.maxLength, size: 'max' },
  );

/**
 * Applies steps to a collection through the ingestor; `afterCommit` runs after every commit and
 * deletion (with the ingest report of a commit). Objects added after the last commit are
 * committed at the end.
 */
export function runSteps(
  steps: readonly Step[],
  store: Store,
  ingestor: Ingestor,
  collection: string,
  afterCommit: (report?: ReturnType<Ingestor['ingest']>) => void,
): void {
  /** version numbers used per object (minutes after created), to place older versions between them */
  const used = new Map<string, number[]>();
  let pending: Obj[] = [];
  const commit = (batchSize: number) => {
    const report = ingestor.ingest(collection, pending, { source: 'import', detail: 'property' }, { batchSize });
    pending = [];
    afterCommit(report);
  };
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
      const versions = store.versionsOf(collection, idOf(s.object, s.n));
      const victim = s.newest ? versions[versions.length - 1] : versions[0];
      if (victim) ingestor.delete(collection, [victim]);
      afterCommit();
    } else {
      commit(s.batchSize);
    }
  }
  if (pending.length > 0) commit(8);
}
