/** `relay ready`: the container's health check asks the node for /readyz and exits 0 only when ready. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyUrl } from '../../src/cli/ready.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-ready-');
let node: TestNode;
let config: string;
beforeAll(async () => {
  node = await startTestNode();
  config = writeTestConfig(join(dir, 'cli'));
}, 60_000);
afterAll(async () => {
  await node?.close();
  if (node) rmSync(node.dir, { recursive: true, force: true });
  cleanup();
});

describe('relay ready', () => {
  it('reaches a wildcard listen address on loopback', () => {
    expect(readyUrl('0.0.0.0:8443')).toBe('https://127.0.0.1:8443/readyz');
    expect(readyUrl('[::]:9000')).toBe('https://[::1]:9000/readyz');
    expect(readyUrl('relay.example.org:443')).toBe('https://relay.example.org:443/readyz');
  });

  it('exits 0 and prints the answer when the node is ready', async () => {
    const run = await relay(['ready', '--config', config, '--url', `${node.baseUrl}/readyz`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('200 {"ready":true,"checks":{"store":"ok","upstreams":"ok"}}\n');
  });

  it('exits 1 naming the URL when nothing answers', async () => {
    const url = `${node.baseUrl.replace(/:\d+$/, ':1')}/readyz`;
    const run = await relay(['ready', '--config', config, '--url', url, '--timeout', '5s']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`not ready: ${url}`);
  });
});
