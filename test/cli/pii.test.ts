import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runPiiScan } from '../../src/cli/pii.ts';
import { CliError } from '../../src/cli/errors.ts';
import { relay } from '../support/cli.ts';

const report = {
  type: 'report',
  spec_version: '2.1',
  id: 'report--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0001',
  created: '2024-05-02T10:00:00.000Z',
  modified: '2024-05-02T10:00:00.000Z',
  name: 'Phishing wave',
  published: '2024-05-02T10:00:00.000Z',
  object_refs: [],
  description: 'Reported by maria.garcia@acme-bank.example from 198.51.100.7.',
  external_references: [{ source_name: 'ticket', description: 'Call +44 20 7946 0958' }],
};
const indicator = {
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0002',
  created: '2024-05-02T10:00:00.000Z',
  modified: '2024-05-02T10:00:00.000Z',
  name: 'Phishing sender',
  pattern: "[email-addr:value = 'kim.lee@pay-secure.example']",
  pattern_type: 'stix',
  valid_from: '2024-05-02T10:00:00.000Z',
  description: 'Messages from kim.lee@pay-secure.example; abuse@acme-bank.example notified.',
};

const EXPECTED_JSON_LINES = [
  '{"id":"report--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0001","findings":[{"path":"description","kind":"email","start":12,"end":42},{"path":"external_references[0].description","kind":"phone","start":5,"end":21}]}',
  '{"id":"indicator--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0002","findings":[]}',
];

let dir: string;
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-pii-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** runPiiScan in this process, its stdout and stderr captured */
async function scan(files: string[], json: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await runPiiScan(files, { json });
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('relay pii scan (runPiiScan in process)', () => {
  it('prints one JSON line per object with path, kind and span of each finding', async () => {
    const bundle = file('bundle.json', {
      type: 'bundle',
      id: 'bundle--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0000',
      objects: [report, indicator],
    });
    const r = await scan([bundle], true);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([...EXPECTED_JSON_LINES, '']);
    const first = JSON.parse(r.stdout.split('\n')[0] as string);
    expect(report.description.slice(first.findings[0].start, first.findings[0].end)).toBe('maria.garcia@acme-bank.example');
  });

  it('reads TAXII envelopes, JSON arrays and single objects, in file order', async () => {
    const envelope = file('envelope.json', { more: false, objects: [indicator] });
    const array = file('array.json', [report]);
    const single = file('single.json', report);
    const r = await scan([envelope, array, single], true);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([EXPECTED_JSON_LINES[1], EXPECTED_JSON_LINES[0], EXPECTED_JSON_LINES[0]]);
  });

  it('prints each object with findings, a line per finding and a summary without --json', async () => {
    const bundle = file('bundle2.json', {
      type: 'bundle',
      id: 'bundle--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0000',
      objects: [report, indicator],
    });
    const r = await scan([bundle], false);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${report.id}  ${bundle}`,
      '  description  email  [12, 42)  "maria.garcia@acme-bank.example"',
      '  external_references[0].description  phone  [5, 21)  "+44 20 7946 0958"',
      '2 objects scanned, 1 with personal data, 2 findings (email 1, phone 1)',
    ]);
  });

  it('reports an unreadable or invalid file on stderr, scans the others and exits 1', async () => {
    const broken = file('broken.json', '{"type": "bundle", "objects": [');
    const notStix = file('not-stix.json', { hello: 'world' });
    const good = file('good.json', [indicator]);
    const r = await scan([broken, join(dir, 'missing.json'), notStix, good], true);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n')).toEqual([EXPECTED_JSON_LINES[1]]);
    expect(r.stderr).toContain(`${broken}: not valid JSON`);
    expect(r.stderr).toContain(`${join(dir, 'missing.json')}: ENOENT`);
    expect(r.stderr).toContain(`${notStix}: not a STIX bundle`);
  });

  it('is a usage error without files', async () => {
    await expect(runPiiScan([], { json: true })).rejects.toThrow(CliError);
  });
});

describe('relay pii scan (the real relay command in a child process)', () => {
  it('writes exactly the JSON lines to stdout and exits 0', async () => {
    const bundle = file('bundle3.json', {
      type: 'bundle',
      id: 'bundle--6a1d7c5e-1f55-4e8e-9a51-2f1c4b0f0000',
      objects: [report, indicator],
    });
    const { code, stdout, stderr } = await relay(['pii', 'scan', bundle, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`${EXPECTED_JSON_LINES.join('\n')}\n`);
  });
});
