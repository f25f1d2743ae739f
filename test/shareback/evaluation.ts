/**
 * Scores the scanner against the labelled evaluation set (test/fixtures/pii): a finding counts
 * as a true positive when an expected finding has the same path and kind and an overlapping span
 * (one to one); precision, recall and F2 per kind and overall.
 */
import { readFileSync } from 'node:fs';
import { scanObjects, PII_KINDS, type Finding, type PiiKind } from '../../src/shareback/pii/index.ts';
import type { IocSpan, LabelledFinding, ObjectLabels, Split } from '../fixtures/pii/build-eval-set.ts';

export const EVAL_SET_URL = new URL('../fixtures/pii/eval-set.json', import.meta.url);
export const LABELS_URL = new URL('../fixtures/pii/labels.json', import.meta.url);

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Score extends Counts {
  precision: number;
  recall: number;
  f2: number;
}

export function score(c: Counts): Score {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  const f2 = precision + recall === 0 ? 0 : (5 * precision * recall) / (4 * precision + recall);
  return { ...c, precision, recall, f2 };
}

export interface Miss {
  readonly id: string;
  readonly split: Split;
  readonly kind: PiiKind;
  readonly path: string;
  readonly text: string;
}

export interface Evaluation {
  readonly byKind: Record<PiiKind, Counts>;
  readonly overall: Counts;
  readonly bySplit: Record<Split, Counts>;
  readonly falsePositives: Miss[];
  readonly falseNegatives: Miss[];
  /** findings overlapping a labelled observable (never allowed) */
  readonly iocsFlagged: Array<{ id: string; ioc: IocSpan; finding: Finding }>;
  readonly objects: number;
  readonly withPii: number;
}

const overlapping = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

function valueAt(object: unknown, path: string): string {
  let v: unknown = object;
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    const key = m[1] ?? m[2] ?? JSON.parse(`"${m[3]}"`);
    v = (v as Record<string, unknown>)?.[key];
  }
  return typeof v === 'string' ? v : '';
}

export function loadEvalSet(): { objects: unknown[]; labels: Record<string, ObjectLabels> } {
  const bundle = JSON.parse(readFileSync(EVAL_SET_URL, 'utf8')) as { objects: unknown[] };
  const labels = JSON.parse(readFileSync(LABELS_URL, 'utf8')) as Record<string, ObjectLabels>;
  return { objects: bundle.objects, labels };
}

export function evaluate(objects: readonly unknown[], labels: Record<string, ObjectLabels>): Evaluation {
  const zero = (): Counts => ({ tp: 0, fp: 0, fn: 0 });
  const byKind = Object.fromEntries(PII_KINDS.map((k) => [k, zero()])) as Record<PiiKind, Counts>;
  const bySplit: Record<Split, Counts> = { dev: zero(), holdout: zero() };
  const overall = zero();
  const falsePositives: Miss[] = [];
  const falseNegatives: Miss[] = [];
  const iocsFlagged: Evaluation['iocsFlagged'] = [];
  const results = scanObjects(objects);
  results.forEach(({ id, findings }, index) => {
    const object = objects[index];
    const label = labels[id];
    if (!label) throw new Error(`no labels for ${id}`);
    const expected: LabelledFinding[] = [...label.pii];
    const count = (kind: PiiKind, field: keyof Counts) => {
      byKind[kind][field]++;
      bySplit[label.split][field]++;
      overall[field]++;
    };
    for (const f of findings) {
      for (const ioc of label.iocs) if (ioc.path === f.path && overlapping(ioc, f)) iocsFlagged.push({ id, ioc, finding: f });
      const at = expected.findIndex((e) => e.path === f.path && e.kind === f.kind && overlapping(e, f));
      if (at >= 0) {
        expected.splice(at, 1);
        count(f.kind, 'tp');
      } else {
        count(f.kind, 'fp');
        falsePositives.push({ id, split: label.split, kind: f.kind, path: f.path, text: valueAt(object, f.path).slice(f.start, f.end) });
      }
    }
    for (const e of expected) {
      count(e.kind, 'fn');
      falseNegatives.push({ id, split: label.split, kind: e.kind, path: e.path, text: e.text });
    }
  });
  const withPii = Object.values(labels).filter((l) => l.pii.length > 0).length;
  return { byKind, overall, bySplit, falsePositives, falseNegatives, iocsFlagged, objects: objects.length, withPii };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);

export function renderEvaluation(e: Evaluation): string {
  const lines = [`PII scanner on the evaluation set: ${e.objects} objects, ${e.withPii} with personal data`];
  lines.push(`${'kind'.padEnd(16)}${'tp'.padStart(5)}${'fp'.padStart(5)}${'fn'.padStart(5)}  precision   recall       F2`);
  const row = (name: string, c: Counts) => {
    const s = score(c);
    lines.push(
      `${name.padEnd(16)}${String(c.tp).padStart(5)}${String(c.fp).padStart(5)}${String(c.fn).padStart(5)}    ${pct(s.precision)}  ${pct(s.recall)}  ${pct(s.f2)}`,
    );
  };
  for (const kind of PII_KINDS) row(kind, e.byKind[kind]);
  row('overall', e.overall);
  row('  dev split', e.bySplit.dev);
  row('  holdout split', e.bySplit.holdout);
  return lines.join('\n');
}
