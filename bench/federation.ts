/**
 * Federation: two relay nodes, each its own LMDB store and gossip key, on a real 3-server
 * nats-server cluster (JetStream, mutual TLS, loopback), started here and stopped at the end.
 * A runs in this process; B in a process of its own (federation-node.ts), so neither node's work
 * holds up the other's event loop.
 *
 * - propagation: A ingests at a steady 1,000 objects/s (10 every 10 ms); each version is timed
 *   from A's commit (A's version-stored event, right after the commit) to its commit at B (B's
 *   version-stored event for the version gossip brought), in epoch milliseconds of sub-millisecond
 *   resolution read in each process from the same system clock.
 * - convergence: B is stopped, A ingests `divergence` versions, the gossip stream is purged (as
 *   its retention expiring would), and B is started again: only anti-entropy can bring them. Timed
 *   from B's start until B holds every version A holds.
 * - no-op and 1,000 differences: the reconciliation protocol over signed messages on two
 *   in-memory sets of `noop` versions (federation-recon.ts); the same exchanges between the real
 *   nodes (at the sizes they hold) are in the notes.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.ts';
import { lastReconciliations, type PeerReconciliation } from '../src/federation/anti-entropy.ts';
import { gossipSubject, streamName } from '../src/federation/gossip.ts';
import { initFederationKey, loadFederationKey, type FederationIdentity } from '../src/federation/identity.ts';
import { MemoryItemSource } from '../src/federation/item-source.ts';
import { startNode, type RelayNode } from '../src/node.ts';
import { CertificateAuthority } from '../src/pki/index.ts';
import { TLP1 } from '../src/stix/markings.ts';
import { startNatsCluster, type RunningNatsServer } from '../test/federation/nats-server.ts';
import { collectGarbage, percentile, round, type BenchContext, type Section } from './context.ts';
import { epochMs, NodeProcess } from './federation-node.ts';
import { bytesPerDifference, reconcileSigned, scatteredIndexes, versionItems, type SignedReconciliation } from './federation-recon.ts';
import { Prng } from './prng.ts';
import { figure, type Figure } from './report.ts';

export const PROPAGATION_TARGET_P99_MS = 250;
export const CONVERGE_TARGET_S = 30;
export const NOOP_TARGET_ROUNDS = 3;
export const NOOP_TARGET_BYTES = 16 * 1024;
export const DIFF_TARGET_ROUNDS = 8;
export const DIFF_TARGET_BYTES_PER_ITEM = 200;
/** differences of the diff1k figures */
const DIFFERENCES = 1000;
/** the propagation pace: BATCH objects every TICK_MS */
const BATCH = 10;
const TICK_MS = 10;
/** objects sent (and waited for) before the timed propagation, not counted */
const WARM_UP = 200;
/** MemoryItemSource holds at most 2^21 items */
const MAX_NOOP = 2_000_000;

const FEDERATION = 'bench';
const COLLECTION = '0e0e0e0e-0000-4000-8000-00000000fed1';
const NODES = ['relay-a', 'relay-b'] as const;
type NodeName = (typeof NODES)[number];

interface Cluster {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly servers: readonly RunningNatsServer[];
  readonly keys: Record<NodeName, FederationIdentity>;
}

/** Node A (in this process) and node B (a process of its own), while they run. */
interface Nodes {
  a: RelayNode | undefined;
  b: NodeProcess | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, polling every `stepMs`, until `done` holds; false when `timeoutMs` passed first. */
async function until(done: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}

/** An AIS-like GREEN indicator, about 700 bytes, distinct for each `n`. */
function indicator(n: number, prng: Prng): Record<string, unknown> {
  const created = new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString();
  const ip = `${10 + (n >>> 24)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--fed00000-${((n >>> 16) & 0xffff).toString(16).padStart(4, '0')}-4000-8000-${(n & 0xffff).toString(16).padStart(12, '0')}`,
    created,
    modified: created,
    created_by_ref: 'identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f02',
    name: `Malicious IP ${ip}`,
    description: `Host ${ip} observed scanning member networks and serving ${prng.pick(['a loader', 'a RAT', 'phishing kits', 'a C2 panel'])}.`,
    indicator_types: ['malicious-activity'],
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: 'stix',
    valid_from: created,
    confidence: prng.int(30, 95),
    labels: ['ais', prng.pick(['scanning', 'c2', 'phishing', 'malware-delivery'])],
    kill_chain_phases: [{ kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: 'command-and-control' }],
    object_marking_refs: [TLP1.green],
  };
}

async function startCluster(ctx: BenchContext): Promise<Cluster> {
  const dir = ctx.tempDir('federation');
  const ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Bench federation CA');
  const server = await ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
  const keys = {} as Record<NodeName, FederationIdentity>;
  for (const name of NODES) keys[name] = await loadFederationKey((await initFederationKey(join(dir, 'keys', name, 'federation.key'))).path);
  const servers = await startNatsCluster(3, { certFile: server.certPath, keyFile: server.keyPath, caFile: ca.caCertPath, verify: true });
  return { dir, ca, servers, keys };
}

/** The configuration of node `name` (as YAML-shaped data), with a fresh NATS client certificate. */
async function nodeConfig(cluster: Cluster, name: NodeName): Promise<Record<string, unknown>> {
  const cert = await cluster.ca.issue('node', `${name}-${Date.now()}`);
  const server = cluster.servers[NODES.indexOf(name)] as RunningNatsServer;
  const home = join(cluster.dir, name);
  const data = {
    node: { id: name, title: `Bench ${name}` },
    listen: '127.0.0.1:0',
    data_dir: join(home, 'data'),
    tls: { dev_certs_dir: join(home, 'certs') },
    logging: { level: 'silent' },
    policy: { default_tlp: 'green' },
    api_roots: [{ path: 'isac', title: 'ISAC', collections: [{ id: COLLECTION, alias: 'shared', title: 'Shared' }] }],
    federation: {
      servers: [server.url],
      tls: { cert: cert.certPath, key: cert.keyPath, ca: cluster.ca.caCertPath },
      name: FEDERATION,
      key_file: cluster.keys[name].path,
      peers: NODES.filter((n) => n !== name).map((n) => ({ id: n, public_key: cluster.keys[n].publicKeyPem })),
      stream: { replicas: 3 },
      // periodic rounds out of the way: the benchmark says when to reconcile
      reconcile: { interval_seconds: 3600 },
    },
  };
  return data;
}

async function startNodeA(cluster: Cluster): Promise<RelayNode> {
  return startNode(parseConfig(await nodeConfig(cluster, 'relay-a'), 'bench relay-a config'), pino({ level: 'silent' }));
}

/** Node B in its own process; `startedAt` is the epoch time just before its start was asked (the process already up). */
async function startNodeB(cluster: Cluster): Promise<{ b: NodeProcess; startedAt: number; startS: number }> {
  const config = await nodeConfig(cluster, 'relay-b');
  const b = NodeProcess.spawn();
  try {
    await b.call({ cmd: 'ping' });
    const startedAt = epochMs();
    await b.call({ cmd: 'start', config });
    return { b, startedAt, startS: (epochMs() - startedAt) / 1000 };
  } catch (error) {
    await b.close();
    throw error;
  }
}

interface Propagation {
  readonly objects: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly missing: number;
  /** objects/s A actually ingested over the timed part */
  readonly achievedPerS: number;
  /** how far the last batch started behind its schedule */
  readonly lateMs: number;
  /** A's ingest calls: median and p99 time of one batch */
  readonly ingestCallP50Ms: number;
  readonly ingestCallP99Ms: number;
  /** per second of sending: p50 and max latency of the versions committed at A in it (a backlog shows as growth) */
  readonly bySecond: ReadonlyArray<{ readonly second: number; readonly p50Ms: number; readonly maxMs: number }>;
  /** envelopes B accepted for the timed versions (versions per envelope = objects / envelopes) */
  readonly envelopes: number;
  /**
   * the same latencies split where the envelope was seen on the gossip subject (a core NATS
   * subscription beside the stream): A's commit to its envelope reaching the servers, and from
   * there to B's commit; p50 and p99 of each
   */
  readonly toSubject: { readonly p50Ms: number | null; readonly p99Ms: number | null };
  readonly fromSubject: { readonly p50Ms: number | null; readonly p99Ms: number | null };
}

const p = (values: readonly number[], at: number): number | null => (values.length ? round(percentile(values, at), 1) : null);

/** A ingests `count` objects, BATCH every TICK_MS; each is timed from A's commit to B's. */
async function measurePropagation(a: RelayNode, b: NodeProcess, first: number, count: number, prng: Prng): Promise<Propagation> {
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  /** the second of sending each latency belongs to */
  const seconds: number[] = [];
  let started = 0;
  let counting = false;
  const onSubject = new Map<string, number>();
  const toSubject: number[] = [];
  const fromSubject: number[] = [];
  const subscription = a.federation?.subscribe(gossipSubject(FEDERATION, 'relay-a'), {
    callback: (error, msg) => {
      if (error) return;
      const now = epochMs();
      const payload = JSON.parse(Buffer.from(msg.string().split('.')[1] ?? '', 'base64url').toString()) as {
        versions?: Array<{ id: string }>;
      };
      for (const v of payload.versions ?? []) onSubject.set(v.id, now);
    },
  });
  const offA = a.ingestor.onVersionStored((v) => {
    if (v.collection === COLLECTION && v.provenance.source === 'import') committedAt.set(v.id, epochMs());
  });
  await b.watch(COLLECTION, (items) => {
    for (const [id, now] of items) {
      const at = committedAt.get(id);
      if (at === undefined) continue;
      const seen = onSubject.get(id);
      if (counting) {
        latencies.push(now - at);
        seconds.push(Math.floor((at - started) / 1000));
        if (seen !== undefined) {
          toSubject.push(seen - at);
          fromSubject.push(now - seen);
        }
      }
      committedAt.delete(id);
      onSubject.delete(id);
    }
  });
  const ingest = (objects: unknown[]) => a.ingestor.ingest(COLLECTION, objects, { source: 'import', detail: 'bench propagation' });
  try {
    // warm-up: connections, JIT, the consumer's first pull
    const warm = Array.from({ length: WARM_UP }, (_, i) => indicator(first + i, prng));
    for (let i = 0; i < warm.length; i += BATCH) {
      ingest(warm.slice(i, i + BATCH));
      await sleep(TICK_MS);
    }
    await until(() => committedAt.size === 0, 60_000);
    committedAt.clear();

    const objects = Array.from({ length: count }, (_, i) => indicator(first + WARM_UP + i, prng));
    const calls: number[] = [];
    const envelopesBefore = (await b.status(COLLECTION)).accepted;
    counting = true;
    started = epochMs();
    let lateMs = 0;
    for (let i = 0, tick = 0; i < objects.length; i += BATCH, tick++) {
      const due = started + tick * TICK_MS;
      const wait = due - epochMs();
      // behind schedule, the next batch still waits its turn behind I/O: gossip must get to publish
      if (wait > 0) await sleep(wait);
      else {
        lateMs = -wait;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const t = performance.now();
      ingest(objects.slice(i, i + BATCH));
      calls.push(performance.now() - t);
    }
    const elapsed = epochMs() - started;
    await until(() => latencies.length >= count, 60_000);
    const bySecond = new Map<number, number[]>();
    latencies.forEach((ms, i) => {
      const second = seconds[i] as number;
      bySecond.set(second, [...(bySecond.get(second) ?? []), ms]);
    });
    return {
      objects: count,
      p50Ms: p(latencies, 50),
      p99Ms: p(latencies, 99),
      maxMs: latencies.length ? round(Math.max(...latencies), 1) : null,
      missing: count - latencies.length,
      achievedPerS: round((count / elapsed) * 1000),
      lateMs: round(lateMs, 1),
      ingestCallP50Ms: round(percentile(calls, 50), 2),
      ingestCallP99Ms: round(percentile(calls, 99), 2),
      bySecond: [...bySecond].map(([second, list]) => ({
        second,
        p50Ms: round(percentile(list, 50), 1),
        maxMs: round(Math.max(...list), 1),
      })),
      envelopes: (await b.status(COLLECTION)).accepted - envelopesBefore,
      toSubject: { p50Ms: p(toSubject, 50), p99Ms: p(toSubject, 99) },
      fromSubject: { p50Ms: p(fromSubject, 50), p99Ms: p(fromSubject, 99) },
    };
  } finally {
    subscription?.unsubscribe();
    offA();
  }
}

interface Convergence {
  readonly divergence: number;
  /** from B's start until B holds every version A holds; null when it did not within the wait */
  readonly seconds: number | null;
  /** of which: until B's startNode returned (its anti-entropy starts inside it) */
  readonly nodeStartS: number;
  /** A's ingest of the divergence (B stopped) */
  readonly loadS: number;
  readonly heldByA: number;
  readonly heldByB: number;
  /** B's record of the reconciliation with A */
  readonly record: PeerReconciliation | null;
}

/** B stopped; A ingests `divergence`; the stream purged; B started again; timed until B holds all. */
async function measureConvergence(
  cluster: Cluster,
  nodes: Nodes,
  first: number,
  divergence: number,
  prng: Prng,
  ctx: BenchContext,
): Promise<Convergence> {
  const a = nodes.a as RelayNode;
  await nodes.b?.close();
  nodes.b = undefined;
  const publishedBefore = a.gossip?.counters().published.versions ?? 0;
  const t0 = performance.now();
  const chunk = 1000;
  for (let at = 0; at < divergence; at += chunk) {
    const objects = Array.from({ length: Math.min(chunk, divergence - at) }, (_, i) => indicator(first + at + i, prng));
    a.ingestor.ingest(COLLECTION, objects, { source: 'import', detail: 'bench divergence' });
    if ((at / chunk) % 10 === 9) ctx.progress(`federation: A holds ${at + chunk} of the ${divergence} versions B will lack`);
    // let gossip publish as it goes, as it would between import batches
    await sleep(0);
  }
  const loadS = (performance.now() - t0) / 1000;
  // every envelope in the stream first, then gone from it: gossip cannot bring them to B
  await until(() => (a.gossip?.counters().published.versions ?? 0) - publishedBefore >= divergence, 600_000, 50);
  const jsm = await (a.federation as NonNullable<RelayNode['federation']>).jetstreamManager();
  await jsm.streams.purge(streamName(FEDERATION));
  const heldByA = a.store.index.count(COLLECTION);

  ctx.progress(`federation: starting B, which lacks ${divergence} versions the stream no longer holds`);
  const { b, startedAt, startS } = await startNodeB(cluster);
  nodes.b = b;
  const reached = await b.waitCount(COLLECTION, heldByA, 900_000);
  for (let look = 0; look < 1200 && (await b.status(COLLECTION)).rounds < 1; look++) await sleep(50);
  return {
    divergence,
    seconds: reached === null ? null : round((reached - startedAt) / 1000, 2),
    nodeStartS: round(startS, 2),
    loadS: round(loadS, 1),
    heldByA,
    heldByB: (await b.status(COLLECTION)).count,
    record: await b.record('relay-a'),
  };
}

interface ReconFigures {
  readonly versions: number;
  readonly buildS: number;
  readonly noop: SignedReconciliation;
  readonly diff: SignedReconciliation;
  readonly bytesPerItem: number | null;
}

/** The protocol on two in-memory sets of `versions` items: equal, then B lacking DIFFERENCES of A's. */
async function measureReconciliation(versions: number, keys: Record<NodeName, FederationIdentity>, seed: number): Promise<ReconFigures> {
  const t0 = performance.now();
  const full = MemoryItemSource.of(versionItems(versions, seed));
  const buildS = (performance.now() - t0) / 1000;
  const sideA = { nodeId: 'relay-a', identity: keys['relay-a'] };
  const sideB = { nodeId: 'relay-b', identity: keys['relay-b'] };
  // B initiates (as a node back from an outage does); A answers
  const noop = await reconcileSigned({ side: sideB, source: full }, { side: sideA, source: full }, COLLECTION);
  const lacking = lackingSource(full, versions, seed + 1);
  const diff = await reconcileSigned({ side: sideB, source: lacking }, { side: sideA, source: full }, COLLECTION);
  return { versions, buildS: round(buildS, 1), noop, diff, bytesPerItem: bytesPerDifference(diff.bytes, noop.bytes, DIFFERENCES) };
}

/** The full set without DIFFERENCES scattered items. */
function lackingSource(full: MemoryItemSource, versions: number, seed: number): MemoryItemSource {
  const drop = scatteredIndexes(versions, DIFFERENCES, seed);
  let i = 0;
  return full.filter(() => !drop.has(i++));
}

export const federationSection: Section = {
  name: 'federation',
  title: 'Federation: gossip propagation and anti-entropy (two nodes, 3-server NATS cluster on loopback)',
  async run(ctx) {
    const { objects, divergence, noop: noopVersions } = ctx.settings.federation;
    if (noopVersions > MAX_NOOP) throw new Error(`BENCH_FEDERATION_NOOP must be at most ${MAX_NOOP}, got ${noopVersions}`);
    const prng = new Prng(ctx.settings.seed);
    const notes: string[] = [];
    const details: Record<string, unknown> = { objects, divergence, noopVersions, differences: DIFFERENCES };

    ctx.progress('federation: starting a 3-server NATS cluster and nodes A and B');
    const cluster = await startCluster(ctx);
    const nodes: Nodes = { a: undefined, b: undefined };
    let propagation: Propagation | undefined;
    let convergence: Convergence | undefined;
    let liveNoop: PeerReconciliation | undefined;
    try {
      const a = await startNodeA(cluster);
      nodes.a = a;
      const b = (await startNodeB(cluster)).b;
      nodes.b = b;
      // both first rounds done: A's (retried until B answered) and B's
      await until(() => lastReconciliations(a.store)['relay-b']?.ok === true, 90_000, 50);
      for (let look = 0; look < 1800 && (await b.status(COLLECTION)).rounds < 1; look++) await sleep(50);

      ctx.progress(`federation: propagation, ${objects} objects at 1,000/s into A`);
      propagation = await measurePropagation(a, b, 1, objects, prng);
      details.propagation = propagation;

      ctx.progress(`federation: divergence of ${divergence} versions (B stopped, stream purged)`);
      convergence = await measureConvergence(cluster, nodes, 1_000_000, divergence, prng, ctx);
      details.convergence = convergence;

      // the same sets now: a no-op between the real nodes, over NATS
      const bNow = nodes.b as NodeProcess;
      liveNoop = (await bNow.reconcile('relay-a')) ?? undefined;
      details.liveNoop = { versions: (await bNow.status(COLLECTION)).count, record: liveNoop };
    } finally {
      await Promise.allSettled([nodes.a?.close(), nodes.b?.close()]);
      await Promise.allSettled(cluster.servers.map((s) => s.stop()));
    }

    if (!propagation || !convergence) throw new Error('federation: the measurements on the nodes did not run');
    collectGarbage();
    ctx.progress(`federation: reconciliation protocol on two sets of ${noopVersions} versions`);
    const recon = await measureReconciliation(noopVersions, cluster.keys, ctx.settings.seed);
    details.reconciliation = recon;

    const figures: Figure[] = [
      figure(
        'federation.propagation_p50_ms',
        'propagation A → B at 1,000 objects/s, p50 (commit at A to commit at B)',
        propagation.p50Ms,
        'ms',
      ),
      figure('federation.propagation_p99_ms', 'propagation A → B at 1,000 objects/s, p99', propagation.p99Ms, 'ms', {
        target: { op: '<=', value: PROPAGATION_TARGET_P99_MS },
        note: `${propagation.objects} objects (after ${WARM_UP} for warm-up), ${propagation.achievedPerS} objects/s achieved, max ${String(propagation.maxMs)} ms, ${propagation.missing} not at B within 60 s; A's ingest call of ${BATCH}: p50 ${propagation.ingestCallP50Ms} ms, p99 ${propagation.ingestCallP99Ms} ms; A's commit to its envelope on the gossip subject p50 ${String(propagation.toSubject.p50Ms)} / p99 ${String(propagation.toSubject.p99Ms)} ms, from there to B's commit ${String(propagation.fromSubject.p50Ms)} / ${String(propagation.fromSubject.p99Ms)} ms; ${propagation.envelopes} envelopes`,
      }),
      figure(
        'federation.converge_100k_s',
        `convergence after a divergence of ${divergence.toLocaleString('en-US')} versions`,
        convergence.seconds,
        's',
        {
          target: { op: '<=', value: CONVERGE_TARGET_S },
          note: `from B's start (startNode took ${convergence.nodeStartS} s) until B holds all ${convergence.heldByA} versions A holds (B: ${convergence.heldByB}); B's session with A: ${String(convergence.record?.rounds)} round(s), ${String(convergence.record?.bytes)} bytes of signed session messages, ${String(convergence.record?.received)} versions received through the single ingest path, ${String(convergence.record?.durationMs)} ms in all (session, fetches, ingest)`,
        },
      ),
      figure(
        'federation.noop_rounds',
        `no-op reconciliation, both holding ${noopVersions.toLocaleString('en-US')} versions: round trips`,
        recon.noop.rounds,
        'round trips',
        {
          target: { op: '<=', value: NOOP_TARGET_ROUNDS },
        },
      ),
      figure('federation.noop_bytes', 'no-op reconciliation: bytes of signed session messages, both ways', recon.noop.bytes, 'B', {
        target: { op: '<=', value: NOOP_TARGET_BYTES },
        note: `anti-entropy adds ${recon.noop.fetches} fetch exchange (${recon.noop.fetchFramingBytes} B) to learn nothing is missing`,
      }),
      figure(
        'federation.diff1k_rounds',
        `${DIFFERENCES.toLocaleString('en-US')} differences in ${noopVersions.toLocaleString('en-US')} versions: round trips`,
        recon.diff.rounds,
        'round trips',
        {
          target: { op: '<=', value: DIFF_TARGET_ROUNDS },
        },
      ),
      figure(
        'federation.diff1k_bytes_per_item',
        `${DIFFERENCES.toLocaleString('en-US')} differences: session bytes per difference beyond the no-op`,
        recon.bytesPerItem === null ? null : round(recon.bytesPerItem, 1),
        'B',
        {
          target: { op: '<=', value: DIFF_TARGET_BYTES_PER_ITEM },
          note: `${recon.diff.bytes} B of signed session messages (${round(recon.diff.bytes / DIFFERENCES, 1)} per difference before taking off the no-op's ${recon.noop.bytes} B; ${recon.diff.reconBytes} B unsigned); then ${recon.diff.fetches} fetch exchanges carry the versions; found ${recon.diff.responderFound} of ${DIFFERENCES}`,
        },
      ),
    ];
    notes.push(
      `no-op and 1,000 differences: the reconciliation code (reconcile.ts) on two in-memory sets of ${noopVersions.toLocaleString('en-US')} versions, every message signed and verified as anti-entropy sends it (recon-wire.ts), no network (sets built in ${recon.buildS} s; sessions ${round(recon.noop.ms)} ms and ${round(recon.diff.ms)} ms)`,
    );
    if (liveNoop) {
      notes.push(
        `between the real nodes over NATS after converging (${String((details.liveNoop as { versions: number }).versions)} versions each): a no-op took ${liveNoop.rounds} round trip(s), ${liveNoop.bytes} B, ${liveNoop.durationMs} ms`,
      );
    }
    if (propagation.achievedPerS < (0.95 * (1000 * BATCH)) / TICK_MS) {
      notes.push(
        `A could not keep the pace of 1,000 objects/s: it ingested ${propagation.achievedPerS}/s (the last batch started ${propagation.lateMs} ms behind schedule); the latencies are at that rate`,
      );
    }
    if (recon.diff.responderFound !== DIFFERENCES || recon.diff.initiatorFound !== 0) {
      notes.push(`WARNING: the session found ${recon.diff.responderFound} + ${recon.diff.initiatorFound} differences, not ${DIFFERENCES}`);
    }
    notes.push('A runs in the benchmark process, B in its own; the three nats-servers run beside them on the same cores');
    return { figures, details, notes };
  },
};
