/**
 * Share-back: the PII scanner (src/shareback/pii) over the benchmark corpus, on one core.
 *
 * The corpus objects are generated first (not timed); then each run scans all of them with
 * `scanObjects` in batches of a submission's size, and the median run is reported. A second,
 * untargeted figure scans the labelled evaluation set (test/fixtures/pii), whose objects carry
 * longer texts full of personal data and look-alike observables: the slow end.
 *
 * Then the forwarder: from a member's POST to the object's arrival at a hub (a second relay
 * node), for clean objects posted one per request at a steady pace (forward.ts).
 */
import { readFileSync } from 'node:fs';
import { objectsOfDocument } from '../src/ingest/index.ts';
import { scanObjects } from '../src/shareback/pii/index.ts';
import { collectGarbage, median, round, type BenchContext, type Section } from './context.ts';
import { CorpusGenerator } from './corpus.ts';
import { measureForwardLatency } from './forward.ts';
import { figure } from './report.ts';

export const SCAN_TARGET_OBJECTS_PER_S = 20_000;
export const FORWARD_TARGET_P99_MS = 2000;
/** posts for the forwarding latency, and their pace */
const FORWARD_OBJECTS = 300;
const FORWARD_PER_SECOND = 20;
/** objects per scanObjects call: a share-back submission's bundle */
const BATCH = 100;
const RUNS = 3;
const EVAL_SET = new URL('../test/fixtures/pii/eval-set.json', import.meta.url);

function objectsFromEnv(): number {
  const raw = process.env.BENCH_SHAREBACK?.replace(/_/g, '');
  if (raw === undefined || raw.trim() === '') return 100_000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SHAREBACK must be an integer ≥ 1, got "${raw}"`);
  return n;
}

interface Run {
  readonly objects: number;
  readonly findings: number;
  readonly ms: number;
}

function scanAll(objects: readonly unknown[]): Run {
  let findings = 0;
  const t0 = performance.now();
  for (let i = 0; i < objects.length; i += BATCH) {
    for (const r of scanObjects(objects.slice(i, i + BATCH))) findings += r.findings.length;
  }
  return { objects: objects.length, findings, ms: performance.now() - t0 };
}

function measure(objects: readonly unknown[], runs: number): { perS: number; runs: Run[] } {
  scanAll(objects.slice(0, Math.min(objects.length, 2000))); // warm-up: JIT, regex compilation
  const done: Run[] = [];
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    done.push(scanAll(objects));
  }
  return { perS: median(done.map((r) => (r.objects / r.ms) * 1000)), runs: done };
}

export const sharebackSection: Section = {
  name: 'shareback',
  title: 'Share-back: PII scanner (one core)',
  async run(ctx: BenchContext) {
    const total = objectsFromEnv();
    ctx.progress(`generating ${total} corpus objects`);
    const corpus = new CorpusGenerator(ctx.settings.seed).take(total);
    ctx.progress(`scanning ${total} objects, ${RUNS} runs`);
    const main = measure(corpus, RUNS);

    const evalObjects = objectsOfDocument(JSON.parse(readFileSync(EVAL_SET, 'utf8')));
    // repeat the small evaluation set so a run lasts long enough to time
    const repeated = Array.from({ length: Math.max(1, Math.round(20_000 / evalObjects.length)) }, () => evalObjects).flat();
    ctx.progress(`scanning the evaluation set ×${repeated.length / evalObjects.length} (${repeated.length} objects)`);
    const evalRuns = measure(repeated, RUNS);

    ctx.progress(`forwarding: ${FORWARD_OBJECTS} clean objects posted at ${FORWARD_PER_SECOND}/s, each timed to its arrival at the hub`);
    const forward = await measureForwardLatency(ctx, FORWARD_OBJECTS, FORWARD_PER_SECOND);

    const perRun = (runs: Run[]) => runs.map((r) => ({ objects: r.objects, findings: r.findings, ms: round(r.ms, 1) }));
    return {
      figures: [
        figure('shareback.scan_objects_per_s', 'PII scan of the bench corpus, objects/s', round(main.perS), 'objects/s', {
          target: { op: '>=', value: SCAN_TARGET_OBJECTS_PER_S },
        }),
        figure(
          'shareback.scan_eval_set_objects_per_s',
          'PII scan of the evaluation set (long texts), objects/s',
          round(evalRuns.perS),
          'objects/s',
        ),
        figure('shareback.forward_p50_ms', "member's POST to arrival at the hub, p50", forward.p50Ms, 'ms'),
        figure('shareback.forward_p99_ms', "member's POST to arrival at the hub, p99", forward.p99Ms, 'ms', {
          target: { op: '<=', value: FORWARD_TARGET_P99_MS },
        }),
      ],
      notes: [
        `scanObjects in batches of ${BATCH}, median of ${RUNS} runs over ${total} corpus objects (BENCH_SHAREBACK); the corpus has little prose, so this is the fast end`,
        `the evaluation set (${evalObjects.length} objects, repeated) holds long texts with personal data and look-alike observables: the slow end`,
        `forwarding: ${forward.objects} clean objects, one per POST at ${FORWARD_PER_SECOND}/s; the hub is a second relay node in the same process (loopback, shared event loop); default forwarder settings; max ${forward.maxMs} ms${forward.missing > 0 ? `; ${forward.missing} never arrived within 60 s` : ''}`,
      ],
      details: {
        objects: total,
        batch: BATCH,
        corpusRuns: perRun(main.runs),
        evalSetObjects: evalObjects.length,
        evalSetRuns: perRun(evalRuns.runs),
        forward,
      },
    };
  },
};
