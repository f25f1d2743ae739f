/**
 * Benchmark results: figures with their targets, sections, the printed table and the JSON file.
 * A missed target is reported, never asserted: the benchmark always exits 0 when it ran.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Target {
  readonly op: '>=' | '<=';
  readonly value: number;
}

export interface Figure {
  /** stable key for the JSON ("ingest.objects_per_s") */
  readonly key: string;
  readonly label: string;
  /** null when the measurement could not be made */
  readonly value: number | null;
  readonly unit: string;
  readonly target?: Target;
  /** whether the target is met; absent without a target */
  readonly met?: boolean | null;
  readonly note?: string;
}

export function figure(
  key: string,
  label: string,
  value: number | null,
  unit: string,
  extra: { target?: Target; note?: string } = {},
): Figure {
  const { target, note } = extra;
  const met =
    target === undefined
      ? undefined
      : value === null || !Number.isFinite(value)
        ? null
        : target.op === '>='
          ? value >= target.value
          : value <= target.value;
  return {
    key,
    label,
    value,
    unit,
    ...(target !== undefined ? { target, met } : {}),
    ...(note !== undefined ? { note } : {}),
  };
}

export interface SectionOutcome {
  readonly figures: readonly Figure[];
  /** everything else worth keeping: breakdowns, per-run values, corpus statistics */
  readonly details: Record<string, unknown>;
  /** notes printed under the table */
  readonly notes?: readonly string[];
}

export interface SectionResult extends SectionOutcome {
  readonly name: string;
  readonly title: string;
  readonly durationS: number;
  readonly error?: string;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly git: Record<string, unknown>;
  readonly sections: readonly SectionResult[];
}

function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  // counts (round trips, requests, clients) print as whole numbers; times and ratios keep their digits
  const counted = Number.isInteger(value) && unit !== 'x' && unit !== 'ms' && unit !== 's';
  const digits = counted ? 0 : unit === 'x' ? 2 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  const n = formatNumber(value, unit);
  return unit === 'x' ? `${n}x` : `${n} ${unit}`;
}

function formatTarget(f: Figure): string {
  if (!f.target) return '';
  return `${f.target.op === '>=' ? '≥' : '≤'} ${formatValue(f.target.value, f.unit)}`;
}

function formatMet(f: Figure): string {
  if (f.met === undefined) return '';
  return f.met === null ? '?' : f.met ? 'yes' : 'NO';
}

/** The human-readable report: one table per section, then notes. */
export function renderTable(results: BenchResults): string {
  const lines: string[] = [];
  const m = results.machine;
  lines.push(
    `relay benchmark — ${results.startedAt} — ${String(m.cpus)} × ${String(m.cpuModel)}, node ${String(m.node)}, ${String(m.totalMemoryGiB)} GiB RAM, load at start ${String(m.loadAverageAtStart)}`,
  );
  for (const s of results.sections) {
    lines.push('');
    lines.push(`${s.title} (${s.durationS.toFixed(1)} s)`);
    if (s.error) lines.push(`  FAILED: ${s.error}`);
    const rows = s.figures.map((f) => [f.label, formatValue(f.value, f.unit), formatTarget(f), formatMet(f)]);
    if (rows.length > 0) {
      const header = ['figure', 'value', 'target', 'met'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
      const line = (cells: string[]) =>
        '  ' +
        cells
          .map((c, i) => (i === 1 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
          .join('  ')
          .trimEnd();
      lines.push(line(header));
      lines.push('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
      for (const r of rows) lines.push(line(r));
    }
    const notes = [...s.figures.filter((f) => f.note).map((f) => `${f.label}: ${f.note}`), ...(s.notes ?? [])];
    for (const n of notes) lines.push(`  * ${n}`);
  }
  const all = results.sections.flatMap((s) => s.figures).filter((f) => f.met !== undefined);
  const met = all.filter((f) => f.met === true).length;
  lines.push('');
  lines.push(`targets met: ${met} of ${all.length} (total ${results.durationS.toFixed(0)} s)`);
  const changed = results.git.srcChangedDuringRun;
  if (Array.isArray(changed) && changed.length > 0) {
    lines.push(`warning: ${changed.length} file(s) under src/ changed during the run; sections may have run different code`);
  }
  return lines.join('\n');
}

/** Writes bench/results/<ISO date-time>.json and bench/results/latest.json; returns the first path. */
export function writeResults(dir: string, results: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const path = join(dir, `${stamp}.json`);
  writeFileSync(path, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return path;
}
