/**
 * Files and directories the configuration names (tls.cert, tls.key, tls.client_ca, data_dir)
 * that cannot be used: the command exits 2 with the config key, the path, the OS's or OpenSSL's
 * reason and the fix, never a bare OpenSSL message or a stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../src/pki/index.ts';
import { type TlsFiles } from '../../src/pki/dev.ts';
import { relay, spawnRelay, writeTestConfig, type RelayRun } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-cli-files-');
afterAll(() => cleanup());

let pem: TlsFiles;
const garbage = join(dir, 'garbage.pem');
const brokenCa = join(dir, 'broken-ca.pem');
const missing = join(dir, 'missing.pem');

beforeAll(async () => {
  pem = await ensureDevCertificates(join(dir, 'pem'), []);
  writeFileSync(garbage, 'this is not PEM\n');
  writeFileSync(brokenCa, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
});

let configs = 0;
/** `relay start` on the test config with `tls` (and more) adjusted; it must fail before serving. */
async function start(adjust: (data: Record<string, any>) => void): Promise<RelayRun> {
  const config = writeTestConfig(join(dir, `c${configs++}`), adjust);
  return relay(['start', '--config', config], { timeoutMs: 45_000 });
}

function expectConfigError(run: RelayRun, lines: RegExp): void {
  expect(run.stderr).toMatch(lines);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(2);
}

describe.concurrent('TLS files', () => {
  it('a tls.cert that does not exist', async () => {
    const run = await start((d) => (d.tls = { cert: missing, key: pem.keyPath }));
    expectConfigError(
      run,
      new RegExp(
        `^tls\\.cert: cannot use ${missing}: ENOENT: no such file or directory.*\\n  fix: point tls\\.cert at a readable PEM certificate \\(chain\\) for this server\\n$`,
      ),
    );
  });

  it('a tls.cert that is not PEM: OpenSSL reason', async () => {
    const run = await start((d) => (d.tls = { cert: garbage, key: pem.keyPath }));
    expectConfigError(run, new RegExp(`^tls\\.cert: cannot use ${garbage}: error:[0-9A-F]+:PEM routines::no start line\\n  fix: `));
  });

  it('a tls.key that is not a key', async () => {
    const run = await start((d) => (d.tls = { cert: pem.certPath, key: garbage }));
    expectConfigError(
      run,
      new RegExp(`^tls\\.key: cannot use ${garbage}: error:[0-9A-F]+:.*\\n  fix: point tls\\.key at the readable PEM private key`),
    );
  });

  it("a tls.key of another certificate names both keys and the certificate's file", async () => {
    const otherKey = join(dir, 'pem', 'dev-ca.key');
    const run = await start((d) => (d.tls = { cert: pem.certPath, key: otherKey }));
    expectConfigError(
      run,
      new RegExp(
        `^tls\\.key: cannot use ${otherKey}: .*key values mismatch\\n  fix: point tls\\.key at the readable PEM private key of the certificate in tls\\.cert \\(${pem.certPath}\\)`,
      ),
    );
  });

  it('a tls.client_ca without any certificate, with a broken one, or missing', async () => {
    const withClientCa = (file: string) => (d: Record<string, any>) => {
      d.tls = { cert: pem.certPath, key: pem.keyPath, client_ca: file };
      d.members[0].credentials.cert_subject = 'alice';
    };
    const fix = '\\n  fix: point tls\\.client_ca at a readable PEM file of CA certificates\\n$';
    const [none, broken, absent] = await Promise.all([
      start(withClientCa(garbage)),
      start(withClientCa(brokenCa)),
      start(withClientCa(missing)),
    ]);
    expectConfigError(
      none,
      new RegExp(`^tls\\.client_ca: cannot use ${garbage}: no PEM certificate \\("-----BEGIN CERTIFICATE-----"\\) in it${fix}`),
    );
    expectConfigError(broken, new RegExp(`^tls\\.client_ca: cannot use ${brokenCa}: certificate 1 of 1: .+${fix}`));
    expectConfigError(absent, new RegExp(`^tls\\.client_ca: cannot use ${missing}: ENOENT: no such file or directory.*${fix}`));
  });

  it('usable files still start the node (the checks refuse nothing valid)', async () => {
    const config = writeTestConfig(join(dir, 'valid'), (d) => {
      d.tls = { cert: pem.certPath, key: pem.keyPath, client_ca: pem.caPath };
      d.members[0].credentials.cert_subject = 'alice';
    });
    const { child, done } = spawnRelay(['start', '--config', config]);
    const serving = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 45_000);
      let seen = '';
      child.stderr.on('data', (s: string) => {
        seen += s;
        if (seen.includes('discovery: https://')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    child.kill('SIGTERM');
    const run = await done;
    expect(run.stderr, `exit ${run.code ?? run.signal}; stdout: ${run.stdout.slice(-2000)}`).toContain('is serving TAXII 2.1');
    expect(serving).toBe(true);
    expect(run.code, `ended by signal ${run.signal}`).toBe(0);
  });
});

describe.concurrent('data_dir', () => {
  it('a data_dir that is a file: any command that opens the store names data_dir', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const config = writeTestConfig(join(dir, 'file-data'), (d) => (d.data_dir = file));
    const fix = '\\n  fix: set data_dir \\(or RELAY_DATA_DIR\\) to a directory the node may create and write\\n$';
    const exists = `EEXIST: file already exists, mkdir '${file}'`;
    const cases = [
      [['stats'], exists],
      [['check'], exists],
      [['start'], exists],
      [['token', 'jwks'], `ENOTDIR: not a directory, mkdir '${file}/keys'`], // the signing keys live in <data_dir>/keys
    ] as const;
    for (const [argv, reason] of cases) {
      const run = await relay([...argv, '--config', config], { timeoutMs: 45_000 });
      expectConfigError(run, new RegExp(`^data_dir: cannot use ${file}: ${reason}${fix}`));
    }
  });

  it('a data_dir whose store cannot be opened gives LMDB’s reason', async () => {
    const data = join(dir, 'store-is-a-file');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'store'), 'x');
    const config = writeTestConfig(join(dir, 'store-file'), (d) => (d.data_dir = data));
    const run = await relay(['stats', '--config', config]);
    expectConfigError(
      run,
      new RegExp(`^data_dir: cannot use ${data}: cannot open the LMDB store at ${data}/store: .+\\n  fix: set data_dir`),
    );
  });
});
