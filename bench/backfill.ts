/**
 * Backfill: node B polls node A's collection from the beginning over HTTPS (page size 1,000,
 * every version), through the real TAXII client, poller and ingest path. A is a real node on a
 * loopback port in this process; B is the upstream manager on its own store (what `relay start`
 * runs). The figure is B's objects/s over the whole backfill; the poller's own phase times say
 * how much of it went to HTTP, parsing and storing (HTTP overlaps storing: pages are pipelined).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { hashSecret } from '../src/auth/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { Ingestor } from '../src/ingest/index.ts';
import { startNode } from '../src/node.ts';
import { Store } from '../src/store/index.ts';
import { UpstreamManager } from '../src/upstream/index.ts';
import { round, type BenchContext, type Section } from './context.ts';
import { CorpusGenerator } from './corpus.ts';
import { figure, type SectionResult } from './report.ts';

export const BACKFILL_TARGET_OBJECTS_PER_S = 20_000;
/** issue 10: backfill at least 0.8× as fast as ingest in the same run */
export const BACKFILL_TARGET_INGEST_RATIO = 0.8;

/**
 * `backfill.ingest_ratio`: backfill objects/s ÷ ingest objects/s of the same run, added to the
 * backfill section once every section ran (null, with a note, when the ingest section did not).
 */
export function withIngestRatio(sections: readonly SectionResult[]): SectionResult[] {
  const value = (key: string) => sections.flatMap((s) => s.figures).find((f) => f.key === key)?.value ?? null;
  const backfill = value('backfill.objects_per_s');
  const ingest = value('ingest.objects_per_s');
  return sections.map((s) =>
    s.name !== 'backfill' || backfill === null
      ? s
      : {
          ...s,
          figures: [
            ...s.figures,
            figure('backfill.ingest_ratio', 'backfill / ingest (same run)', ingest === null ? null : round(backfill / ingest, 3), 'x', {
              target: { op: '>=', value: BACKFILL_TARGET_INGEST_RATIO },
              ...(ingest === null ? { note: 'the ingest section did not run (BENCH_SECTIONS)' } : {}),
            }),
          ],
        },
  );
}

const SOURCE = 'bf000000-0000-4000-8000-000000000001';
const MIRROR = 'bf000000-0000-4000-8000-000000000002';
const SECRET = 'backfill-secret';
/** poll cycles at most (each cycle pages until caught up or a bound) */
const MAX_CYCLES = 20;

function nodeA(dir: string): Record<string, unknown> {
  return {
    node: { id: 'bench-a', title: 'Backfill upstream' },
    listen: '127.0.0.1:0',
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    logging: { level: 'silent' },
    taxii: { default_page_size: 1000, max_page_size: 1000 },
    api_roots: [{ path: 'hub', title: 'Hub', default: true, collections: [{ id: SOURCE, alias: 'feed', title: 'Feed' }] }],
    members: [
      {
        id: 'relay-b',
        name: 'Downstream relay',
        credentials: { basic_secret_hash: hashSecret(SECRET) },
        policy: { tlp_ceiling: 'amber', unscoped: true },
        grants: [{ api_root: 'hub', collection: 'feed', read: true }],
      },
    ],
  };
}

export const backfillSection: Section = {
  name: 'backfill',
  title: 'Backfill from an upstream node over HTTPS (page size 1,000)',
  async run(ctx: BenchContext) {
    const total = ctx.settings.backfill.objects;
    const dirA = ctx.tempDir('backfill-a');
    const dirB = ctx.tempDir('backfill-b');
    const a = await startNode(parseConfig(nodeA(dirA), 'backfill A'), pino({ level: 'silent' }));
    let store: Store | undefined;
    let manager: UpstreamManager | undefined;
    try {
      ctx.progress(`backfill: loading ${total} objects into A`);
      const gen = new CorpusGenerator(ctx.settings.seed + 7);
      for (let done = 0; done < total;) {
        const n = Math.min(50_000, total - done);
        const chunk = Array.from({ length: n }, () => gen.next());
        a.ingestor.ingest(SOURCE, chunk, { source: 'import', detail: 'bench' }, { batchSize: 10_000 });
        done += n;
      }
      const served = a.store.index.count(SOURCE);

      const secretFile = join(dirB, 'a.secret');
      writeFileSync(secretFile, SECRET, { mode: 0o600 });
      const config = parseConfig(
        {
          node: { id: 'bench-b', title: 'Backfill downstream' },
          data_dir: join(dirB, 'data'),
          tls: { dev_certs_dir: join(dirB, 'certs') },
          api_roots: [{ path: 'isac', title: 'B', collections: [{ id: MIRROR, alias: 'mirror', title: 'Mirror' }] }],
          upstreams: [
            {
              name: 'a',
              url: a.discoveryUrl,
              auth: { user: 'relay-b', password_file: secretFile },
              tls: { ca_file: a.devCaPath },
              collections: [{ remote: 'feed', local: 'mirror', page_size: 1000, poll_interval: '1h' }],
            },
          ],
        },
        'backfill B',
      );
      store = Store.openInDataDir(config.data_dir);
      manager = new UpstreamManager(config, { store, ingestor: new Ingestor(store), log: pino({ level: 'silent' }) });

      ctx.progress('backfill: B polls A from the beginning');
      const started = performance.now();
      const phases = { httpMs: 0, parseMs: 0, storeMs: 0 };
      let objects = 0;
      let stored = 0;
      let pages = 0;
      let cycles = 0;
      let caughtUp = false;
      for (; cycles < MAX_CYCLES && !caughtUp; cycles++) {
        const [result] = await manager.pollNow();
        if (!result) break;
        if (!result.ok) throw new Error(`backfill cycle failed: ${result.error ?? 'unknown error'}`);
        objects += result.objects;
        stored += result.stored;
        pages += result.pages;
        phases.httpMs += result.httpMs ?? 0;
        phases.parseMs += result.parseMs ?? 0;
        phases.storeMs += result.storeMs ?? 0;
        caughtUp = result.caughtUp;
      }
      const seconds = (performance.now() - started) / 1000;
      const rate = objects / seconds;
      const busy = phases.httpMs + phases.parseMs + phases.storeMs || 1;
      return {
        figures: [
          figure('backfill.objects_per_s', 'backfill over HTTPS (objects received/s)', round(rate), 'objects/s', {
            target: { op: '>=', value: BACKFILL_TARGET_OBJECTS_PER_S },
          }),
          figure('backfill.http_share', 'share of busy time in HTTP', round((phases.httpMs / busy) * 100), '%'),
          figure('backfill.parse_share', 'share of busy time parsing', round((phases.parseMs / busy) * 100), '%'),
          figure('backfill.store_share', 'share of busy time storing (ingest)', round((phases.storeMs / busy) * 100), '%'),
        ],
        details: { total, servedByA: served, objects, stored, pages, cycles, caughtUp, seconds: round(seconds, 1), phases },
        notes: [
          `A held ${served} versions; B received ${objects} (what A's policy lets the downstream relay see) in ${pages} pages, ${cycles} poll cycle(s), caught up: ${caughtUp}`,
          'phase times are busy time per phase; HTTP overlaps storing because the next page is requested while one is stored',
        ],
      };
    } finally {
      await manager?.close();
      await store?.close();
      await a.close();
      ctx.removeTemp(dirA);
      ctx.removeTemp(dirB);
    }
  },
};
