/**
 * Anti-entropy and the egress policy between two relay nodes on a real NATS server (JetStream,
 * mutual TLS, loopback): the reconciled set is what a node may send, so a RED version held by
 * one node is never a difference. B, starting after the gossip stream lost what A published,
 * receives A's GREEN version by reconciliation and never the RED one; the next rounds are no-ops
 * (one round trip per collection, nothing sent or received) and withhold nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastReconciliations } from '../../src/federation/anti-entropy.ts';
import { streamName } from '../../src/federation/gossip.ts';
import { initFederationKey, loadFederationKey, type FederationIdentity } from '../../src/federation/identity.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { TLP2 } from '../../src/stix/markings.ts';
import { COLLECTIONS, startTestNode, type TestNode } from '../support/node.ts';
import { indicator } from '../support/stix-fixtures.ts';
import { startNatsServer, type RunningNatsServer } from './nats-server.ts';

const FEDERATION = 'isac-egress';
const NODES = ['relay-a', 'relay-b'] as const;
type NodeName = (typeof NODES)[number];
const SHARED = COLLECTIONS.shared;

let dir: string;
let ca: CertificateAuthority;
let server: RunningNatsServer | undefined;
let tester: NatsConnection | undefined;
const keys = {} as Record<NodeName, FederationIdentity>;
const nodes = new Map<NodeName, TestNode>();

async function startFederatedNode(name: NodeName): Promise<TestNode> {
  const cert = await ca.issue('node', name);
  const t = await startTestNode((data) => {
    data.node.id = name;
    data.data_dir = join(dir, `${name}-data`);
    data.federation = {
      servers: [(server as RunningNatsServer).url],
      tls: { cert: cert.certPath, key: cert.keyPath, ca: ca.caCertPath },
      name: FEDERATION,
      key_file: keys[name].path,
      peers: NODES.filter((n) => n !== name).map((n) => ({ id: n, public_key: keys[n].publicKeyPem })),
      // periodic rounds out of the way: the test says when to reconcile
      reconcile: { interval_seconds: 3600 },
    };
  });
  nodes.set(name, t);
  return t;
}

function node(name: NodeName): TestNode {
  const t = nodes.get(name);
  if (!t) throw new Error(`${name} is not running`);
  return t;
}

async function eventually(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const store = (name: NodeName) => node(name).node.store;
const holds = (name: NodeName, o: Record<string, unknown>) => store(name).latestOf(SHARED, o.id as string) !== undefined;
const withheldRed = () => node('relay-a').node.gossip?.counters().withheld.red ?? 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-anti-entropy-egress-'));
  ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Federation CA');
  const cert = await ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
  for (const name of NODES) keys[name] = await loadFederationKey((await initFederationKey(join(dir, 'keys', name, 'federation.key'))).path);
  server = await startNatsServer({ certFile: cert.certPath, keyFile: cert.keyPath, caFile: ca.caCertPath, verify: true }, 15_000, {
    jetstream: true,
  });
  const testerCert = await ca.issue('node', 'relay-tester');
  tester = await connect({
    servers: [server.url],
    tls: {
      cert: readFileSync(testerCert.certPath, 'utf8'),
      key: readFileSync(testerCert.keyPath, 'utf8'),
      ca: readFileSync(ca.caCertPath, 'utf8'),
    },
  });
}, 60_000);

afterAll(async () => {
  await tester?.close();
  await Promise.allSettled([...nodes.values()].map((t) => t.close()));
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('anti-entropy with a RED version at one node', () => {
  it('B receives the GREEN version, never the RED one, and the next round is a no-op', async () => {
    await startFederatedNode('relay-a');
    const green = indicator(1, 0, { object_marking_refs: [TLP2.green] });
    const red = indicator(2, 0, { object_marking_refs: [TLP2.red] });
    expect(node('relay-a').node.ingestor.ingest(SHARED, [green, red], { source: 'import', detail: 'egress test' }).stored).toBe(2);
    // A's set holds what A may send: the GREEN version alone
    expect(store('relay-a').reconItems.count(SHARED)).toBe(1);
    // what gossip published is gone before B starts (as when the stream's retention expires): only reconciliation can bring it
    await eventually('A published the GREEN version', () => (node('relay-a').node.gossip?.counters().published.versions ?? 0) === 1);
    const jsm = await (tester as NatsConnection).jetstreamManager();
    await jsm.streams.purge(streamName(FEDERATION));

    await startFederatedNode('relay-b');
    await eventually('B holds the GREEN version', () => holds('relay-b', green), 60_000);
    await eventually('B finished its first round', () => (node('relay-b').node.antiEntropy?.counters().rounds ?? 0) >= 1);
    expect(node('relay-b').node.gossip?.counters().received.accepted).toBe(0);
    expect(holds('relay-b', red)).toBe(false);
    const key = store('relay-b').latestOf(SHARED, green.id as string)?.versionKey as string;
    expect(store('relay-b').provenanceOf(SHARED, green.id as string, key)).toEqual([
      expect.objectContaining({ source: 'peer', detail: 'relay-a' }),
    ]);

    // the same sets now, although A holds RED: one round trip per collection, nothing found, nothing withheld
    expect(store('relay-b').reconItems.source(SHARED).summarize('')).toEqual(store('relay-a').reconItems.source(SHARED).summarize(''));
    const withheldBefore = withheldRed();
    await node('relay-b').node.antiEntropy?.reconcileNow();
    const fromB = lastReconciliations(store('relay-b'))['relay-a'];
    expect(fromB).toMatchObject({ ok: true, sent: 0, received: 0 });
    expect(fromB?.rounds).toBe(fromB?.collections);
    await node('relay-a').node.antiEntropy?.reconcileNow();
    const fromA = lastReconciliations(store('relay-a'))['relay-b'];
    expect(fromA).toMatchObject({ ok: true, sent: 0, received: 0 });
    expect(fromA?.rounds).toBe(fromA?.collections);
    expect(withheldRed()).toBe(withheldBefore);
    expect(holds('relay-b', red)).toBe(false);
  }, 180_000);
});
