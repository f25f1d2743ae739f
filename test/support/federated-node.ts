/**
 * Test harness for federation: relay nodes (test nodes, see node.ts) joined over a real
 * nats-server cluster with mutual TLS. One federation CA issues the NATS servers' and the nodes'
 * certificates; every node and every extra signer (a tester, an intruder …) gets a federation
 * signing key; each node trusts the others. Create it at module level, `start()` it in beforeAll
 * and `close()` it in afterAll: close stops whatever a start that failed half-way left running.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { initFederationKey, loadFederationKey, type FederationIdentity } from '../../src/federation/identity.ts';
import { CertificateAuthority } from '../../src/pki/index.ts';
import { startNatsCluster, type RunningNatsServer } from '../federation/nats-server.ts';
import { startTestNodeWith, testConfigData, type TestNode } from './node.ts';

export interface FederationSetup<N extends string, K extends string> {
  /** prefix of the temp directory holding the CA, the keys and the nodes' data directories */
  readonly dirPrefix: string;
  /** the federation's name (its NATS subjects and streams) */
  readonly name: string;
  /** the nodes, one NATS server each (node i connects to server i) */
  readonly nodes: readonly N[];
  /** signers that are not nodes (a tester publishing by hand, an intruder nobody trusts) */
  readonly signers?: readonly K[];
  /** connect a NATS client with the certificate `relay-tester` to the first server */
  readonly tester?: boolean;
  /** each node reaches only its own server: stopping that server cuts the node off */
  readonly noAdvertise?: boolean;
  /** changes a node's configuration after its federation section is built */
  readonly configure?: (data: Record<string, any>, name: N) => void;
}

export class TestFederation<N extends string, K extends string = never> {
  dir = '';
  ca!: CertificateAuthority;
  cluster: RunningNatsServer[] = [];
  readonly keys = {} as Record<N | K, FederationIdentity>;
  tester: NatsConnection | undefined;
  private readonly running = new Map<N, TestNode>();

  constructor(readonly setup: FederationSetup<N, K>) {}

  /** The CA, the keys, a cluster of one server per node, every node, and the tester connection. */
  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), this.setup.dirPrefix));
    this.ca = await CertificateAuthority.init({ dir: join(this.dir, 'pki') }, 'Federation CA');
    const server = await this.ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
    for (const name of [...this.setup.nodes, ...(this.setup.signers ?? [])]) {
      this.keys[name] = await loadFederationKey((await initFederationKey(join(this.dir, 'keys', name, 'federation.key'))).path);
    }
    const tls = { certFile: server.certPath, keyFile: server.keyPath, caFile: this.ca.caCertPath, verify: true };
    this.cluster = await startNatsCluster(this.setup.nodes.length, tls, 30_000, { noAdvertise: this.setup.noAdvertise === true });
    for (const name of this.setup.nodes) await this.startNode(name);
    if (this.setup.tester) {
      const cert = await this.ca.issue('node', 'relay-tester');
      this.tester = await connect({
        servers: [this.server(this.setup.nodes[0] as N).url],
        tls: {
          cert: readFileSync(cert.certPath, 'utf8'),
          key: readFileSync(cert.keyPath, 'utf8'),
          ca: readFileSync(this.ca.caCertPath, 'utf8'),
        },
      });
    }
  }

  /** The NATS server `name` connects to. */
  server(name: N): RunningNatsServer {
    return this.cluster[this.setup.nodes.indexOf(name)] as RunningNatsServer;
  }

  /** Starts `name` (again: its data directory is kept across stops) with a fresh node certificate. */
  async startNode(name: N): Promise<TestNode> {
    const cert = await this.ca.issue('node', `${name}-${Date.now()}`);
    const t = await startTestNodeWith((nodeDir) => {
      const data = testConfigData(join(this.dir, `${name}-data`), join(nodeDir, 'certs')) as Record<string, any>;
      data.node.id = name;
      data.federation = {
        servers: [this.server(name).url],
        tls: { cert: cert.certPath, key: cert.keyPath, ca: this.ca.caCertPath },
        name: this.setup.name,
        key_file: this.keys[name].path,
        peers: this.setup.nodes.filter((n) => n !== name).map((n) => ({ id: n, public_key: this.keys[n].publicKeyPem })),
        stream: { replicas: this.setup.nodes.length },
      };
      this.setup.configure?.(data, name);
      return data;
    });
    this.running.set(name, t);
    return t;
  }

  /** The running node `name`; fails if it is stopped. */
  node(name: N): TestNode {
    const t = this.running.get(name);
    if (!t) throw new Error(`${name} is not running`);
    return t;
  }

  /** The running nodes by name. */
  nodes(): Array<[N, TestNode]> {
    return [...this.running.entries()];
  }

  async stopNode(name: N): Promise<void> {
    await this.node(name).close();
    this.running.delete(name);
  }

  /** Stops the tester connection, every node and every server, and removes the temp directory. */
  async close(): Promise<void> {
    await this.tester?.close();
    await Promise.allSettled([...this.running.values()].map((t) => t.close()));
    this.running.clear();
    await Promise.allSettled(this.cluster.map((s) => s.stop()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
