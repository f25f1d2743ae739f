/**
 * Scale: one ingest of BENCH_SCALE corpus objects into an empty store, through the path the
 * ingest section measures (JSON.parse of an import file, Ingestor.ingest with the node's inline
 * budget and backlog bound, the re-indexer), the clock running until the re-indexer has drained.
 * Does the rate hold as the store grows? `scale.rate_ratio` = objects/s over the last 10% of
 * the objects ÷ objects/s over the first 10%.
 *
 * The corpus is generated one file at a time (never the whole stream in memory), and generating
 * is outside the clock: the clock stops between files, and nothing else runs meanwhile (this
 * ingestor's re-indexer only works inline, when ingest calls it).
 */
import { join } from 'node:path';
import { Ingestor, objectsOfDocument } from '../src/ingest/index.ts';
import { DEFAULT_INLINE_ITEMS, DEFAULT_MAX_BACKLOG } from '../src/ingest/ingest.ts';
import { Store } from '../src/store/index.ts';
import { bytesWritten, collectGarbage, memorySnapshot, round, type BenchContext, type Section } from './context.ts';
import { bundleTexts, CorpusGenerator } from './corpus.ts';
import { StoreUsage, usageLine } from './lmdb-usage.ts';
import { figure, type SectionOutcome } from './report.ts';

/** issue 10: the last tenth ingests at least 0.7× as fast as the first */
export const SCALE_TARGET_RATE_RATIO = 0.7;
const COLLECTION = 'bench-scale';

interface Point {
  /** objects ingested so far */
  readonly objects: number;
  /** clock seconds so far (ingest and derivation; not generation) */
  readonly s: number;
  /** re-indexer backlog after that file */
  readonly backlog: number;
}

/** objects/s between the points where the ingest passed `from` and `to` (fractions of the total) */
function rateBetween(points: readonly Point[], total: number, from: number, to: number): number {
  const start = from === 0 ? { objects: 0, s: 0 } : ([...points].reverse().find((p) => p.objects <= from * total) ?? { objects: 0, s: 0 });
  const end = points.find((p) => p.objects >= to * total) ?? (points[points.length - 1] as Point);
  return (end.objects - start.objects) / (end.s - start.s);
}

export const scaleSection: Section = {
  name: 'scale',
  title: 'Scale (one ingest from empty, counting until the re-indexer has drained)',
  async run(ctx: BenchContext): Promise<SectionOutcome> {
    const total = ctx.settings.scale.objects;
    const { batchSize, perFile } = ctx.settings.ingest;
    // at least 20 files, so that each tenth spans two or more
    const fileSize = Math.max(100, Math.min(perFile, Math.ceil(total / 20)));
    const dir = ctx.tempDir('scale');
    const store = Store.open(join(dir, 'store'));
    const ingestor = new Ingestor(store, undefined, undefined, { inlineItems: DEFAULT_INLINE_ITEMS, maxBacklog: DEFAULT_MAX_BACKLOG });
    const usage = new StoreUsage(store);
    const gen = new CorpusGenerator(ctx.settings.seed + 3);
    const points: Point[] = [];
    let clockMs = 0;
    let generateMs = 0;
    let stored = 0;
    let rejected = 0;
    const finalDrain = { backlog: 0, s: 0 };
    try {
      collectGarbage();
      const w0 = bytesWritten();
      let reported = 0;
      for (let done = 0; done < total;) {
        // outside the clock: lets a signal end the run (and remove its temp store)
        await new Promise<void>((resolve) => setImmediate(resolve));
        const g0 = performance.now();
        const n = Math.min(fileSize, total - done);
        const [text] = bundleTexts(gen, n, n) as [string];
        const t0 = performance.now();
        generateMs += t0 - g0;
        const report = ingestor.ingest(
          COLLECTION,
          objectsOfDocument(JSON.parse(text)),
          { source: 'import', detail: 'bench' },
          { batchSize },
        );
        done += n;
        stored += report.stored;
        rejected += report.rejected;
        // the last file's point includes the drain: the clock runs until derivation is done
        if (done >= total) {
          finalDrain.backlog = store.queue.size();
          const d0 = performance.now();
          ingestor.derivation.reindexer.drain();
          finalDrain.s = (performance.now() - d0) / 1000;
        }
        clockMs += performance.now() - t0;
        points.push({ objects: done, s: clockMs / 1000, backlog: store.queue.size() });
        if (done - reported >= total / 10 || done >= total) {
          reported = done;
          ctx.progress(
            `scale: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} objects, ${Math.round(done / (clockMs / 1000)).toLocaleString('en-US')}/s so far, backlog ${store.queue.size()}`,
          );
        }
      }
      const written = bytesWritten();
      const bytesPerObject = w0 === null || written === null ? null : Math.round((written - w0) / total);
      const first = rateBetween(points, total, 0, 0.1);
      const last = rateBetween(points, total, 0.9, 1);
      const overall = total / (clockMs / 1000);
      const subDatabases = usage.perObject(total);
      const reindexed = ingestor.derivation.reindexer.reindexed;
      const tenths = Array.from({ length: 10 }, (_, k) => round(rateBetween(points, total, k / 10, (k + 1) / 10)));
      return {
        figures: [
          figure('scale.rate_ratio', 'objects/s over the last 10% ÷ over the first 10%', round(last / first, 3), 'x', {
            target: { op: '>=', value: SCALE_TARGET_RATE_RATIO },
          }),
          figure('scale.objects_per_s', `objects/s over the whole ingest of ${total.toLocaleString('en-US')}`, round(overall), 'objects/s'),
          figure('scale.first_tenth_objects_per_s', 'objects/s over the first 10%', round(first), 'objects/s'),
          figure('scale.last_tenth_objects_per_s', 'objects/s over the last 10% (with the final drain)', round(last), 'objects/s'),
          figure('scale.bytes_per_object', 'bytes written to storage per object', bytesPerObject, 'B'),
        ],
        notes: [
          `${total.toLocaleString('en-US')} objects in files of ${fileSize.toLocaleString('en-US')} (${stored.toLocaleString('en-US')} stored, ${rejected} rejected), ${batchSize} versions per transaction, inline budget ${DEFAULT_INLINE_ITEMS}, backlog bound ${DEFAULT_MAX_BACKLOG.toLocaleString('en-US')}; JSON.parse inside the clock, generation (${round(generateMs / 1000, 1)} s) outside`,
          `the re-indexer's backlog after the last file: ${finalDrain.backlog.toLocaleString('en-US')} objects, drained in ${round(finalDrain.s, 1)} s (in the last tenth)`,
          `objects/s per tenth: ${tenths.map((r) => r.toLocaleString('en-US')).join(', ')}`,
          `${round(reindexed / total, 3)} entries moved to a new date_added per object; store ${round(usage.fileBytes() / 1024 / 1024)} MiB`,
          `per sub-database, per object (record writes; pages held × 4 KiB): ${usageLine(subDatabases)}`,
        ],
        details: {
          objects: total,
          fileSize,
          batchSize,
          stored,
          rejected,
          clockS: round(clockMs / 1000, 1),
          finalDrain: { backlog: finalDrain.backlog, s: round(finalDrain.s, 1) },
          generateS: round(generateMs / 1000, 1),
          reindexed,
          tenthsObjectsPerS: tenths,
          progress: points.map((p) => ({ objects: p.objects, s: round(p.s, 2), backlog: p.backlog })),
          subDatabasesPerObject: subDatabases,
          memory: memorySnapshot(),
          corpus: gen.stats,
        },
      };
    } finally {
      await store.close();
      ctx.removeTemp(dir);
    }
  },
};
