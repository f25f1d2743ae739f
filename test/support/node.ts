/**
 * Test harness: a real relay node on an ephemeral loopback port, with real LMDB in a temp
 * directory and TLS from the project's own PKI. Callers must `close()` it (use afterAll).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import { hashSecret } from '../../src/auth/index.ts';
import { type RelayConfig } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startNode, type RelayNode } from '../../src/node.ts';
import { pino } from 'pino';

export const COLLECTIONS = {
  shared: '11111111-1111-4111-8111-111111111111',
  inbox: '22222222-2222-4222-8222-222222222222',
  secret: '33333333-3333-4333-8333-333333333333',
  empty: '44444444-4444-4444-8444-444444444444',
} as const;

/** MITRE ATT&CK's copyright statement marking (on every ATT&CK object). */
export const ATTACK_STATEMENT = 'marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168';

/** Members of the default test config; the secret of each is `${id}-secret`. */
export const MEMBERS = ['alice', 'bob', 'carol'] as const;
export type TestMember = (typeof MEMBERS)[number];

let hashes: Record<string, string> | undefined;
function secretHash(id: string): string {
  hashes ??= Object.fromEntries(MEMBERS.map((m) => [m, hashSecret(`${m}-secret`)]));
  return hashes[id] as string;
}

/** The default test configuration (as plain YAML-shaped data). */
export function testConfigData(dataDir: string, certsDir: string): Record<string, unknown> {
  return {
    node: { id: 'test-node', title: 'Test relay', description: 'relay under test', contact: 'soc@example.org' },
    listen: '127.0.0.1:0',
    data_dir: dataDir,
    tls: { dev_certs_dir: certsDir },
    logging: { level: 'silent' },
    taxii: { default_page_size: 50, max_page_size: 200, max_content_length: 1024 * 1024 },
    // The test node's operator treats unmarked objects as GREEN and maps ATT&CK's copyright
    // statement to CLEAR; test members see up to AMBER (production defaults: AMBER / GREEN).
    policy: { default_tlp: 'green', marking_map: { [ATTACK_STATEMENT]: 'clear' } },
    api_roots: [
      {
        path: 'isac',
        title: 'ISAC sharing',
        description: 'member collections',
        default: true,
        collections: [
          { id: COLLECTIONS.shared, alias: 'shared', title: 'Shared indicators' },
          { id: COLLECTIONS.inbox, alias: 'inbox', title: 'Member inbox' },
          { id: COLLECTIONS.secret, alias: 'secret', title: 'Board only' },
          { id: COLLECTIONS.empty, alias: 'empty', title: 'Empty collection' },
        ],
      },
      { path: 'other', title: 'Another root', collections: [] },
    ],
    members: [
      {
        id: 'alice',
        name: 'Alice Corp',
        credentials: { basic_secret_hash: secretHash('alice'), jwt_subject: 'alice' },
        policy: { tlp_ceiling: 'amber' },
        grants: [
          { api_root: 'isac', collection: 'shared', read: true, write: true },
          { api_root: 'isac', collection: 'inbox', read: true, write: true },
          { api_root: 'isac', collection: 'secret', read: true, write: true },
          { api_root: 'isac', collection: 'empty', read: true, write: true },
        ],
      },
      {
        id: 'bob',
        name: 'Bob Ltd',
        credentials: { basic_secret_hash: secretHash('bob'), jwt_subject: 'bob' },
        policy: { tlp_ceiling: 'amber' },
        grants: [
          { api_root: 'isac', collection: 'shared', read: true, write: false },
          { api_root: 'isac', collection: 'inbox', read: false, write: true },
        ],
      },
      {
        id: 'carol',
        name: 'Carol GmbH',
        credentials: { basic_secret_hash: secretHash('carol') },
        policy: { tlp_ceiling: 'amber' },
        grants: [],
      },
    ],
  };
}

/** Waits (bounded) until the node's re-indexer has derived everything queued: derived attributes are eventually consistent. */
export async function settled(t: TestNode, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const backlog = t.node.reindexer.backlog();
    if (backlog.items === 0 && backlog.jobs.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the re-indexer did not drain within ${timeoutMs} ms: ${JSON.stringify(t.node.reindexer.backlog())}`);
}

export interface TestNode {
  readonly node: RelayNode;
  readonly config: RelayConfig;
  readonly baseUrl: string;
  readonly dir: string;
  /** fetch against the node, trusting its CA; `member` adds Basic credentials */
  request(path: string, init?: RequestInit & { member?: TestMember | null }): Promise<Response>;
  /** GET with the TAXII Accept header and the member's credentials, returning status and JSON */
  get(path: string, member?: TestMember, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export const TAXII = 'application/taxii+json;version=2.1';

export function basicAuth(member: string, secret = `${member}-secret`): string {
  return `Basic ${Buffer.from(`${member}:${secret}`).toString('base64')}`;
}

export async function startTestNode(adjust: (data: Record<string, any>) => void = () => {}): Promise<TestNode> {
  return startTestNodeWith((dir) => {
    const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
    adjust(data);
    return data;
  });
}

/** A test node from configuration data built for its temp directory (data_dir and certificates belong under `dir`). */
export async function startTestNodeWith(build: (dir: string) => Record<string, unknown>): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  const config = parseConfig(build(dir), 'test config');
  const node = await startNode(config, pino({ level: 'silent' }));
  const ca = readFileSync(node.devCaPath ?? join(dir, 'certs', 'dev-ca.crt'), 'utf8');
  const dispatcher = new Agent({ connect: { ca }, keepAliveTimeout: 1000 });
  const request: TestNode['request'] = (path, init = {}) => {
    const { member, ...rest } = init;
    const headers = new Headers(rest.headers as Record<string, string> | undefined);
    if (member) headers.set('authorization', basicAuth(member));
    return fetch(`${node.baseUrl}${path}`, { ...rest, headers, dispatcher });
  };
  return {
    node,
    config,
    baseUrl: node.baseUrl,
    dir,
    request,
    async get(path, member = 'alice', headers = {}) {
      const res = await request(path, { member, headers: { accept: TAXII, ...headers } });
      const text = await res.text();
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: res.status, headers: res.headers as unknown as Headers, body };
    },
    async close() {
      await dispatcher.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
