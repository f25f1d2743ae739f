/**
 * What every benchmark section gets: settings from the environment, temp directories that are
 * removed at the end, progress on stderr, and small measuring helpers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SectionOutcome } from './report.ts';

export interface Settings {
  readonly seed: number;
  /** sections to run, in order (BENCH_SECTIONS, comma-separated; default: all) */
  readonly sections: readonly string[] | null;
  /** keep temp directories (BENCH_KEEP_TMP=1), for looking at the stores afterwards */
  readonly keepTmp: boolean;
  readonly ingest: {
    /** objects ingested per measured run (BENCH_INGEST) */
    readonly objects: number;
    /** objects per import file (BENCH_INGEST_FILE): each file is one JSON text, parsed whole */
    readonly perFile: number;
    /** versions per LMDB transaction, ingest and floor alike (BENCH_INGEST_BATCH) */
    readonly batchSize: number;
    /** measured runs; the median is reported (BENCH_INGEST_RUNS) */
    readonly runs: number;
    /**
     * seconds the section may spend measuring (BENCH_INGEST_BUDGET_S): the first ingest run
     * stops at a file boundary after half of it, and runs that would not fit are skipped
     */
    readonly budgetS: number;
  };
  readonly backfill: {
    /** objects node B backfills from node A (BENCH_BACKFILL) */
    readonly objects: number;
  };
  readonly scale: {
    /** objects of the one ingest from empty (BENCH_SCALE) */
    readonly objects: number;
  };
  readonly fanout: {
    /** indicators of the hub malware (BENCH_FANOUT); the store holds as many `indicates` relationships */
    readonly indicators: number;
  };
  readonly load: {
    /** members paging the collection at once, one connection each (BENCH_LOAD_CLIENTS) */
    readonly clients: number;
    /** objects in the collection they page (BENCH_LOAD_OBJECTS) */
    readonly objects: number;
    /** a new client connects every this many milliseconds during the load (BENCH_LOAD_NEWCOMER_MS) */
    readonly newcomerIntervalMs: number;
    /** seconds the load may run; clients still paging then are stopped and counted (BENCH_LOAD_BUDGET_S) */
    readonly budgetS: number;
    /** config `limits` for the node instead of the defaults, as JSON (BENCH_LOAD_LIMITS) */
    readonly limits: Record<string, unknown> | null;
  };
  readonly federation: {
    /** objects ingested at node A at 1,000 objects/s for the propagation latency (BENCH_FEDERATION_OBJECTS) */
    readonly objects: number;
    /** versions B lacks and gossip cannot bring, for the convergence time (BENCH_FEDERATION_DIVERGENCE) */
    readonly divergence: number;
    /** versions both reconciliation sets hold for the no-op and 1,000-difference figures (BENCH_FEDERATION_NOOP) */
    readonly noop: number;
  };
  readonly serve: {
    /** objects in the large collection (BENCH_SERVE) */
    readonly objects: number;
    /** objects in the small collection of the same store (BENCH_SERVE_SMALL) */
    readonly smallObjects: number;
    /** ingest batch size while building the stores; setup only (BENCH_SERVE_SETUP_BATCH) */
    readonly setupBatchSize: number;
    /**
     * seconds the setup may take (BENCH_SERVE_SETUP_BUDGET_S): when ingest is too slow, the
     * large collection is cut short (reported) rather than the run taking an hour
     */
    readonly setupBudgetS: number;
    /** `limit` of each page (BENCH_PAGE_LIMIT) */
    readonly pageLimit: number;
    /** page fetches at random positions per collection (BENCH_LATENCY_SAMPLES) */
    readonly latencySamples: number;
  };
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

function jsonFromEnv(name: string): Record<string, unknown> | null {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new Error(`${name} must be a JSON object, e.g. {"pages_in_flight": 8}; got "${raw}"`);
}

export function settingsFromEnv(): Settings {
  const sections = process.env.BENCH_SECTIONS?.trim();
  return {
    seed: intFromEnv('BENCH_SEED', 20240301, 0),
    sections: sections
      ? sections
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    keepTmp: process.env.BENCH_KEEP_TMP === '1',
    ingest: {
      objects: intFromEnv('BENCH_INGEST', 200_000),
      perFile: intFromEnv('BENCH_INGEST_FILE', 10_000),
      batchSize: intFromEnv('BENCH_INGEST_BATCH', 1000),
      runs: intFromEnv('BENCH_INGEST_RUNS', 3),
      budgetS: intFromEnv('BENCH_INGEST_BUDGET_S', 360),
    },
    backfill: {
      objects: intFromEnv('BENCH_BACKFILL', 200_000),
    },
    scale: {
      objects: intFromEnv('BENCH_SCALE', 1_000_000, 1000),
    },
    fanout: {
      indicators: intFromEnv('BENCH_FANOUT', 100_000),
    },
    load: {
      clients: intFromEnv('BENCH_LOAD_CLIENTS', 200),
      objects: intFromEnv('BENCH_LOAD_OBJECTS', 20_000),
      newcomerIntervalMs: intFromEnv('BENCH_LOAD_NEWCOMER_MS', 250),
      budgetS: intFromEnv('BENCH_LOAD_BUDGET_S', 600),
      limits: jsonFromEnv('BENCH_LOAD_LIMITS'),
    },
    federation: {
      objects: intFromEnv('BENCH_FEDERATION_OBJECTS', 10_000, 100),
      divergence: intFromEnv('BENCH_FEDERATION_DIVERGENCE', 100_000),
      noop: intFromEnv('BENCH_FEDERATION_NOOP', 1_000_000, 2000),
    },
    serve: {
      objects: intFromEnv('BENCH_SERVE', 1_000_000),
      smallObjects: intFromEnv('BENCH_SERVE_SMALL', 10_000),
      setupBatchSize: intFromEnv('BENCH_SERVE_SETUP_BATCH', 50_000),
      setupBudgetS: intFromEnv('BENCH_SERVE_SETUP_BUDGET_S', 900),
      pageLimit: intFromEnv('BENCH_PAGE_LIMIT', 1000),
      latencySamples: intFromEnv('BENCH_LATENCY_SAMPLES', 200),
    },
  };
}

export interface BenchContext {
  readonly settings: Settings;
  /** a fresh temp directory, removed when the benchmark ends (unless BENCH_KEEP_TMP=1) */
  tempDir(label: string): string;
  /** removes a temp directory now (to free disk between runs) */
  removeTemp(dir: string): void;
  /** a progress line on stderr */
  progress(message: string): void;
}

export interface Section {
  readonly name: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<SectionOutcome>;
}

export function createContext(settings: Settings): BenchContext & { cleanup(): string[] } {
  const dirs = new Set<string>();
  const started = performance.now();
  return {
    settings,
    tempDir(label) {
      const dir = mkdtempSync(join(tmpdir(), `relay-bench-${label}-`));
      dirs.add(dir);
      return dir;
    },
    removeTemp(dir) {
      if (settings.keepTmp) return;
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
    progress(message) {
      const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[bench ${s}s] ${message}\n`);
    },
    cleanup() {
      const left = [...dirs];
      if (!settings.keepTmp) for (const dir of left) rmSync(dir, { recursive: true, force: true });
      dirs.clear();
      return settings.keepTmp ? left : [];
    },
  };
}

// ---- measuring helpers

/** Runs a full garbage collection when node was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Bytes this process has caused to be written to storage (/proc/self/io), or null. */
export function bytesWritten(): number | null {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface MemorySnapshot {
  /** process.memoryUsage().rss: every resident page, LMDB's file-backed map pages included */
  readonly rssMB: number;
  /** RssAnon from /proc/self/status: heap, stacks, buffers — not LMDB's file map */
  readonly rssAnonMB: number | null;
  /** RssFile: resident file-backed pages (mostly the LMDB map, plus code) */
  readonly rssFileMB: number | null;
  /** VmHWM: peak RSS of the process so far */
  readonly peakRssMB: number | null;
  readonly heapUsedMB: number;
  /** V8 heap reserved (used and free) */
  readonly heapTotalMB: number;
  readonly externalMB: number;
  readonly arrayBuffersMB: number;
}

function statusKiB(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export function memorySnapshot(): MemorySnapshot {
  const mu = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: only process.memoryUsage() figures
  }
  const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
  const kib = (field: string) => {
    const v = statusKiB(status, field);
    return v === null ? null : round(v / 1024, 1);
  };
  return {
    rssMB: mb(mu.rss),
    rssAnonMB: kib('RssAnon'),
    rssFileMB: kib('RssFile'),
    peakRssMB: kib('VmHWM'),
    heapUsedMB: mb(mu.heapUsed),
    heapTotalMB: mb(mu.heapTotal),
    externalMB: mb(mu.external),
    arrayBuffersMB: mb(mu.arrayBuffers),
  };
}
