/**
 * Hub fan-out: a store holding one malware with BENCH_FANOUT indicators (as many `indicates`
 * relationships), then one batch: a `targets` relationship from that malware to an `energy`
 * organization. Derivation gives every indicator (and relationship) the sector, so all of them
 * are re-derived and announced again; the commit must not do that work, the re-indexer must
 * do it without holding up readers.
 *
 *   fanout.commit_ms        the batch's commit (Ingestor.ingest until its commit returned; the
 *                           ingest call then derives its inline budget, reported apart)
 *   fanout.drain_s          from that commit until the re-indexer backlog is empty
 *   fanout.page_p99_ratio   a member's page p99 while it drains ÷ its p99 idle just before
 *
 * The node is real (startNode: HTTPS, the member's policy, the background re-indexer stepping
 * between requests) and runs in this process, as the client does: one undici connection, pages
 * of BENCH_PAGE_LIMIT at random `added_after` positions, bodies received but not parsed. The
 * client shares the node's event loop, in the idle samples as in those during the drain.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { hashSecret } from '../src/auth/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { startNode } from '../src/node.ts';
import { TLP2 } from '../src/stix/markings.ts';
import { formatTaxiiTimestamp } from '../src/stix/time.ts';
import { percentile, round, type BenchContext, type Section } from './context.ts';
import { Prng } from './prng.ts';
import { figure, type SectionOutcome } from './report.ts';

export const FANOUT_TARGET_COMMIT_MS = 100;
export const FANOUT_TARGET_PAGE_P99_RATIO = 2;

const COLLECTION = 'f0f0f0f0-0000-4000-8000-000000000001';
const MEMBER = 'energy-member';
const SECRET = 'fanout-secret';
const TAXII = 'application/taxii+json;version=2.1';
const SECTOR = 'energy';
/** how long the drain may take before the section gives up on it (reported) */
const DRAIN_LIMIT_MS = 30 * 60_000;
const SETUP_CHUNK = 20_000;

function config(dir: string, pageLimit: number): Record<string, unknown> {
  return {
    node: { id: 'bench-fanout', title: 'Fan-out' },
    listen: '127.0.0.1:0',
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    logging: { level: 'silent' },
    taxii: { default_page_size: 100, max_page_size: Math.max(1000, pageLimit) },
    api_roots: [{ path: 'hub', title: 'Hub', default: true, collections: [{ id: COLLECTION, alias: 'feed', title: 'Feed' }] }],
    members: [
      {
        id: MEMBER,
        name: 'Energy member',
        credentials: { basic_secret_hash: hashSecret(SECRET) },
        // its sector, and objects without one: it sees the indicators before and after they gain the sector
        policy: { tlp_ceiling: 'amber', sectors: [SECTOR], unscoped: true },
        grants: [{ api_root: 'hub', collection: 'feed', read: true }],
      },
    ],
  };
}

type Obj = Record<string, unknown>;

/** The hub's objects: the malware, the identity, then each indicator with its `indicates` relationship. */
class FanoutCorpus {
  private readonly rng: Prng;
  private clock = Date.UTC(2024, 2, 1);
  readonly malware: string;
  readonly identity: string;

  constructor(seed: number) {
    this.rng = new Prng(seed);
    this.malware = `malware--${this.rng.uuid()}`;
    this.identity = `identity--${this.rng.uuid()}`;
  }

  private at(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  heads(): Obj[] {
    const at = this.at();
    return [
      {
        type: 'malware',
        spec_version: '2.1',
        id: this.malware,
        created: at,
        modified: at,
        name: 'Hub family',
        is_family: true,
        object_marking_refs: [TLP2.green],
      },
      {
        type: 'identity',
        spec_version: '2.1',
        id: this.identity,
        created: at,
        modified: at,
        name: 'Energy Co',
        identity_class: 'organization',
        sectors: [SECTOR],
        object_marking_refs: [TLP2.clear],
      },
    ];
  }

  /** indicator number `i` and its relationship to the malware */
  pair(i: number): [Obj, Obj] {
    const at = this.at();
    const indicator = `indicator--${this.rng.uuid()}`;
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    return [
      {
        type: 'indicator',
        spec_version: '2.1',
        id: indicator,
        created: at,
        modified: at,
        name: `C2 ${ip}`,
        pattern: `[ipv4-addr:value = '${ip}']`,
        pattern_type: 'stix',
        valid_from: at,
        object_marking_refs: [TLP2.green],
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: `relationship--${this.rng.uuid()}`,
        created: at,
        modified: at,
        relationship_type: 'indicates',
        source_ref: indicator,
        target_ref: this.malware,
        object_marking_refs: [TLP2.green],
      },
    ];
  }

  targets(): Obj {
    const at = this.at();
    return {
      type: 'relationship',
      spec_version: '2.1',
      id: `relationship--${this.rng.uuid()}`,
      created: at,
      modified: at,
      relationship_type: 'targets',
      source_ref: this.malware,
      target_ref: this.identity,
      object_marking_refs: [TLP2.green],
    };
  }
}

interface LatencySummary {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const summary = (ms: readonly number[]): LatencySummary => ({
  samples: ms.length,
  p50: round(percentile(ms, 50), 1),
  p99: round(percentile(ms, 99), 1),
  max: round(Math.max(...ms), 1),
});

export const fanoutSection: Section = {
  name: 'fanout',
  title: 'Hub fan-out (one `targets` on a malware with many indicators; a member paging meanwhile)',
  async run(ctx: BenchContext): Promise<SectionOutcome> {
    const indicators = ctx.settings.fanout.indicators;
    const { pageLimit, latencySamples } = ctx.settings.serve;
    const dir = ctx.tempDir('fanout');
    const node = await startNode(parseConfig(config(dir, pageLimit), 'fanout'), pino({ level: 'silent' }));
    const ca = node.devCaPath === undefined ? undefined : readFileSync(node.devCaPath, 'utf8');
    const agent = new Agent({ connect: { ca }, connections: 1 });
    try {
      // setup: the hub and its indicators, derived to the end (not measured)
      const corpus = new FanoutCorpus(ctx.settings.seed + 11);
      const dateAdded: number[] = [];
      const setup = (objects: readonly Obj[]) => {
        const report = node.ingestor.ingest(COLLECTION, objects, { source: 'import', detail: 'bench-setup' }, { batchSize: 10_000 });
        if (report.rejected > 0) throw new Error(`fanout setup: ${report.rejected} objects rejected`);
        for (const o of report.outcomes) if (o.kind === 'stored') dateAdded.push(o.dateAdded);
      };
      const s0 = performance.now();
      setup(corpus.heads());
      for (let done = 0; done < indicators;) {
        const n = Math.min(SETUP_CHUNK / 2, indicators - done);
        const chunk: Obj[] = [];
        for (let i = 0; i < n; i++) chunk.push(...corpus.pair(done + i));
        setup(chunk);
        if (Math.floor((done + n) / (indicators / 5)) > Math.floor(done / (indicators / 5))) {
          ctx.progress(
            `fanout setup: ${(done + n).toLocaleString('en-US')}/${indicators.toLocaleString('en-US')} indicators, backlog ${node.store.queue.size()}`,
          );
        }
        done += n;
        // the background re-indexer gets its turn, and a signal too
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      node.reindexer.drain();
      ctx.progress(
        `fanout: ${dateAdded.length.toLocaleString('en-US')} objects stored and derived in ${round((performance.now() - s0) / 1000, 1)} s`,
      );

      const rng = new Prng(ctx.settings.seed ^ 0xfa0);
      const authorization = `Basic ${Buffer.from(`${MEMBER}:${SECRET}`).toString('base64')}`;
      const span = Math.max(1, dateAdded.length - 2 * pageLimit);
      let minObjects = Infinity;
      const page = async (): Promise<number> => {
        const query = new URLSearchParams({
          added_after: formatTaxiiTimestamp(dateAdded[rng.int(0, span - 1)] as number),
          limit: String(pageLimit),
        });
        const t0 = performance.now();
        const res = await request(`${node.baseUrl}/hub/collections/${COLLECTION}/objects/?${query.toString()}`, {
          dispatcher: agent,
          headers: { accept: TAXII, authorization },
        });
        const text = await res.body.text();
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) throw new Error(`page: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        minObjects = Math.min(minObjects, (text.match(/"spec_version"/g) ?? []).length);
        return ms;
      };

      for (let i = 0; i < 10; i++) await page(); // warm-up
      const idle: number[] = [];
      for (let i = 0; i < latencySamples; i++) idle.push(await page());
      const idleMinObjects = minObjects;

      // the re-indexer's steps from here on, timed (a wrapper on this instance: one clock read per step)
      const steps: number[] = [];
      const step = node.reindexer.step.bind(node.reindexer);
      node.reindexer.step = (...args: Parameters<typeof step>) => {
        const t0 = performance.now();
        const result = step(...args);
        if (result.items > 0) steps.push(performance.now() - t0);
        return result;
      };

      // the batch: one relationship; onBatch runs when its commit has returned
      const movedBefore = node.reindexer.reindexed;
      let commitMs = NaN;
      const c0 = performance.now();
      const report = node.ingestor.ingest(
        COLLECTION,
        [corpus.targets()],
        { source: 'import', detail: 'bench' },
        {
          onBatch: () => (commitMs = performance.now() - c0),
        },
      );
      const ingestCallMs = performance.now() - c0;
      if (report.stored !== 1) throw new Error(`fanout: the targets relationship was not stored (${JSON.stringify(report.outcomes[0])})`);
      const committedAt = c0 + commitMs;
      const backlogAfterCall = node.reindexer.backlog().items;

      // the drain: the node's background re-indexer steps between the member's requests
      const during: number[] = [];
      let drainedAt: number | null = null;
      let largestBacklog = backlogAfterCall;
      while (performance.now() - committedAt < DRAIN_LIMIT_MS) {
        // the oldest item's time is one read; the backlog's size counts every entry, so only now and then
        if (node.store.queue.oldestSince() === null && node.reindexer.backlog().jobs.length === 0) {
          drainedAt = performance.now();
          break;
        }
        if (during.length % 20 === 0) largestBacklog = Math.max(largestBacklog, node.store.queue.size());
        during.push(await page());
      }
      const moved = node.reindexer.reindexed - movedBefore;
      const idleP99 = percentile(idle, 99);
      const duringP99 = during.length > 0 ? percentile(during, 99) : null;
      const drainS = drainedAt === null ? null : (drainedAt - committedAt) / 1000;

      const notes = [
        `${indicators.toLocaleString('en-US')} indicators with as many indicates relationships; the targets relationship moved ${moved.toLocaleString('en-US')} entries to a new date_added (every indicator and indicates relationship gains the sector: about ${(2 * indicators).toLocaleString('en-US')} distinct entries)`,
        `the ingest call took ${round(ingestCallMs, 1)} ms: the commit, then the inline budget of the re-indexer (${node.config.reindexer.inline_items} queued objects); ${backlogAfterCall.toLocaleString('en-US')} objects queued after it`,
        `re-indexer: ${steps.length.toLocaleString('en-US')} steps with work (inline ones included), ${round(percentile(steps, 50), 1)} ms median, ${round(percentile(steps, 99), 1)} ms p99, ${round(Math.max(0, ...steps), 1)} ms longest, ${round(steps.reduce((a, b) => a + b, 0) / 1000, 1)} s in all (each a durable commit)`,
        `pages: a member of ${SECTOR} (and unsectored objects) up to AMBER, limit ${pageLimit}, random added_after positions, one connection to a node in this process (the client shares its event loop); idle p50 ${round(percentile(idle, 50), 1)} ms p99 ${round(idleP99, 1)} ms over ${idle.length}; during the drain ${during.length > 0 ? `p50 ${round(percentile(during, 50), 1)} ms p99 ${round(duringP99 as number, 1)} ms over ${during.length}` : 'no page (it drained at once)'}`,
      ];
      if (drainedAt === null) notes.push(`NOT DRAINED within ${DRAIN_LIMIT_MS / 60_000} minutes`);
      if (during.length > 0 && during.length < 100) notes.push(`only ${during.length} pages during the drain: the p99 is their maximum`);
      return {
        figures: [
          figure('fanout.commit_ms', 'the targets batch: commit', round(commitMs, 1), 'ms', {
            target: { op: '<=', value: FANOUT_TARGET_COMMIT_MS },
          }),
          figure('fanout.drain_s', 'commit until the re-indexer backlog is empty', drainS === null ? null : round(drainS, 2), 's'),
          figure(
            'fanout.page_p99_ratio',
            "member's page p99 during the drain ÷ idle",
            duringP99 === null ? null : round(duringP99 / idleP99, 2),
            'x',
            {
              target: { op: '<=', value: FANOUT_TARGET_PAGE_P99_RATIO },
            },
          ),
        ],
        notes,
        details: {
          indicators,
          stored: dateAdded.length,
          commitMs: round(commitMs, 2),
          ingestCallMs: round(ingestCallMs, 1),
          backlogAfterCall,
          largestBacklog,
          moved,
          idle: summary(idle),
          during: during.length > 0 ? summary(during) : null,
          minObjectsPerPage: { idle: idleMinObjects, all: minObjects },
          reindexer: node.config.reindexer,
          stepMs: {
            count: steps.length,
            p50: round(percentile(steps, 50), 1),
            p99: round(percentile(steps, 99), 1),
            max: round(Math.max(0, ...steps), 1),
            totalS: round(steps.reduce((a, b) => a + b, 0) / 1000, 2),
          },
        },
      };
    } finally {
      await agent.close();
      await node.close();
      ctx.removeTemp(dir);
    }
  },
};
