import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, waitForStderr } from '../support/processes.ts';

/**
 * The README's first command, `npm start`, as a fresh clone runs it: the real npm script from
 * package.json in a directory laid out like the checkout (package.json and the example config
 * copied, src/ bin/ node_modules/ linked), so the data directory and development certificates
 * it creates land there and not in the repository. Only RELAY_LISTEN is set (port 0), so
 * parallel test runs never collide on 8443.
 */
describe('npm start on a fresh clone (the example config)', () => {
  let dir: string;
  let child: ChildProcess;
  let discovery: string;
  let agent: Agent;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-start-'));
    copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'config'));
    copyFileSync(join(REPO, 'config/relay.example.yaml'), join(dir, 'config/relay.example.yaml'));
    for (const linked of ['src', 'bin', 'node_modules']) symlinkSync(join(REPO, linked), join(dir, linked));
    // its own process group: npm runs the script through a shell and does not pass SIGTERM on,
    // so the test signals the whole group, as a terminal's Ctrl-C or a service manager does
    child = spawn('npm', ['start'], {
      cwd: dir,
      env: { ...process.env, RELAY_LISTEN: '127.0.0.1:0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.on('data', (chunk: Buffer | string) => (stderr += String(chunk)));
    const match = await waitForStderr(child, /discovery: (https:\/\/\S+)/);
    discovery = match[1] as string;
    agent = new Agent({ connect: { ca: readFileSync(join(dir, 'certs', 'dev-ca.crt'), 'utf8') } });
  });

  it('runs the start script of package.json with the example config', () => {
    const scripts = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.start).toMatch(/src\/cli\/main\.ts start --config config\/relay\.example\.yaml$/);
  });

  afterAll(async () => {
    await agent?.close();
    // whatever happened above, nothing of the group outlives the test
    try {
      if (child?.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group has already exited
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("says that the environment overrides the config file's listen (never silently)", () => {
    expect(stderr).toContain("listen: 127.0.0.1:0 from the environment (RELAY_LISTEN), in place of the config file's value");
  });

  it('mints a development CA and server certificate with owner-only keys', () => {
    for (const file of ['dev-ca.crt', 'dev-server.crt', 'dev-server.key', 'dev-ca.key']) {
      expect(existsSync(join(dir, 'certs', file))).toBe(true);
    }
    expect(statSync(join(dir, 'certs', 'dev-server.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'certs', 'dev-ca.key')).mode & 0o777).toBe(0o600);
  });

  it('creates the data directory with the LMDB store', () => {
    // data_dir ./data of the example config, relative to where npm start runs
    expect(existsSync(join(dir, 'data', 'store'))).toBe(true);
  });

  it('serves discovery over HTTPS to the example member with the documented secret', async () => {
    const auth = `Basic ${Buffer.from('example:example-member-secret').toString('base64')}`;
    const res = await fetch(discovery, {
      dispatcher: agent,
      headers: { accept: 'application/taxii+json;version=2.1', authorization: auth },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { title: string; default?: string; api_roots?: string[] };
    expect(body.title).toBe('Example ISAC relay');
    expect(body.api_roots).toContain('/isac/');
  });

  it('refuses discovery without credentials', async () => {
    const res = await fetch(discovery, { dispatcher: agent, headers: { accept: 'application/taxii+json;version=2.1' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Basic/);
  });

  it('stops cleanly on SIGTERM (npm passes it on; the node closes its store and says so)', async () => {
    // the pipes close only when every process of the group has exited (they share them)
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    process.kill(-(child.pid as number), 'SIGTERM');
    const ended = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000)),
    ]);
    if (!ended) process.kill(-(child.pid as number), 'SIGKILL');
    expect(ended).toBe(true);
    expect(stdout).toContain('"msg":"stopped: store closed, connections ended"');
  });
});
