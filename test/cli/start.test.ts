import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { REPO, spawnRelay, stop, waitForStderr } from '../support/processes.ts';

// What `npm start` does on a fresh clone: the example config, no certificate configured.
describe('relay start on the example config', () => {
  let dir: string;
  let child: ChildProcess;
  let discovery: string;
  let agent: Agent;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-start-'));
    child = spawnRelay(['start', '--config', join(REPO, 'config/relay.example.yaml')], {
      cwd: dir,
      env: { RELAY_LISTEN: '127.0.0.1:0', RELAY_DATA_DIR: join(dir, 'data') },
    });
    const match = await waitForStderr(child, /discovery: (https:\/\/\S+)/);
    discovery = match[1] as string;
    agent = new Agent({ connect: { ca: readFileSync(join(dir, 'certs', 'dev-ca.crt'), 'utf8') } });
  });

  afterAll(async () => {
    await agent?.close();
    if (child) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('mints a development CA and server certificate with owner-only keys', () => {
    for (const file of ['dev-ca.crt', 'dev-server.crt', 'dev-server.key', 'dev-ca.key']) {
      expect(existsSync(join(dir, 'certs', file))).toBe(true);
    }
    expect(statSync(join(dir, 'certs', 'dev-server.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'certs', 'dev-ca.key')).mode & 0o777).toBe(0o600);
  });

  it('creates the data directory with the LMDB store', () => {
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

  it('stops cleanly on SIGTERM', async () => {
    expect(await stop(child)).toBe(0);
  });
});
