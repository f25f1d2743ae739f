/**
 * Member policy, end to end over HTTPS, property-based: generated corpora (TLP 1.0 and 2.0
 * markings, operator-mapped and unknown markings, granular markings, sectors via identities,
 * targets relationships, indicates chains, custom properties and labels, sightings, opinions,
 * revoked links, several versions with other (often tighter) markings, links arriving in later
 * batches, statement markings whose definition comes later or never) and generated member
 * profiles and view filters. For every member, the objects (latest and all versions),
 * manifest, one-object and versions endpoints of a mirror and of a view serve exactly what the
 * oracle allows: nothing more (no leak) and nothing less (no over-filtering), with the
 * redacted body where granular markings apply, and older versions only while the latest is
 * served. The seed changes every run (printed; replay with RELAY_TEST_SEED).
 *
 * The oracle below is a slow, obvious reimplementation over the raw objects. It uses nothing
 * of src/policy or of the store's derived attributes (only the TLP id table).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startTestNode, type TestMember } from '../../support/node.ts';
import { TLP1, TLP2, UNKNOWN_MARKING } from '../../support/policy-fixtures.ts';
import { Oracle, versionOf } from '../../support/policy-oracle.ts';
import { runSeed } from '../../support/seed.ts';

type Obj = Record<string, any>;

const SHARED = '11111111-1111-4111-8111-111111111111';
const VIEW = '55555555-5555-4555-8555-555555555555';
const MAPPED = 'marking-definition--00000000-1111-4222-8333-444444444444'; // operator maps it to GREEN
/** a statement marking (copyright): restricts nobody once its definition is stored, fails closed until then */
const STATEMENT = 'marking-definition--00000000-2222-4333-8444-555555555555';
const SECTORS = ['energy', 'healthcare', 'water', 'x-custom'];
const MARKINGS = [
  undefined,
  undefined,
  undefined,
  TLP2.green,
  TLP1.green,
  TLP1.white,
  TLP1.green,
  TLP1.amber,
  TLP1.red,
  TLP2.clear,
  TLP2.green,
  TLP2.amber,
  TLP2.amberStrict,
  TLP2.red,
  UNKNOWN_MARKING,
  MAPPED,
  STATEMENT,
];
const MEMBERS: TestMember[] = ['alice', 'bob', 'carol'];
const OPINIONS = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'];

/** generated corpora per run (each starts a node); the seed changes every run */
const RUNS = 25;

// ---------------------------------------------------------------- generation

const uuid = (kind: number, n: number) => `${String(kind).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ts = (n: number, v: number) => new Date(Date.UTC(2024, 0, 1) + n * 1000 + v * 60_000).toISOString();
const marking = fc.constantFrom(...MARKINGS);
const sectorSet = fc.subarray(SECTORS);

const plan = fc.record({
  identities: fc.array(fc.record({ sectors: sectorSet, m: marking, revoked: fc.boolean() }), { maxLength: 3 }),
  malware: fc.array(fc.record({ m: marking, label: fc.option(fc.constantFrom(...SECTORS), { nil: undefined }) }), { maxLength: 2 }),
  indicators: fc.array(
    fc.record({
      m: marking,
      confidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      custom: fc.option(fc.constantFrom(...SECTORS), { nil: undefined }),
      granular: fc.option(
        fc.record({
          m: fc.constantFrom(...MARKINGS.filter((x) => x !== undefined)),
          selector: fc.constantFrom('description', 'name', 'pattern', 'labels.[0]'),
        }),
        { nil: undefined },
      ),
      v2: fc.option(marking, { nil: undefined }),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  relationships: fc.array(
    fc.record({
      type: fc.constantFrom('targets', 'indicates', 'related-to'),
      src: fc.nat(),
      tgt: fc.nat(),
      m: marking,
      revokedLater: fc.boolean(),
    }),
    { maxLength: 6 },
  ),
  sightings: fc.array(fc.record({ of: fc.nat(), where: fc.option(fc.nat(), { nil: undefined }), m: marking }), { maxLength: 2 }),
  opinions: fc.array(
    fc.record({ value: fc.constantFrom(...OPINIONS), refs: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), m: marking }),
    { maxLength: 3 },
  ),
  /** whether the statement's definition is among the objects (in any batch, often after what it marks) */
  statementDefinition: fc.boolean(),
  batches: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  defaultTlp: fc.constantFrom('white', 'green', 'amber'),
});

/** mostly absent (a member sets few keys), sometimes set */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });

const profile = fc.record({
  sectors: fc.oneof(fc.constant([]), sectorSet),
  unscoped: fc.boolean(),
  tlp_ceiling: fc.constantFrom('white', 'clear', 'green', 'amber', 'amber'),
  min_confidence: rarely(fc.integer({ min: 0, max: 100 })),
  min_opinion: rarely(fc.constantFrom(1, 2.5, 3, 4)),
  allow_types: rarely(fc.subarray(['indicator', 'relationship', 'identity', 'malware', 'sighting', 'opinion'], { minLength: 1 })),
  deny_types: rarely(fc.subarray(['malware', 'opinion'])),
});

const viewFilter = fc.record({
  sectors: fc.option(fc.subarray(SECTORS, { minLength: 1 }), { nil: undefined }),
  unscoped: fc.boolean(),
  min_confidence: rarely(fc.integer({ min: 0, max: 100 })),
  tlp: rarely(fc.constantFrom('clear', 'green', 'amber')),
});

const marks = (m: string | undefined) => (m ? { object_marking_refs: [m] } : {});

/** The corpus as batches of objects, in ingest order (links may come before or after). */
function build(p: any): Obj[][] {
  const versions: Obj[] = [];
  const sdos: string[] = [];
  const identities = p.identities.map((x: any, i: number) => {
    const o = {
      type: 'identity',
      spec_version: '2.1',
      id: `identity--${uuid(1, i)}`,
      created: ts(i, 0),
      modified: ts(i, 0),
      name: `id ${i}`,
      identity_class: 'class',
      sectors: x.sectors,
      revoked: x.revoked,
      ...marks(x.m),
    };
    if (x.sectors.length === 0) delete (o as Obj).sectors;
    return o;
  });
  const malware = p.malware.map((x: any, i: number) => ({
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${uuid(2, i)}`,
    created: ts(i, 0),
    modified: ts(i, 0),
    name: `m ${i}`,
    is_family: true,
    ...(x.label ? { labels: [`sector:${x.label}`, 'trojan'] } : {}),
    ...marks(x.m),
  }));
  const indicators = p.indicators.flatMap((x: any, i: number) => {
    const base: Obj = {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${uuid(3, i)}`,
      created: ts(i, 0),
      modified: ts(i, 0),
      name: `ind ${i}`,
      description: `about ${i}`,
      labels: ['l'],
      pattern: "[ipv4-addr:value = '10.0.0.1']",
      pattern_type: 'stix',
      valid_from: ts(i, 0),
      ...(x.confidence !== undefined ? { confidence: x.confidence } : {}),
      ...(x.custom ? { x_sectors: [x.custom] } : {}),
      ...marks(x.m),
    };
    if (x.granular) base.granular_markings = [{ marking_ref: x.granular.m, selectors: [x.granular.selector] }];
    return x.v2 === undefined
      ? [base]
      : [base, { ...base, modified: ts(i, 1), ...marks(x.v2), ...(x.v2 ? {} : { object_marking_refs: undefined }) }].map(clean);
  });
  versions.push(...identities, ...malware, ...indicators);
  sdos.push(
    ...identities.map((o: Obj) => o.id),
    ...malware.map((o: Obj) => o.id),
    ...p.indicators.map((_: any, i: number) => `indicator--${uuid(3, i)}`),
  );
  const pick = (n: number) => sdos[n % sdos.length] as string;
  p.relationships.forEach((r: any, i: number) => {
    const o = {
      type: 'relationship',
      spec_version: '2.1',
      id: `relationship--${uuid(4, i)}`,
      created: ts(i, 0),
      modified: ts(i, 0),
      relationship_type: r.type,
      source_ref: pick(r.src),
      target_ref: pick(r.tgt),
      ...marks(r.m),
    };
    versions.push(o);
    if (r.revokedLater) versions.push({ ...o, modified: ts(i, 2), revoked: true });
  });
  p.sightings.forEach((s: any, i: number) => {
    versions.push({
      type: 'sighting',
      spec_version: '2.1',
      id: `sighting--${uuid(5, i)}`,
      created: ts(i, 0),
      modified: ts(i, 0),
      sighting_of_ref: pick(s.of),
      ...(s.where !== undefined && identities.length > 0 ? { where_sighted_refs: [identities[s.where % identities.length].id] } : {}),
      ...marks(s.m),
    });
  });
  p.opinions.forEach((x: any, i: number) => {
    versions.push({
      type: 'opinion',
      spec_version: '2.1',
      id: `opinion--${uuid(6, i)}`,
      created: ts(i, 0),
      modified: ts(i, 0),
      opinion: x.value,
      object_refs: [...new Set(x.refs.map(pick))],
      ...marks(x.m),
    });
  });
  if (p.statementDefinition) {
    versions.push({
      type: 'marking-definition',
      spec_version: '2.1',
      id: STATEMENT,
      created: ts(0, 0),
      definition_type: 'statement',
      definition: { statement: 'Copyright property test' },
    });
  }
  // spread over up to three batches: links often arrive after what they link
  const batches: Obj[][] = [[], [], []];
  versions.forEach((v, i) => batches[(p.batches[i % p.batches.length] as number) % 3]!.push(v));
  return batches.filter((b) => b.length > 0);
}

function clean(o: Obj): Obj {
  const c = { ...o };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

function viewProfile(f: Obj): Obj {
  return {
    sectors: f.sectors ?? [],
    unscoped: f.sectors ? f.unscoped : true,
    tlp_ceiling: f.tlp ?? 'amber',
    min_confidence: f.min_confidence,
  };
}

// ---------------------------------------------------------------- the property

const key = (o: Obj) => `${o.id}|${versionOf(o)}`;
const sorted = (list: Obj[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));

describe('member policy over every read endpoint (property)', () => {
  it('serves exactly what the oracle allows, to every generated member, in a mirror and in a view', async () => {
    let runs = 0;
    const stats = { served: 0, withheld: 0, redacted: 0, sectorScoped: 0 };
    await fc.assert(
      fc.asyncProperty(plan, fc.tuple(profile, profile, profile), viewFilter, async (p, profiles, filter) => {
        runs++;
        const batches = build(p);
        const t = await startTestNode((data) => {
          data.policy = {
            default_tlp: p.defaultTlp,
            marking_map: { [MAPPED]: 'green' },
            sector_properties: ['x_sectors'],
            sector_labels: ['sector:'],
          };
          data.api_roots[0].collections.push({
            id: VIEW,
            alias: 'view',
            title: 'View',
            kind: 'view',
            source: 'shared',
            filter: clean(filter),
          });
          data.members.forEach((m: Obj, i: number) => {
            m.policy = clean(profiles[i] as Obj);
            m.grants = [
              { api_root: 'isac', collection: 'shared', read: true, write: false },
              { api_root: 'isac', collection: 'view', read: true, write: false },
            ];
          });
        });
        try {
          for (const b of batches) t.node.ingestor.ingest(SHARED, b, { source: 'import', detail: 'property' });
          const all = batches.flat();
          const oracle = new Oracle(all, {
            defaultTlp: p.defaultTlp,
            markingMap: { [MAPPED]: 'green' },
            sectorProperties: ['x_sectors'],
            sectorLabels: ['sector:'],
          });
          const ids = [...oracle.latest.keys()];
          for (const [i, member] of MEMBERS.entries()) {
            const mp = clean(profiles[i] as Obj);
            mp.sectors ??= [];
            for (const [collection, ps] of [
              ['shared', [mp]],
              ['view', [mp, viewProfile(clean(filter))]],
            ] as const) {
              const label = `${member} ${collection} ${JSON.stringify(ps)}`;
              const expectAll = sorted(all.map((o) => oracle.served(o, [...ps])).filter((o): o is Obj => o !== undefined));
              stats.served += expectAll.length;
              stats.withheld += all.length - expectAll.length;
              stats.redacted += expectAll.filter((o) => all.every((x) => x !== o)).length;
              stats.sectorScoped += all.filter((o) => oracle.sectors(o).size > 0).length;
              const base = `/isac/collections/${collection}`;
              const everything = await t.get(`${base}/objects/?match[version]=all&limit=200`, member);
              expect(everything.status, label).toBe(200);
              expect(everything.body.more, label).toBe(false);
              expect(sorted(everything.body.objects ?? []), label).toEqual(expectAll);
              // default match[version]=last: the newest version, when the member may have it
              const latestServed = sorted(
                [...oracle.latest.values()].map((o) => oracle.served(o, [...ps])).filter((o): o is Obj => o !== undefined),
              );
              const last = await t.get(`${base}/objects/?limit=200`, member);
              expect(sorted(last.body.objects ?? []).map(key), label).toEqual(latestServed.map(key));
              const manifest = await t.get(`${base}/manifest/?match[version]=all&limit=200`, member);
              expect((manifest.body.objects ?? []).map((m: Obj) => `${m.id}|${m.version}`).sort(), label).toEqual(
                expectAll.map(key).sort(),
              );
              for (const id of ids) {
                const mine = expectAll.filter((o) => o.id === id);
                const one = await t.get(`${base}/objects/${id}/?match[version]=all`, member);
                const versions = await t.get(`${base}/objects/${id}/versions/`, member);
                if (mine.length === 0) {
                  expect(one.status, `${label} ${id}`).toBe(404);
                  expect(versions.status, `${label} ${id}`).toBe(404);
                } else {
                  expect(one.status, `${label} ${id}`).toBe(200);
                  expect(sorted(one.body.objects), `${label} ${id}`).toEqual(mine);
                  expect([...versions.body.versions].sort(), `${label} ${id}`).toEqual(mine.map(versionOf).sort());
                }
              }
            }
          }
        } finally {
          await t.close();
        }
      }),
      { numRuns: RUNS, seed: runSeed('member policy property'), endOnFailure: true },
    );
    expect(runs).toBeGreaterThanOrEqual(RUNS);
    // the generated cases exercise both sides (served and withheld), redaction and sectors
    console.log(stats);
    expect(stats.served).toBeGreaterThan(20);
    expect(stats.withheld).toBeGreaterThan(20);
    expect(stats.redacted).toBeGreaterThan(0);
    expect(stats.sectorScoped).toBeGreaterThan(10);
  }, 600_000);
});
