import { describe, expect, it } from 'vitest';
import { formatFindingPath, parseFindingPath, removeParts, selectorResolves, valueAt } from '../../src/shareback/parts.ts';
import { scanObject } from '../../src/shareback/pii/index.ts';

describe('finding paths', () => {
  it('parse the paths the PII scanner writes and format back to them', () => {
    const cases: [string, (string | number)[]][] = [
      ['description', ['description']],
      ['labels[2]', ['labels', 2]],
      ['external_references[0].description', ['external_references', 0, 'description']],
      ['objects.0.display_name', ['objects', '0', 'display_name']],
      ['x_case.notes[1]', ['x_case', 'notes', 1]],
      ['x_notes["full name"]', ['x_notes', 'full name']],
      ['x_notes["a \\"quoted\\" key"][3]', ['x_notes', 'a "quoted" key', 3]],
    ];
    for (const [path, steps] of cases) {
      expect(parseFindingPath(path)).toEqual(steps);
      expect(formatFindingPath(steps)).toBe(path);
    }
  });

  it('lead to the text the scanner flagged', () => {
    const report = {
      type: 'report',
      id: 'report--1',
      x_case: { 'full name': 'Maria Garcia', notes: ['x', 'Call Maria Garcia'] },
      objects: { '0': { type: 'user-account', display_name: 'Garcia, Maria' } },
    };
    const findings = scanObject({ ...report, type: 'observed-data' });
    expect(findings.length).toBeGreaterThanOrEqual(3);
    for (const f of findings) {
      const value = valueAt({ ...report, type: 'observed-data' }, parseFindingPath(f.path));
      expect(typeof value).toBe('string');
      expect((value as string).slice(f.start, f.end)).toContain('Garcia');
    }
  });

  it('refuse what is not a path', () => {
    expect(() => parseFindingPath('')).toThrow(/empty/);
    expect(() => parseFindingPath('a..b[')).toThrow(/not a finding path/);
  });
});

describe('removing parts', () => {
  const marking = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';

  it('re-points selectors past removed list elements and drops the selectors of removed content', () => {
    const object = {
      type: 'indicator',
      labels: ['a', 'b', 'c', 'd'],
      external_references: [{ source_name: 'x', description: 'y', url: 'https://x.example' }],
      granular_markings: [
        {
          marking_ref: marking,
          selectors: ['labels.[3]', 'labels.[1]', 'external_references.[0].description', 'external_references.[0].url'],
        },
        { marking_ref: marking, selectors: ['labels.[2]'] },
      ],
    };
    const { object: out, removed } = removeParts(object, [
      ['labels', 1],
      ['labels', 2],
      ['external_references', 0, 'description'],
    ]);
    expect(out.labels).toEqual(['a', 'd']);
    expect(out.external_references).toEqual([{ source_name: 'x', url: 'https://x.example' }]);
    expect(out.granular_markings).toEqual([{ marking_ref: marking, selectors: ['labels.[1]', 'external_references.[0].url'] }]);
    expect(removed).toEqual([
      ['labels', 1],
      ['labels', 2],
      ['external_references', 0, 'description'],
    ]);
    for (const g of out.granular_markings) for (const s of g.selectors) expect(selectorResolves(out, s)).toBe(true);
    // the input is left as it was
    expect(object.labels).toEqual(['a', 'b', 'c', 'd']);
  });

  it('removes a list that removal left empty, and the markings only it carried', () => {
    const object = {
      type: 'indicator',
      labels: ['a'],
      name: 'n',
      granular_markings: [{ marking_ref: marking, selectors: ['labels.[0]'] }],
    };
    const { object: out, removed } = removeParts(object, [['labels', 0]]);
    expect(out).toEqual({ type: 'indicator', name: 'n' });
    expect(removed).toEqual([['labels', 0], ['labels']]);
  });

  it('tells object keys from list indexes', () => {
    const object = { objects: { '0': { type: 'user-account', display_name: 'd', user_id: '1' } }, list: ['x', 'y'] };
    const { object: out } = removeParts(object, [
      ['objects', '0', 'display_name'],
      ['list', '0'],
    ]);
    expect(out).toEqual({ objects: { '0': { type: 'user-account', user_id: '1' } }, list: ['x', 'y'] });
  });
});
