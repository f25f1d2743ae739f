/**
 * Ingest throughput through the real path, against a baseline and a floor.
 *
 *   ingest:   JSON text of import files -> JSON.parse -> objectsOfDocument ->
 *             Ingestor.ingest(collection, objects, {source: 'import'}) on a fresh Store
 *             (validation, serialization, indexes, provenance, counters, and the member-policy
 *             attributes: facts, links, link summaries, derived sectors, re-indexing, sector index)
 *   baseline: the same, into a Store created without policy attributes (`policyAttributes:
 *             false`): what the attributes cost is the difference
 *   floor:    the same JSON texts -> JSON.parse -> per object JSON.stringify + one LMDB put keyed
 *             by [id, modified], in transactions of the same batch size, in a bare LMDB env
 *
 * All start from text so that parsing is in all; the ratios say what the ingest path costs on
 * top of the least any LMDB-backed store has to do, and what policy attributes cost on top of
 * storing. Each run takes the three paths in a rotating order (after one warm-up file each) and
 * the median of the runs is reported.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { Ingestor, objectsOfDocument } from '../src/ingest/index.ts';
import { DEFAULT_INLINE_ITEMS, DEFAULT_MAX_BACKLOG } from '../src/ingest/ingest.ts';
import { UNVERSIONED } from '../src/stix/types.ts';
import { Store } from '../src/store/index.ts';
import { bytesWritten, collectGarbage, median, round, type BenchContext, type Section } from './context.ts';
import { bundleTexts, CorpusGenerator } from './corpus.ts';
import { StoreUsage, usageLine, type SubDatabaseUsage } from './lmdb-usage.ts';
import { figure, type SectionOutcome } from './report.ts';

export const INGEST_TARGET_OBJECTS_PER_S = 50_000;
/** issue 10: a store designed to append writes the objects with all their indexes faster than the naive put loop */
export const INGEST_TARGET_FLOOR_RATIO = 1.0;
/** issue 4: ingest with attribute derivation within 20% of ingest without it */
export const INGEST_TARGET_ATTRIBUTES_RATIO = 0.8;
/** issue 10: bytes written to storage per object stored */
export const INGEST_TARGET_BYTES_PER_OBJECT = 10_000;

const COLLECTION = 'bench-ingest';

interface RunTiming {
  objects: number;
  totalMs: number;
  parseMs: number;
  /** bytes written to storage during the run (/proc/self/io), null when unknown */
  writtenBytes: number | null;
  /** CPU time of this process during the run (user + system; includes GC threads) */
  cpuMs: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function written(before: number | null): number | null {
  const after = bytesWritten();
  return before === null || after === null ? null : after - before;
}

interface IngestRun extends RunTiming {
  /** import files processed (all, unless the run hit its deadline) */
  files: number;
  /** entries re-indexed because a later object changed their linked attributes */
  reindexed: number;
  stored: number;
  duplicate: number;
  rejected: number;
  firstRejections: string[];
  /** per sub-database: writes and pages held per object (lmdb-usage.ts) */
  subDatabases: Record<string, SubDatabaseUsage>;
}

/**
 * The measured ingest path over `texts`, into a fresh store at `dir` (with or without policy
 * attributes). With a deadline (performance.now() value) it stops after the file during which
 * the deadline passed.
 */
async function runIngest(
  texts: readonly string[],
  dir: string,
  batchSize: number,
  policyAttributes: boolean,
  deadline = Infinity,
): Promise<IngestRun> {
  const store = Store.open(join(dir, 'store'), { policyAttributes });
  // the node's settings: a small inline budget, the rest drained before the clock stops
  const ingestor = new Ingestor(store, undefined, undefined, { inlineItems: DEFAULT_INLINE_ITEMS, maxBacklog: DEFAULT_MAX_BACKLOG });
  const run: IngestRun = {
    objects: 0,
    totalMs: 0,
    parseMs: 0,
    writtenBytes: null,
    cpuMs: 0,
    files: 0,
    reindexed: 0,
    stored: 0,
    duplicate: 0,
    rejected: 0,
    firstRejections: [],
    subDatabases: {},
  };
  const usage = new StoreUsage(store);
  try {
    collectGarbage();
    const w0 = bytesWritten();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (const text of texts) {
      const p0 = performance.now();
      const objects = objectsOfDocument(JSON.parse(text));
      run.parseMs += performance.now() - p0;
      const report = ingestor.ingest(COLLECTION, objects, { source: 'import', detail: 'bench' }, { batchSize });
      run.files++;
      run.objects += objects.length;
      run.stored += report.stored;
      run.duplicate += report.duplicate;
      run.rejected += report.rejected;
      if (report.rejected > 0 && run.firstRejections.length < 5) {
        for (const o of report.outcomes) {
          if (o.kind === 'rejected' && run.firstRejections.length < 5) run.firstRejections.push(`${o.id ?? '?'}: ${o.reason}`);
        }
      }
      if (performance.now() > deadline) break;
    }
    // derivation is part of ingest: the clock runs until the re-indexer has drained
    ingestor.derivation.reindexer.drain();
    run.totalMs = performance.now() - t0;
    run.writtenBytes = written(w0);
    run.cpuMs = cpuMs() - c0;
    run.reindexed = ingestor.derivation.reindexer.reindexed;
    run.subDatabases = usage.perObject(run.objects);
  } finally {
    await store.close();
  }
  return run;
}

/** The floor over `texts`: parse, stringify each object, put it, in bare LMDB at `dir`. */
async function runFloor(texts: readonly string[], dir: string, batchSize: number): Promise<RunTiming> {
  // the same environment options as the store (src/store/store.ts)
  const env = open({ path: join(dir, 'floor'), maxDbs: 16, compression: false });
  const db = env.openDB<string, string[]>('objects', { encoding: 'string' });
  const run: RunTiming = { objects: 0, totalMs: 0, parseMs: 0, writtenBytes: null, cpuMs: 0 };
  try {
    collectGarbage();
    const w0 = bytesWritten();
    const c0 = cpuMs();
    const t0 = performance.now();
    for (const text of texts) {
      const p0 = performance.now();
      const objects = (JSON.parse(text) as { objects: Array<Record<string, unknown>> }).objects;
      run.parseMs += performance.now() - p0;
      for (let start = 0; start < objects.length; start += batchSize) {
        const end = Math.min(start + batchSize, objects.length);
        env.transactionSync(() => {
          for (let i = start; i < end; i++) {
            const o = objects[i] as Record<string, unknown>;
            const version = (o.modified ?? o.created ?? UNVERSIONED) as string;
            db.putSync([o.id as string, version], JSON.stringify(o));
          }
        });
      }
      run.objects += objects.length;
    }
    run.totalMs = performance.now() - t0;
    run.writtenBytes = written(w0);
    run.cpuMs = cpuMs() - c0;
  } finally {
    await env.close();
  }
  return run;
}

const rate = (r: RunTiming) => r.objects / (r.totalMs / 1000);
const perObject = (r: RunTiming) => (r.writtenBytes === null ? null : round(r.writtenBytes / r.objects));
const timingDetails = (r: RunTiming) => ({
  objectsPerS: round(rate(r)),
  totalMs: round(r.totalMs),
  parseMs: round(r.parseMs),
  cpuMs: round(r.cpuMs),
  objectsPerCpuS: round(r.objects / (r.cpuMs / 1000)),
  writtenBytesPerObject: perObject(r),
});

type Path = 'ingest' | 'baseline' | 'floor';
const PATHS: readonly Path[] = ['ingest', 'baseline', 'floor'];

export const ingestSection: Section = {
  name: 'ingest',
  title: 'Ingest (file import path, without policy attributes, bare JSON.parse + LMDB put)',
  async run(ctx: BenchContext): Promise<SectionOutcome> {
    const { objects, perFile, batchSize, runs } = ctx.settings.ingest;
    ctx.progress(`ingest: generating ${objects.toLocaleString('en-US')} objects as ${Math.ceil(objects / perFile)} import files`);
    const gen = new CorpusGenerator(ctx.settings.seed);
    const g0 = performance.now();
    const texts = bundleTexts(gen, objects, perFile);
    const generateS = (performance.now() - g0) / 1000;
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

    // Warm-up: a small file of other objects through each path (JIT, LMDB code paths), in
    // throwaway directories.
    const warm = bundleTexts(new CorpusGenerator(ctx.settings.seed + 99), Math.min(perFile, 2000), perFile);
    for (const attributes of [true, false]) {
      const warmDir = ctx.tempDir('ingest-warm');
      await runIngest(warm, warmDir, batchSize, attributes);
      if (attributes) await runFloor(warm, warmDir, batchSize);
      ctx.removeTemp(warmDir);
    }

    // The first ingest run may use half the time budget; when it runs out, it stops at a file
    // boundary and every later run (of every path) covers the same files. Further runs start
    // only while the budget allows another round of the three paths.
    const budgetMs = ctx.settings.ingest.budgetS * 1000;
    const s0 = performance.now();
    const ingestRuns: IngestRun[] = [];
    const baselineRuns: IngestRun[] = [];
    const floorRuns: RunTiming[] = [];
    let measured: readonly string[] = texts;
    for (let r = 0; r < runs; r++) {
      const roundStart = performance.now();
      if (r > 0) {
        const lastRoundMs = (roundStart - s0) / r;
        if (roundStart - s0 + lastRoundMs > budgetMs) {
          ctx.progress(`ingest: time budget (BENCH_INGEST_BUDGET_S=${ctx.settings.ingest.budgetS}) leaves no room for run ${r + 1}`);
          break;
        }
      }
      // rotate the order so no path always runs on a warmer (or more fragmented) disk; the
      // first round starts with the full ingest path, whose deadline sets what every run covers
      const order = PATHS.map((_, k) => PATHS[(k + r) % PATHS.length] as Path);
      for (const which of order) {
        const dir = ctx.tempDir(`ingest-${which}`);
        if (which === 'floor') {
          const run = await runFloor(measured, dir, batchSize);
          floorRuns.push(run);
          ctx.progress(`floor    run ${r + 1}/${runs}: ${Math.round(rate(run)).toLocaleString('en-US')} objects/s`);
        } else {
          const attributes = which === 'ingest';
          const run = await runIngest(measured, dir, batchSize, attributes, r === 0 && attributes ? s0 + budgetMs / 2 : Infinity);
          if (run.files < measured.length) {
            measured = measured.slice(0, run.files);
            ctx.progress(
              `ingest: the first run reached half the time budget after ${run.objects.toLocaleString('en-US')} objects; all runs cover those`,
            );
          }
          (attributes ? ingestRuns : baselineRuns).push(run);
          ctx.progress(
            `${which.padEnd(8)} run ${r + 1}/${runs}: ${Math.round(rate(run)).toLocaleString('en-US')} objects/s (${run.stored} stored, ${run.rejected} rejected${attributes ? `, ${run.reindexed} re-indexed` : ''})`,
          );
        }
        ctx.removeTemp(dir);
      }
    }

    const ingestRate = median(ingestRuns.map(rate));
    const baselineRate = median(baselineRuns.map(rate));
    const floorRate = median(floorRuns.map(rate));
    const pairedRatios = ingestRuns.map((run, i) => rate(run) / rate(floorRuns[i] as RunTiming));
    const pairedAttributeRatios = ingestRuns.map((run, i) => rate(run) / rate(baselineRuns[i] as RunTiming));
    const ratio = ingestRate / floorRate;
    const attributesRatio = ingestRate / baselineRate;
    const last = ingestRuns[ingestRuns.length - 1] as IngestRun;
    const parseShare = median(ingestRuns.map((r) => r.parseMs / r.totalMs));

    const notes: string[] = [];
    const measuredObjects = last.objects;
    const measuredBytes = measured.reduce((n, t) => n + Buffer.byteLength(t), 0);
    if (measuredObjects < objects) {
      notes.push(
        `TIME BUDGET: the ingest path was too slow to import ${objects.toLocaleString('en-US')} objects within half of BENCH_INGEST_BUDGET_S=${ctx.settings.ingest.budgetS}; every run covers the first ${measuredObjects.toLocaleString('en-US')} objects (a smaller store ingests faster)`,
      );
    }
    if (ingestRuns.length < runs) notes.push(`${ingestRuns.length} of ${runs} runs fitted in the time budget`);
    for (const [name, run] of [
      ['ingest', last],
      ['baseline', baselineRuns[baselineRuns.length - 1] as IngestRun],
    ] as const) {
      if (run.stored !== measuredObjects || run.rejected > 0) {
        notes.push(
          `${name}: expected ${measuredObjects} stored, got ${run.stored} stored, ${run.duplicate} duplicate, ${run.rejected} rejected: ${run.firstRejections.join('; ')}`,
        );
      }
    }
    notes.push(
      `median of ${ingestRuns.length} runs of ${measuredObjects.toLocaleString('en-US')} objects in ${measured.length} files of ≤${perFile.toLocaleString('en-US')} (${round(measuredBytes / 1024 / 1024, 1)} MiB JSON), ${batchSize} versions per transaction; JSON.parse is ${round(parseShare * 100, 1)}% of the ingest time`,
    );
    notes.push(
      `policy attributes: ${round(last.reindexed / measuredObjects, 2)} entries re-indexed per object stored (a later relationship or opinion changed their sectors or score, so they moved to a new date_added); baseline = the same ingest path into a store created without policy attributes (no facts, links, summaries, derived sectors or sector index)`,
    );

    const perCpu = (r: RunTiming) => r.objects / (r.cpuMs / 1000);
    notes.push(
      `per CPU-second of this process (less sensitive to other load): ingest ${Math.round(median(ingestRuns.map(perCpu))).toLocaleString('en-US')} objects, baseline ${Math.round(median(baselineRuns.map(perCpu))).toLocaleString('en-US')}, floor ${Math.round(median(floorRuns.map(perCpu))).toLocaleString('en-US')}`,
    );
    const writes = (list: readonly RunTiming[]) => median(list.map(perObject).filter((x): x is number => x !== null));
    const [ingestWrite, baselineWrite, floorWrite] = [writes(ingestRuns), writes(baselineRuns), writes(floorRuns)];
    if (Number.isFinite(ingestWrite) && Number.isFinite(baselineWrite) && Number.isFinite(floorWrite)) {
      notes.push(
        `bytes written to storage per object (/proc/self/io write_bytes, as the kernel accounts dirtied page cache): ingest ${Math.round(ingestWrite).toLocaleString('en-US')}, baseline ${Math.round(baselineWrite).toLocaleString('en-US')}, floor ${Math.round(floorWrite).toLocaleString('en-US')} (JSON ${Math.round(bytes / objects)})`,
      );
    }
    notes.push(
      `per sub-database, per object (last ingest run; record writes the store asked for, and pages held at the end × 4 KiB — LMDB rewrites every page a transaction touches, so bytes written exceed bytes held, and the kernel does not say which sub-database a written page belonged to): ${usageLine(last.subDatabases)}`,
    );
    const ingestDetails = (list: readonly IngestRun[]) =>
      list.map((r) => ({
        ...timingDetails(r),
        stored: r.stored,
        duplicate: r.duplicate,
        rejected: r.rejected,
        reindexed: r.reindexed,
        ...(r.firstRejections.length > 0 ? { firstRejections: r.firstRejections } : {}),
      }));

    return {
      figures: [
        figure('ingest.objects_per_s', 'ingest (parse + Ingestor.ingest)', round(ingestRate), 'objects/s', {
          target: { op: '>=', value: INGEST_TARGET_OBJECTS_PER_S },
        }),
        figure('ingest.without_attributes_objects_per_s', 'same, store without policy attributes', round(baselineRate), 'objects/s'),
        figure('ingest.attributes_ratio', 'ingest / without policy attributes', round(attributesRatio, 3), 'x', {
          target: { op: '>=', value: INGEST_TARGET_ATTRIBUTES_RATIO },
        }),
        figure('ingest.floor_objects_per_s', 'floor (parse + stringify + LMDB put)', round(floorRate), 'objects/s'),
        figure('ingest.floor_ratio', 'ingest / floor', round(ratio, 3), 'x', { target: { op: '>=', value: INGEST_TARGET_FLOOR_RATIO } }),
        figure(
          'ingest.bytes_per_object',
          'bytes written to storage per object (ingest)',
          Number.isFinite(ingestWrite) ? Math.round(ingestWrite) : null,
          'B',
          {
            target: { op: '<=', value: INGEST_TARGET_BYTES_PER_OBJECT },
          },
        ),
      ],
      notes,
      details: {
        objects,
        measuredObjects,
        runsDone: ingestRuns.length,
        budgetS: ctx.settings.ingest.budgetS,
        files: texts.length,
        measuredFiles: measured.length,
        perFile,
        batchSize,
        runs,
        jsonBytes: bytes,
        generateS: round(generateS, 2),
        corpus: gen.stats,
        ingestRuns: ingestDetails(ingestRuns),
        baselineRuns: ingestDetails(baselineRuns),
        floorRuns: floorRuns.map(timingDetails),
        pairedRatios: pairedRatios.map((x) => round(x, 3)),
        pairedAttributeRatios: pairedAttributeRatios.map((x) => round(x, 3)),
        parseShareOfIngest: round(parseShare, 3),
        subDatabasesPerObject: {
          ingest: last.subDatabases,
          baseline: (baselineRuns[baselineRuns.length - 1] as IngestRun).subDatabases,
        },
      },
    };
  },
};
