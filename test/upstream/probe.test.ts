import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runProbe } from '../../src/cli/upstream.ts';
import { COLLECTIONS, startTestNode, type TestNode } from '../support/node.ts';
import { runRelay } from '../support/processes.ts';
import { indicators, startScriptedServer, type ScriptedServer } from './scripted-server.ts';

const ALL_CHECKS = [
  'connect',
  'discovery',
  'api-root',
  'collections',
  'objects',
  'date-headers',
  'limit',
  'paging-next',
  'paging-added-after',
  'version-filter',
  'manifest',
  'error-resource',
];

function parse(stdout: string): Map<string, { status: string; detail: string }> {
  const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
  return new Map(report.checks.map((c) => [c.name, { status: c.status, detail: c.detail }]));
}

describe('relay probe', () => {
  let a: TestNode;
  let server: ScriptedServer;
  let dir: string;

  beforeAll(async () => {
    a = await startTestNode();
    a.node.ingestor.ingest(COLLECTIONS.shared, indicators(20, 3), { source: 'import', detail: 'generated' });
    server = await startScriptedServer();
    server.add(indicators(12, 2));
    dir = mkdtempSync(join(tmpdir(), 'relay-probe-'));
    writeFileSync(join(dir, 'scripted-ca.crt'), server.caPem);
  });
  afterAll(async () => {
    await server?.close();
    await a?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes every check against a running relay node (exit 0)', async () => {
    const args = [
      'probe',
      a.node.discoveryUrl,
      '--collection',
      'shared',
      '--user',
      'alice',
      '--password-env',
      'PROBE_PASSWORD',
      '--ca',
      a.node.devCaPath as string,
    ];
    const text = await runRelay(args, { env: { PROBE_PASSWORD: 'alice-secret' } });
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/12 checks: 12 passed, 0 failed, 0 skipped/);
    expect(text.stdout).not.toContain('alice-secret');
    const json = await runRelay([...args, '--json'], { env: { PROBE_PASSWORD: 'alice-secret' } });
    const checks = parse(json.stdout);
    expect([...checks.keys()]).toEqual(ALL_CHECKS);
    for (const [name, c] of checks) expect(c.status, `${name}: ${c.detail}`).toBe('pass');
  });

  it('reports wrong credentials by name', async () => {
    const r = await runRelay(
      ['probe', a.node.discoveryUrl, '--user', 'alice', '--password-env', 'PROBE_PASSWORD', '--ca', a.node.devCaPath as string, '--json'],
      {
        env: { PROBE_PASSWORD: 'wrong' },
      },
    );
    expect(r.code).toBe(1);
    expect(parse(r.stdout).get('discovery')?.detail).toMatch(/HTTP 401/);
  });

  it('reports each fault of a faulty server by name (exit 1)', async () => {
    server.quirks = { ignoreNext: true, inclusiveAddedAfter: true };
    // one fault per Get Objects request, in the probe's order:
    // objects, date-headers, limit, paging-next x2, paging-added-after x2, version-filter x3
    server.faults.push(
      { kind: 'media-type', type: 'text/html' },
      { kind: 'none' },
      { kind: 'status', status: 500 },
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'truncate' },
    );
    const r = await runRelay(['probe', server.discoveryUrl, '--ca', join(dir, 'scripted-ca.crt'), '--json']);
    expect(r.code).toBe(1);
    const checks = parse(r.stdout);
    const failed = Object.fromEntries([...checks].filter(([, c]) => c.status === 'fail').map(([name, c]) => [name, c.detail]));
    expect(Object.keys(failed).sort()).toEqual(['limit', 'objects', 'paging-added-after', 'paging-next', 'version-filter']);
    expect(failed.objects).toMatch(/Content-Type is "text\/html"/);
    expect(failed.limit).toMatch(/HTTP 500/);
    expect(failed['paging-next']).toMatch(/ignores 'next'/);
    expect(failed['paging-added-after']).toMatch(/inclusive/);
    expect(failed['version-filter']).toMatch(/malformed JSON/);
    for (const name of ['connect', 'discovery', 'api-root', 'collections', 'date-headers', 'manifest', 'error-resource']) {
      expect(checks.get(name)?.status, name).toBe('pass');
    }
  });

  it('reports missing date headers and a hung connection (cut by --timeout)', async () => {
    server.quirks = { noDateHeaders: true };
    server.faults.splice(0, server.faults.length, { kind: 'hang' });
    const r = await runRelay(['probe', server.apiRootUrl, '--ca', join(dir, 'scripted-ca.crt'), '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}objects +TaxiiTimeoutError: timed out/);
    expect(r.stdout).toMatch(/FAIL {2}date-headers +X-TAXII-Date-Added-First\/-Last missing/);
    expect(r.stdout).toMatch(/SKIP {2}discovery +the URL is an API root/);
  });
});

describe('relay probe and plain HTTP', () => {
  it('probes an http:// server only when asked explicitly (--insecure-http), warning that it is unencrypted', async () => {
    const plain = await startScriptedServer({ plainHttp: true });
    plain.quirks = { sessionNext: true };
    plain.add(indicators(12, 2));
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      await expect(runProbe({ url: plain.discoveryUrl, timeoutMs: 30_000, json: true })).rejects.toThrow(
        /is plain HTTP \(unencrypted\); use https:\/\/, or pass --insecure-http/,
      );
      expect(plain.authorizations).toHaveLength(0);

      expect(await runProbe({ url: plain.discoveryUrl, timeoutMs: 30_000, insecureHttp: true, json: true })).toBe(0);
      expect(err.join('\n')).toContain('probing over plain HTTP: traffic and credentials are unencrypted');
      const checks = parse(out.join('\n'));
      expect(checks.get('connect')?.detail).toBe('plain HTTP (unencrypted) answered 200');
      for (const [name, c] of checks) expect(c.status, `${name}: ${c.detail}`).toBe('pass');
      expect(checks.get('paging-next')?.detail).toMatch(/one token for the whole paging session/);
    } finally {
      log.mockRestore();
      error.mockRestore();
      await plain.close();
    }
  });
});
