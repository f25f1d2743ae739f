import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelay } from '../support/processes.ts';

let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-certs-cli-'));
  configPath = join(dir, 'relay.yaml');
  writeFileSync(
    configPath,
    stringify({
      node: { id: 'n1', title: 'Certs test' },
      data_dir: join(dir, 'data'),
      api_roots: [{ path: 'isac', title: 'ISAC' }],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relay certs', () => {
  it('init, issue with PKCS#12, list and revoke', async () => {
    const init = await runRelay(['certs', 'init', '--config', configPath]);
    expect(init.code).toBe(0);
    expect(statSync(join(dir, 'data', 'pki', 'ca.key')).mode & 0o777).toBe(0o600);

    const issued = await runRelay(['certs', 'issue', 'member', 'acme', '--config', configPath, '--passphrase-env', 'P12_PASS', '--json'], {
      env: { P12_PASS: 'a good passphrase' },
    });
    expect(issued.code).toBe(0);
    const record = JSON.parse(issued.stdout) as { serial: string; p12Path: string };
    expect(statSync(record.p12Path).mode & 0o777).toBe(0o600);

    const revoked = await runRelay(['certs', 'revoke', record.serial, '--config', configPath]);
    expect(revoked.code).toBe(0);
    const list = await runRelay(['certs', 'list', '--config', configPath]);
    expect(list.stdout).toMatch(new RegExp(`${record.serial}\\s+member\\s+acme .*REVOKED`));
  });

  it('explains a missing CA and a bad kind without a stack trace', async () => {
    rmSync(join(dir, 'data', 'pki'), { recursive: true, force: true });
    const noCa = await runRelay(['certs', 'issue', 'server', 'x', '--config', configPath]);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toMatch(/relay certs init/);
    expect(noCa.stderr).not.toMatch(/\n\s+at /);
    const badKind = await runRelay(['certs', 'issue', 'printer', 'x', '--config', configPath]);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/server\|member\|node/);
  });
});
