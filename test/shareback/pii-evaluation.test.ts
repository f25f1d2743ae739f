/**
 * The scanner against the labelled evaluation set (test/fixtures/pii, built by
 * build-eval-set.ts): prints precision, recall and F2 per kind, overall and per split, and holds
 * the bar of issue 11: recall ≥ 0.95 and precision ≥ 0.9 overall, and no IOC flagged.
 */
import { describe, expect, it } from 'vitest';
import { PII_KINDS } from '../../src/shareback/pii/index.ts';
import { buildEvalSet } from '../fixtures/pii/build-eval-set.ts';
import { evaluate, loadEvalSet, renderEvaluation, score } from './evaluation.ts';

const { objects, labels } = loadEvalSet();

describe('PII scanner on the labelled evaluation set', () => {
  it('is the set its builder writes (regenerate with node --import tsx test/fixtures/pii/build-eval-set.ts)', () => {
    const fresh = buildEvalSet();
    expect(JSON.parse(JSON.stringify(fresh.bundle)).objects).toEqual(objects);
    expect(JSON.parse(JSON.stringify(fresh.labels))).toEqual(labels);
  });

  it('has at least 300 objects, about half with personal data, every kind at least 25 times in several properties', () => {
    expect(objects.length).toBeGreaterThanOrEqual(300);
    const all = Object.values(labels);
    const withPii = all.filter((l) => l.pii.length > 0).length;
    expect(withPii / all.length).toBeGreaterThan(0.4);
    expect(withPii / all.length).toBeLessThan(0.6);
    for (const kind of PII_KINDS) {
      const found = all.flatMap((l) => l.pii).filter((f) => f.kind === kind);
      expect(found.length, kind).toBeGreaterThanOrEqual(25);
      expect(new Set(found.map((f) => f.path.replace(/\[\d+\]/g, '[]'))).size, kind).toBeGreaterThanOrEqual(4);
    }
    // labels point at the text they name
    const byId = new Map(objects.map((o) => [(o as { id: string }).id, o]));
    for (const [id, l] of Object.entries(labels)) {
      expect(byId.has(id)).toBe(true);
      expect(l.pii.every((f) => f.end > f.start && f.text.length === f.end - f.start)).toBe(true);
    }
  });

  it('finds personal data with recall ≥ 0.95 and precision ≥ 0.9, and flags no IOC', () => {
    const e = evaluate(objects, labels);
    console.log(renderEvaluation(e));
    for (const m of e.falseNegatives) console.log(`missed (${m.split}) ${m.kind} at ${m.path}: ${JSON.stringify(m.text)}`);
    for (const m of e.falsePositives) console.log(`false finding (${m.split}) ${m.kind} at ${m.path}: ${JSON.stringify(m.text)}`);
    expect(e.iocsFlagged).toEqual([]);
    const overall = score(e.overall);
    expect(overall.recall).toBeGreaterThanOrEqual(0.95);
    expect(overall.precision).toBeGreaterThanOrEqual(0.9);
  });
});
