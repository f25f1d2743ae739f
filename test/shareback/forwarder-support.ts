/**
 * Forwarding tests' parts: the hub (a real second relay node whose `kind: inbox` collection
 * alice may write), a loopback HTTP proxy in front of it that can answer errors for a while and
 * counts what reaches the hub, and the forwarding node's configuration.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import type { RelayConfig } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startTestNode, testConfigData, type TestNode } from '../support/node.ts';

/** The hub's inbox for what member ISACs forward. */
export const HUB_INBOX = '66666666-6666-4666-8666-666666666666';
/** The forwarding node's inbox (forward_to the hub). */
export const LOCAL_INBOX = '77777777-7777-4777-8777-777777777777';
/** The environment variable the forwarding node reads the hub password from. */
export const HUB_SECRET_ENV = 'HUB_SECRET';

export function startHub(): Promise<TestNode> {
  return startTestNode((data) => {
    data.api_roots[0].collections.push({ id: HUB_INBOX, alias: 'submissions', title: 'Member ISAC submissions', kind: 'inbox' });
    data.members[0].grants.push({ api_root: 'isac', collection: 'submissions', read: false, write: true });
  });
}

/** How many versions of `id` the hub's inbox holds. */
export function versionsAtHub(hub: TestNode, id: string): number {
  return hub.node.store.versionsOf(HUB_INBOX, id).length;
}

export interface ForwardingSetup {
  /** discovery or API root URL of the hub (or of the proxy in front of it) */
  readonly url: string;
  /** the hub's CA (https only) */
  readonly caFile?: string;
  readonly user?: string;
  readonly collection?: string;
  readonly batchSize?: number;
  readonly statusTimeout?: string;
  readonly logLevel?: string;
}

/** The forwarding node's configuration data: an inbox that forwards to the hub, as alice. */
export function forwardingConfigData(dir: string, setup: ForwardingSetup): Record<string, any> {
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  const plain = setup.url.startsWith('http://');
  (data.api_roots as any[])[0].collections.push({
    id: LOCAL_INBOX,
    alias: 'share',
    title: 'Share with the hub',
    kind: 'inbox',
    forward_to: { upstream: 'hub', collection: setup.collection ?? 'submissions' },
  });
  data.upstreams = [
    {
      name: 'hub',
      url: setup.url,
      ...(plain ? { insecure_http: true } : { tls: { ca_file: setup.caFile } }),
      auth: { user: setup.user ?? 'alice', password_env: HUB_SECRET_ENV },
      timeouts: { connect: '5s', response: '10s' },
      backoff: { initial: '20ms', max: '200ms', auth_retry: '1h', attempts_per_cycle: 8 },
    },
  ];
  data.shareback = { forwarder: { batch_size: setup.batchSize ?? 10, status_poll: '20ms', status_timeout: setup.statusTimeout ?? '20s' } };
  if (setup.logLevel) data.logging = { level: setup.logLevel };
  return data;
}

export function forwardingConfig(dir: string, setup: ForwardingSetup): RelayConfig {
  return parseConfig(forwardingConfigData(dir, setup), 'forwarding test config');
}

/** A plain-HTTP loopback proxy to the hub: answers `failures` errors first, then passes requests on. */
export interface HubProxy {
  readonly url: string;
  /** the objects (id|version) of each POST that reached the hub, in order */
  readonly delivered: string[];
  /** requests answered with an error by the proxy itself */
  failed: number;
  close(): Promise<void>;
}

export async function startProxy(hub: TestNode, failures: ReadonlyArray<500 | 429> = []): Promise<HubProxy> {
  const ca = readFileSync(hub.node.devCaPath as string, 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  const delivered: string[] = [];
  const queue = [...failures];
  const proxy: HubProxy = { url: '', delivered, failed: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const failure = queue.shift();
        if (failure !== undefined) {
          proxy.failed++;
          res.writeHead(failure, {
            'content-type': 'application/taxii+json;version=2.1',
            ...(failure === 429 ? { 'retry-after': '1' } : {}),
          });
          res.end(JSON.stringify({ title: failure === 429 ? 'Too many requests' : 'Internal error' }));
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const name of ['authorization', 'accept', 'content-type']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const answer = await fetch(`${hub.baseUrl}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(req.method === 'POST' ? { body } : {}),
          dispatcher,
        });
        const text = await answer.text();
        if (req.method === 'POST' && answer.status === 202) {
          for (const o of (JSON.parse(body) as { objects: Array<{ id: string; modified?: string }> }).objects) {
            delivered.push(`${o.id}|${o.modified ?? ''}`);
          }
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })().catch((error: unknown) => {
        res.writeHead(502);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}/isac/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher.close();
    },
  });
}

/** Polls `probe` (bounded) until it returns a value. */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
