import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

describe('relay certs issue member NAME', () => {
  let membersConfig: string;
  beforeAll(async () => {
    const d = join(dir, 'members');
    mkdirSync(d);
    membersConfig = join(d, 'relay.yaml');
    writeFileSync(
      membersConfig,
      stringify({
        node: { id: 'n2', title: 'Member certificates' },
        data_dir: join(d, 'data'),
        api_roots: [{ path: 'isac', title: 'ISAC' }],
        members: [
          { id: 'acme', name: 'Acme', credentials: { cert_subject: 'acme-gateway' } },
          { id: 'bob', name: 'Bob', credentials: { jwt_subject: 'bob' } },
        ],
      }),
    );
    expect((await runRelay(['certs', 'init', '--config', membersConfig])).code).toBe(0);
  });

  it('is quiet when a member has credentials.cert_subject NAME', async () => {
    const run = await runRelay(['certs', 'issue', 'member', 'acme-gateway', '--config', membersConfig]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('warns, still issuing, when NAME is a member without that cert_subject, or no member at all', async () => {
    // one after another: each issue rewrites the CA's registry
    const bob = await runRelay(['certs', 'issue', 'member', 'bob', '--config', membersConfig]);
    const stranger = await runRelay(['certs', 'issue', 'member', 'stranger', '--config', membersConfig, '--json']);
    const server = await runRelay(['certs', 'issue', 'server', 'stranger', '--config', membersConfig]);
    expect(bob.code).toBe(0);
    const bobPrint = /fingerprint: sha256:([0-9a-f]{64})/.exec(bob.stdout)?.[1];
    expect(bob.stderr).toBe(
      `warning: member "bob" has no credentials.cert_subject: bob (or cert_fingerprint: ${bobPrint}); until it does, this certificate authenticates nobody\n`,
    );
    expect(stranger.code).toBe(0);
    const { fingerprint } = JSON.parse(stranger.stdout) as { fingerprint: string };
    expect(stranger.stderr).toBe(
      `warning: "stranger" is no configured member: this certificate authenticates nobody until a member in the config has credentials.cert_subject: stranger (or cert_fingerprint: ${fingerprint})\n`,
    );
    expect(server.code).toBe(0);
    expect(server.stderr).toBe(''); // not a member certificate
  });
});
