/**
 * `npm run bench`: the relay's performance figures in one run.
 *
 * Sections run in order; each reports figures with their targets (a miss is reported, never
 * asserted) and details. The table goes to stdout, progress to stderr, and everything to
 * bench/results/<ISO date-time>.json and bench/results/latest.json.
 *
 * Sizes come from the environment (see context.ts), e.g. a quick smoke run:
 *   BENCH_INGEST=20000 BENCH_SERVE=50000 npm run bench
 * and BENCH_SECTIONS=ingest runs one section. To add a section (backfill, policy views …),
 * write a `Section` in its own module and list it in SECTIONS below.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, round, settingsFromEnv, type Section } from './context.ts';
import { backfillSection, withIngestRatio } from './backfill.ts';
import { fanoutSection } from './fanout.ts';
import { federationSection } from './federation.ts';
import { ingestSection } from './ingest.ts';
import { loadSection } from './load.ts';
import { scaleSection } from './scale.ts';
import { renderTable, writeResults, type BenchResults, type SectionResult } from './report.ts';
import { serveSection } from './serve.ts';
import { sharebackSection } from './shareback.ts';

const SECTIONS: readonly Section[] = [
  ingestSection,
  serveSection,
  backfillSection,
  scaleSection,
  fanoutSection,
  loadSection,
  sharebackSection,
  federationSection,
];

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const SRC_DIR = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * Source files modified after `since` (ms): processes started later in the run (the serving
 * node) may have loaded different code than this one, so the output says so.
 */
function sourcesChangedSince(since: number, dir = SRC_DIR, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourcesChangedSince(since, path, out);
    else if (statSync(path).mtimeMs > since) out.push(path.slice(SRC_DIR.length));
  }
  return out;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

async function main(): Promise<void> {
  const settings = settingsFromEnv();
  const known = new Set(SECTIONS.map((s) => s.name));
  for (const name of settings.sections ?? []) {
    if (!known.has(name)) throw new Error(`BENCH_SECTIONS: unknown section "${name}"; known: ${[...known].join(', ')}`);
  }
  if (!(globalThis as { gc?: unknown }).gc) {
    process.stderr.write('note: run with --expose-gc (npm run bench does) so runs start from a collected heap\n');
  }
  const selected = settings.sections ? SECTIONS.filter((s) => settings.sections?.includes(s.name)) : SECTIONS;
  const ctx = createContext(settings);
  const startedAt = new Date();
  const info = machine();
  const load = info.loadAverageAtStart as number[];
  if ((load[0] ?? 0) > 0.5) {
    ctx.progress(`warning: load average ${load.join(' ')} at start: other processes compete for the CPUs; figures will be low`);
  }

  const results: SectionResult[] = [];
  const cleanupOnSignal = () => {
    ctx.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', cleanupOnSignal);
  process.once('SIGTERM', cleanupOnSignal);
  try {
    for (const section of selected) {
      ctx.progress(`== ${section.title}`);
      const t0 = performance.now();
      try {
        const outcome = await section.run(ctx);
        results.push({ name: section.name, title: section.title, durationS: round((performance.now() - t0) / 1000, 1), ...outcome });
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        ctx.progress(`section ${section.name} failed: ${message}`);
        results.push({
          name: section.name,
          title: section.title,
          durationS: round((performance.now() - t0) / 1000, 1),
          figures: [],
          details: {},
          error: (error as Error).message.split('\n')[0] ?? String(error),
        });
      }
    }
  } finally {
    const kept = ctx.cleanup();
    if (kept.length > 0) ctx.progress(`kept temp directories: ${kept.join(' ')}`);
  }

  const finishedAt = new Date();
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  const changed = sourcesChangedSince(startedAt.getTime());
  if (changed.length > 0) {
    ctx.progress(
      `warning: src/ changed during the run (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}): sections may have run different code`,
    );
  }
  const bench: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine: { ...info, loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)) },
    settings: { ...settings },
    git: {
      commit: git(['rev-parse', 'HEAD']),
      dirty: dirty === null ? null : dirty !== '',
      srcChangedDuringRun: changed,
    },
    sections: withIngestRatio(results),
  };
  const path = writeResults(RESULTS_DIR, bench);
  process.stdout.write(`${renderTable(bench)}\n`);
  process.stdout.write(`\nresults: ${path} (and bench/results/latest.json)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
