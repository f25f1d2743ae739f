/**
 * Serving: a real node over HTTPS, one client.
 *
 * Setup (not measured): one store with a large collection (BENCH_SERVE objects) and a small
 * one (BENCH_SERVE_SMALL), generated and ingested through the Ingestor with a large batch size.
 * The node then starts in a child process (serve-worker.ts) on that data directory, so that its
 * resident memory is its own. This process is the client: one undici Agent, keep-alive, one
 * connection, trusting the node's development CA, HTTP Basic credentials of a member.
 *
 * Measured:
 *   - paging the whole large collection with limit=N following `next`, twice: with
 *     match[version]=all (every stored version) and with the default query (latest versions);
 *   - page latency at random positions (added_after = date_added of a random existing entry)
 *     in the small and in the large collection, interleaved;
 *   - a sparse member view: a member of one rare sector (about 1% of the large collection, its
 *     exact share measured by paging its manifest) against the member who sees every sector,
 *     page latency at random positions of each one's own view, interleaved (issue 4: the sparse
 *     view should cost about what the full one costs per page, target within 2x);
 *   - the node's resident memory after all that (RSS, and anonymous RSS without LMDB's map).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { hashSecret } from '../src/auth/index.ts';
import { type RelayConfig } from '../src/config/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { Ingestor } from '../src/ingest/index.ts';
import { openStore } from '../src/node.ts';
import { formatTaxiiTimestamp } from '../src/stix/time.ts';
import { percentile, round, type BenchContext, type Section } from './context.ts';
import { CorpusGenerator, RARE_SECTOR, type CorpusStats } from './corpus.ts';
import { Prng } from './prng.ts';
import { figure, type Figure, type SectionOutcome } from './report.ts';
import type { WorkerCommand, WorkerEvent, WorkerStats } from './serve-worker.ts';

export const SERVE_TARGET_OBJECTS_PER_S = 50_000;
export const LATENCY_TARGET_RATIO = 1.5;
export const RSS_TARGET_MB = 300;
/** issue 4: a 1%-selectivity member view pages within 2x of an unfiltered one */
export const SPARSE_VIEW_TARGET_RATIO = 2;

const API_ROOT = 'bench';
const BIG = 'b1b1b1b1-0000-4000-8000-000000000001';
const SMALL = 'b1b1b1b1-0000-4000-8000-000000000002';
const MEMBER = 'bench';
const SECRET = 'bench-secret';
/** the member of the rare sector only: the sparse view */
const SPARSE_MEMBER = 'bench-sparse';
const SPARSE_SECRET = 'bench-sparse-secret';
const TAXII = 'application/taxii+json;version=2.1';
const WARMUP_FETCHES = 10;

function configData(dir: string, pageLimit: number): Record<string, unknown> {
  return {
    node: { id: 'bench-node', title: 'Benchmark relay' },
    listen: '127.0.0.1:0',
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    logging: { level: 'silent' },
    taxii: { default_page_size: 100, max_page_size: Math.max(1000, pageLimit) },
    api_roots: [
      {
        path: API_ROOT,
        title: 'Benchmark',
        default: true,
        collections: [
          { id: BIG, alias: 'big', title: 'Large collection' },
          { id: SMALL, alias: 'small', title: 'Small collection' },
        ],
      },
    ],
    members: [
      {
        id: MEMBER,
        name: 'Benchmark member',
        credentials: { basic_secret_hash: hashSecret(SECRET) },
        // the widest view a member can have: every sector, up to AMBER (AMBER+STRICT and RED
        // are never redistributed)
        policy: { tlp_ceiling: 'amber', unscoped: true },
        grants: [
          { api_root: API_ROOT, collection: 'big', read: true },
          { api_root: API_ROOT, collection: 'small', read: true },
        ],
      },
      {
        id: SPARSE_MEMBER,
        name: 'Benchmark member of one rare sector',
        credentials: { basic_secret_hash: hashSecret(SPARSE_SECRET) },
        policy: { tlp_ceiling: 'amber', sectors: [RARE_SECTOR], unscoped: false },
        grants: [{ api_root: API_ROOT, collection: 'big', read: true }],
      },
    ],
  };
}

// ---- setup

export interface Populated {
  /** date_added of every stored version, in ingest order (ascending) */
  readonly dateAdded: Float64Array;
  readonly stored: number;
  readonly rejected: number;
  readonly stats: CorpusStats;
  readonly seconds: number;
  /** true when the deadline cut the collection short */
  readonly truncated: boolean;
}

/**
 * Generates and ingests `count` objects into `collection`, in chunks sized to take about 15 s
 * each (at most the setup batch size), stopping early after the deadline (performance.now()).
 */
export function populate(
  ctx: BenchContext,
  ingestor: Ingestor,
  collection: string,
  count: number,
  seed: number,
  deadline = Infinity,
): Populated {
  const maxChunk = ctx.settings.serve.setupBatchSize;
  const gen = new CorpusGenerator(seed);
  const dateAdded = new Float64Array(count);
  let stored = 0;
  let rejected = 0;
  let reported = 0;
  let chunk = Math.min(maxChunk, 10_000);
  const t0 = performance.now();
  let done = 0;
  while (done < count) {
    if (performance.now() > deadline) break;
    const c0 = performance.now();
    const objects = gen.take(Math.min(chunk, count - done));
    const report = ingestor.ingest(collection, objects, { source: 'import', detail: 'bench-setup' }, { batchSize: objects.length });
    for (const o of report.outcomes) if (o.kind === 'stored') dateAdded[stored++] = o.dateAdded;
    rejected += report.rejected;
    done += objects.length;
    const perS = objects.length / Math.max(0.001, (performance.now() - c0) / 1000);
    chunk = Math.max(2000, Math.min(maxChunk, Math.round(perS * 15)));
    if (done - reported >= 100_000 || done === count || performance.now() > deadline) {
      reported = done;
      const s = (performance.now() - t0) / 1000;
      ctx.progress(
        `serve setup: ${done.toLocaleString('en-US')}/${count.toLocaleString('en-US')} objects (${Math.round(done / s).toLocaleString('en-US')}/s incl. generation; last chunk ${Math.round(perS).toLocaleString('en-US')}/s)`,
      );
    }
  }
  return {
    dateAdded: dateAdded.subarray(0, stored),
    stored,
    rejected,
    stats: gen.stats,
    seconds: (performance.now() - t0) / 1000,
    truncated: done < count,
  };
}

// ---- the serving process

export class ServingProcess {
  private readonly pending: Array<(e: WorkerEvent) => void> = [];
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (e: WorkerEvent) => {
      const resolve = this.pending.shift();
      if (resolve) resolve(e);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const resolve of this.pending.splice(0)) {
        resolve({ event: 'error', message: `serving process exited (code ${String(code)}, signal ${String(signal)})` });
      }
    });
  }

  /** the serving process's id (for /proc/<pid>/status) */
  get pid(): number | undefined {
    return this.child.pid;
  }

  static spawn(): ServingProcess {
    const extra = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
    const child = fork(new URL('./serve-worker.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...extra],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ServingProcess(child);
  }

  /** Sends a command and waits for the worker's answer; an error event becomes an exception. */
  call(command: WorkerCommand): Promise<WorkerEvent> {
    if (this.exited) return Promise.reject(new Error('serving process is not running'));
    return new Promise((resolve, reject) => {
      this.pending.push((e) => (e.event === 'error' ? reject(new Error(e.message)) : resolve(e)));
      this.child.send(command);
    });
  }

  async stats(gc = false, resetLoopDelay = false): Promise<WorkerStats> {
    const e = await this.call({ cmd: 'stats', gc, resetLoopDelay });
    if (e.event !== 'stats') throw new Error(`unexpected answer ${e.event}`);
    return e.stats;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await Promise.race([this.call({ cmd: 'close' }), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {
      // already reported
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- the client

interface Page {
  readonly ms: number;
  readonly parseMs: number;
  readonly objects: number;
  readonly more: boolean;
  readonly next: string | undefined;
  readonly bytes: number;
}

class Client {
  readonly agent: Agent;
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    ca: string,
    member = MEMBER,
    secret = SECRET,
  ) {
    this.authorization = `Basic ${Buffer.from(`${member}:${secret}`).toString('base64')}`;
    this.agent = new Agent({ connect: { ca }, connections: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
  }

  /** GET a path; the time is until the whole body is received (not parsed). */
  async get(path: string): Promise<{ ms: number; text: string }> {
    const t0 = performance.now();
    const res = await request(`${this.baseUrl}${path}`, {
      dispatcher: this.agent,
      headers: { accept: TAXII, authorization: this.authorization },
    });
    const text = await res.body.text();
    const ms = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return { ms, text };
  }

  async page(collection: string, params: Record<string, string>): Promise<Page> {
    const query = new URLSearchParams(params).toString();
    const { ms, text } = await this.get(`/${API_ROOT}/collections/${collection}/objects/?${query}`);
    const p0 = performance.now();
    const envelope = JSON.parse(text) as { more?: boolean; next?: string; objects?: unknown[] };
    const parseMs = performance.now() - p0;
    return { ms, parseMs, objects: envelope.objects?.length ?? 0, more: envelope.more === true, next: envelope.next, bytes: text.length };
  }

  /** Every date_added of the collection's manifest as this member sees it (default query). */
  async manifestDates(collection: string, limit: number, maxPages: number): Promise<{ dates: string[]; pages: number; seconds: number }> {
    const dates: string[] = [];
    let next: string | undefined;
    const t0 = performance.now();
    for (let pages = 1; ; pages++) {
      const query = new URLSearchParams({ limit: String(limit), ...(next !== undefined ? { next } : {}) }).toString();
      const { text } = await this.get(`/${API_ROOT}/collections/${collection}/manifest/?${query}`);
      const manifest = JSON.parse(text) as { more?: boolean; next?: string; objects?: Array<{ date_added: string }> };
      for (const record of manifest.objects ?? []) dates.push(record.date_added);
      if (manifest.more !== true) return { dates, pages, seconds: (performance.now() - t0) / 1000 };
      if (manifest.next === undefined) throw new Error('manifest: more: true without next');
      if (pages >= maxPages) throw new Error(`manifest: still more after ${maxPages} pages`);
      next = manifest.next;
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

interface PagingResult {
  readonly objects: number;
  readonly pages: number;
  readonly seconds: number;
  readonly objectsPerS: number;
  readonly clientParseS: number;
  /** CPU time of the client process (this one) while paging */
  readonly clientCpuS: number;
  /** CPU time of the serving process while paging */
  readonly serverCpuS: number;
  readonly serverCpuMsPerPage: number;
  readonly pageMs: { p50: number; p99: number; max: number };
  readonly megabytes: number;
}

async function pageThrough(
  ctx: BenchContext,
  client: Client,
  server: ServingProcess,
  collection: string,
  extra: Record<string, string>,
  maxPages: number,
): Promise<PagingResult> {
  const limit = String(ctx.settings.serve.pageLimit);
  const before = await server.stats();
  const times: number[] = [];
  let objects = 0;
  let parseMs = 0;
  let bytes = 0;
  let next: string | undefined;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (;;) {
    const page = await client.page(collection, { ...extra, limit, ...(next !== undefined ? { next } : {}) });
    times.push(page.ms);
    objects += page.objects;
    parseMs += page.parseMs;
    bytes += page.bytes;
    if (!page.more) break;
    if (page.next === undefined) throw new Error('more: true without next');
    if (times.length >= maxPages) throw new Error(`still more after ${maxPages} pages (${objects} objects)`);
    next = page.next;
    if (times.length % 200 === 0) ctx.progress(`  … ${times.length} pages, ${objects.toLocaleString('en-US')} objects`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(c0);
  const after = await server.stats();
  const serverCpuMs = after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs;
  return {
    objects,
    pages: times.length,
    seconds: round(seconds, 2),
    objectsPerS: round(objects / seconds),
    clientParseS: round(parseMs / 1000, 2),
    clientCpuS: round((clientCpu.user + clientCpu.system) / 1e6, 2),
    serverCpuS: round(serverCpuMs / 1000, 2),
    serverCpuMsPerPage: round(serverCpuMs / times.length, 1),
    pageMs: { p50: round(percentile(times, 50), 1), p99: round(percentile(times, 99), 1), max: round(Math.max(...times), 1) },
    megabytes: round(bytes / 1024 / 1024, 1),
  };
}

interface LatencyResult {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** objects per page: the minimum seen (pages at random positions should be full) */
  readonly minObjects: number;
}

function summarize(ms: readonly number[], objects: readonly number[]): LatencyResult {
  return {
    samples: ms.length,
    p50: round(percentile(ms, 50), 2),
    p90: round(percentile(ms, 90), 2),
    p99: round(percentile(ms, 99), 2),
    max: round(Math.max(...ms), 2),
    mean: round(ms.reduce((a, b) => a + b, 0) / ms.length, 2),
    minObjects: Math.min(...objects),
  };
}

/** Page fetches at random positions, alternating between the two collections. */
async function latency(
  ctx: BenchContext,
  client: Client,
  small: Populated,
  big: Populated,
): Promise<{ small: LatencyResult; big: LatencyResult }> {
  const { pageLimit, latencySamples } = ctx.settings.serve;
  const rng = new Prng(ctx.settings.seed ^ 0x1a7e);
  const at = (p: Populated) => {
    // a position with two pages of entries after it (policy filters some out), when the
    // collection has that many
    const span = Math.max(1, p.dateAdded.length - 2 * pageLimit);
    return formatTaxiiTimestamp(p.dateAdded[rng.int(0, span - 1)] as number);
  };
  const fetchAt = (collection: string, p: Populated) => client.page(collection, { added_after: at(p), limit: String(pageLimit) });
  const cols = [
    { id: SMALL, data: small, ms: [] as number[], objects: [] as number[] },
    { id: BIG, data: big, ms: [] as number[], objects: [] as number[] },
  ];
  for (let i = 0; i < WARMUP_FETCHES; i++) for (const c of cols) await fetchAt(c.id, c.data);
  for (let i = 0; i < latencySamples; i++) {
    for (const c of i % 2 === 0 ? cols : [...cols].reverse()) {
      const page = await fetchAt(c.id, c.data);
      c.ms.push(page.ms);
      c.objects.push(page.objects);
    }
  }
  const [s, b] = cols as [(typeof cols)[0], (typeof cols)[0]];
  return { small: summarize(s.ms, s.objects), big: summarize(b.ms, b.objects) };
}

interface SparseResult {
  readonly full: LatencyResult;
  readonly sparse: LatencyResult;
  /** objects each member receives by default (latest versions it may see) */
  readonly fullObjects: number;
  readonly sparseObjects: number;
  readonly manifestPages: number;
  readonly manifestSeconds: number;
}

/**
 * The sparse member's view against the full one, on the large collection: page latency at
 * random positions of each member's own view (a date_added it was served, with at least one
 * full page after it), interleaved.
 */
async function sparseLatency(ctx: BenchContext, full: Client, sparse: Client, big: Populated, fullObjects: number): Promise<SparseResult> {
  const { pageLimit, latencySamples } = ctx.settings.serve;
  const { dates, pages, seconds } = await sparse.manifestDates(BIG, pageLimit, Math.ceil(big.stored / pageLimit) + 10);
  if (dates.length === 0) throw new Error(`the sparse view is empty: no object of the collection is in sector "${RARE_SECTOR}"`);
  // positions with a full page after them, when the view is that large (smoke runs are not)
  const sparseSpan = Math.max(1, dates.length - pageLimit);
  const rng = new Prng(ctx.settings.seed ^ 0x5a75);
  const fullSpan = Math.max(1, big.dateAdded.length - 2 * pageLimit);
  const views = [
    {
      client: full,
      at: () => formatTaxiiTimestamp(big.dateAdded[rng.int(0, fullSpan - 1)] as number),
      ms: [] as number[],
      objects: [] as number[],
    },
    { client: sparse, at: () => dates[rng.int(0, sparseSpan - 1)] as string, ms: [] as number[], objects: [] as number[] },
  ];
  const fetchAt = (v: (typeof views)[0]) => v.client.page(BIG, { added_after: v.at(), limit: String(pageLimit) });
  for (let i = 0; i < WARMUP_FETCHES; i++) for (const v of views) await fetchAt(v);
  for (let i = 0; i < latencySamples; i++) {
    for (const v of i % 2 === 0 ? views : [...views].reverse()) {
      const page = await fetchAt(v);
      v.ms.push(page.ms);
      v.objects.push(page.objects);
    }
  }
  const [f, sp] = views as [(typeof views)[0], (typeof views)[0]];
  return {
    full: summarize(f.ms, f.objects),
    sparse: summarize(sp.ms, sp.objects),
    fullObjects,
    sparseObjects: dates.length,
    manifestPages: pages,
    manifestSeconds: round(seconds, 2),
  };
}

// ---- the section

export const serveSection: Section = {
  name: 'serve',
  title: 'Serving (real node over HTTPS, one client, HTTP Basic)',
  async run(ctx: BenchContext): Promise<SectionOutcome> {
    const { objects: bigCount, smallObjects, pageLimit } = ctx.settings.serve;
    const dir = ctx.tempDir('serve');
    const data = configData(dir, pageLimit);
    const config: RelayConfig = parseConfig(data, 'bench config');
    // Started now, so the node loads the same sources as the setup below (src/ may be edited
    // while the benchmark runs); it waits idle until the store is built.
    const server = ServingProcess.spawn();
    try {
      return await measure(ctx, server, dir, data, config, bigCount, smallObjects, pageLimit);
    } finally {
      await server.close();
      ctx.removeTemp(dir);
    }
  },
};

async function measure(
  ctx: BenchContext,
  server: ServingProcess,
  dir: string,
  data: Record<string, unknown>,
  config: RelayConfig,
  bigCount: number,
  smallObjects: number,
  pageLimit: number,
): Promise<SectionOutcome> {
  // setup: both collections in one store, through the ingestor
  const store = openStore(config);
  let small: Populated;
  let big: Populated;
  try {
    const ingestor = new Ingestor(store);
    const deadline = performance.now() + ctx.settings.serve.setupBudgetS * 1000;
    ctx.progress(`serve setup: ${smallObjects.toLocaleString('en-US')} objects into the small collection`);
    small = populate(ctx, ingestor, SMALL, smallObjects, ctx.settings.seed + 1);
    ctx.progress(`serve setup: ${bigCount.toLocaleString('en-US')} objects into the large collection`);
    big = populate(ctx, ingestor, BIG, bigCount, ctx.settings.seed + 2, deadline);
  } finally {
    await store.close();
  }
  const storeBytes = statSync(join(config.data_dir, 'store', 'data.mdb')).size;
  const notes: string[] = [];
  if (big.truncated) {
    notes.push(
      `SETUP BUDGET: ingest was too slow to build the large collection within BENCH_SERVE_SETUP_BUDGET_S=${ctx.settings.serve.setupBudgetS} (${Math.round(big.stored / big.seconds).toLocaleString('en-US')} objects/s incl. generation); it holds ${big.stored.toLocaleString('en-US')} of the ${bigCount.toLocaleString('en-US')} objects asked for, and every large-collection figure below is for that size`,
    );
  }
  for (const [name, p] of [
    ['small', small],
    ['large', big],
  ] as const) {
    if (p.rejected > 0) notes.push(`setup: ${p.rejected} objects rejected in the ${name} collection`);
  }

  ctx.progress('serve: starting the node in its own process');
  let client: Client | undefined;
  let sparseClient: Client | undefined;
  try {
    const ready = await server.call({ cmd: 'start', config: data });
    if (ready.event !== 'ready') throw new Error(`unexpected answer ${ready.event}`);
    const ca = readFileSync(ready.devCaPath ?? join(dir, 'certs', 'dev-ca.crt'), 'utf8');
    client = new Client(ready.baseUrl, ca);
    await client.get('/taxii2/'); // TLS handshake, authentication
    for (let i = 0; i < WARMUP_FETCHES; i++) await client.page(SMALL, { limit: String(pageLimit), 'match[version]': 'all' });

    const maxPages = Math.ceil(bigCount / pageLimit) * 3 + 10;
    ctx.progress(`serve: paging ${big.stored.toLocaleString('en-US')} versions with match[version]=all, limit=${pageLimit}`);
    const all = await pageThrough(ctx, client, server, BIG, { 'match[version]': 'all' }, maxPages);
    ctx.progress(`serve: ${all.objectsPerS.toLocaleString('en-US')} objects/s (all versions)`);
    ctx.progress(`serve: paging the latest versions (default query), limit=${pageLimit}`);
    const latest = await pageThrough(ctx, client, server, BIG, {}, maxPages);
    ctx.progress(`serve: ${latest.objectsPerS.toLocaleString('en-US')} objects/s (latest versions)`);
    notes.push(
      `the member's view (TLP ceiling AMBER, every sector; AMBER+STRICT, RED and relationships to invisible objects are not served): ${fmt(all.objects)} of ${fmt(big.stored)} versions with match[version]=all, ${fmt(latest.objects)} of ${fmt(big.stats.distinctIds)} objects by default (latest versions); objects/s counts objects received`,
    );
    if (all.objects > big.stored || latest.objects > big.stats.distinctIds) {
      notes.push('MORE objects were received than the collection holds: paging repeated objects');
    }

    ctx.progress(`serve: page latency, ${ctx.settings.serve.latencySamples} random positions per collection`);
    const lat = await latency(ctx, client, small, big);
    ctx.progress(`serve: the sparse view (member of "${RARE_SECTOR}" only): its manifest, then page latency against the full view`);
    sparseClient = new Client(ready.baseUrl, ca, SPARSE_MEMBER, SPARSE_SECRET);
    const sp = await sparseLatency(ctx, client, sparseClient, big, latest.objects);
    const selectivity = sp.sparseObjects / sp.fullObjects;
    const afterServing = await server.stats();
    const afterGc = await server.stats(true);
    const p50Ratio = lat.big.p50 / lat.small.p50;
    const p99Ratio = lat.big.p99 / lat.small.p99;
    if (lat.small.minObjects < 0.9 * pageLimit || lat.big.minObjects < 0.9 * pageLimit) {
      notes.push(`some latency pages were far from full (min objects: small ${lat.small.minObjects}, large ${lat.big.minObjects})`);
    }
    if (sp.sparse.minObjects < pageLimit || sp.full.minObjects < 0.9 * pageLimit) {
      notes.push(
        `some sparse-view latency pages were not full (min objects: full view ${sp.full.minObjects}, sparse view ${sp.sparse.minObjects})`,
      );
    }
    notes.push(
      `sparse view: the member of "${RARE_SECTOR}" only (TLP ceiling AMBER, no unscoped objects) receives ${fmt(sp.sparseObjects)} of the ${fmt(sp.fullObjects)} objects the full-view member receives by default (${round(selectivity * 100, 2)}%); its ${sp.manifestPages} manifest pages took ${sp.manifestSeconds} s; latency: ${sp.sparse.samples} pages of limit=${pageLimit} per member at random positions of its own view, interleaved, default query`,
    );
    const m = afterServing.memory;
    notes.push(
      `paging all versions: ${all.pages} pages (${all.megabytes} MiB) in ${all.seconds} s; CPU: server ${all.serverCpuS} s (${all.serverCpuMsPerPage} ms/page), client ${all.clientCpuS} s (JSON.parse ${all.clientParseS} s)`,
      `paging latest versions: ${latest.pages} pages (${latest.megabytes} MiB) in ${latest.seconds} s; CPU: server ${latest.serverCpuS} s (${latest.serverCpuMsPerPage} ms/page), client ${latest.clientCpuS} s (JSON.parse ${latest.clientParseS} s)`,
      `latency: ${lat.small.samples} pages of limit=${pageLimit} at random added_after positions per collection, default query (latest versions), interleaved; time to the last body byte`,
      `memory of the serving process: the store file is ${round(storeBytes / 1024 / 1024)} MB; RSS counts LMDB's file-backed memory map (RssFile ${String(m.rssFileMB)} MB, page cache the kernel can reclaim); RssAnon (${String(m.rssAnonMB)} MB) is the process's own heap and buffers; peak RSS ${String(m.peakRssMB)} MB; after a forced GC RSS ${afterGc.memory.rssMB} MB, RssAnon ${String(afterGc.memory.rssAnonMB)} MB`,
    );

    const figures: Figure[] = [
      figure(
        'serve.all_versions_objects_per_s',
        `page all versions (${fmt(big.stored)}-version collection)`,
        all.objectsPerS,
        'objects/s',
        {
          target: { op: '>=', value: SERVE_TARGET_OBJECTS_PER_S },
        },
      ),
      figure('serve.latest_objects_per_s', 'page latest versions (default query)', latest.objectsPerS, 'objects/s', {
        target: { op: '>=', value: SERVE_TARGET_OBJECTS_PER_S },
      }),
      figure('serve.latency_small_p50_ms', `page latency p50, ${fmt(small.stored)} collection`, lat.small.p50, 'ms'),
      figure('serve.latency_big_p50_ms', `page latency p50, ${fmt(big.stored)} collection`, lat.big.p50, 'ms'),
      figure('serve.latency_p50_ratio', 'p50 large / small', round(p50Ratio, 2), 'x', {
        target: { op: '<=', value: LATENCY_TARGET_RATIO },
      }),
      figure('serve.latency_small_p99_ms', `page latency p99, ${fmt(small.stored)} collection`, lat.small.p99, 'ms'),
      figure('serve.latency_big_p99_ms', `page latency p99, ${fmt(big.stored)} collection`, lat.big.p99, 'ms'),
      figure('serve.latency_p99_ratio', 'p99 large / small', round(p99Ratio, 2), 'x', {
        target: { op: '<=', value: LATENCY_TARGET_RATIO },
      }),
      figure(
        'serve.sparse_view_selectivity_pct',
        `sparse view share of the full view (member of "${RARE_SECTOR}")`,
        round(selectivity * 100, 2),
        '%',
      ),
      figure('serve.full_view_p50_ms', `page latency p50, full view, ${fmt(big.stored)} collection`, sp.full.p50, 'ms'),
      figure('serve.sparse_view_p50_ms', 'page latency p50, sparse view, same collection', sp.sparse.p50, 'ms'),
      figure('serve.sparse_view_p50_ratio', 'p50 sparse / full view', round(sp.sparse.p50 / sp.full.p50, 2), 'x', {
        target: { op: '<=', value: SPARSE_VIEW_TARGET_RATIO },
      }),
      figure('serve.full_view_p99_ms', 'page latency p99, full view', sp.full.p99, 'ms'),
      figure('serve.sparse_view_p99_ms', 'page latency p99, sparse view', sp.sparse.p99, 'ms'),
      figure('serve.sparse_view_p99_ratio', 'p99 sparse / full view', round(sp.sparse.p99 / sp.full.p99, 2), 'x', {
        target: { op: '<=', value: SPARSE_VIEW_TARGET_RATIO },
      }),
      figure('serve.rss_mb', 'node RSS after serving (incl. LMDB map pages)', m.rssMB, 'MB', {
        target: { op: '<=', value: RSS_TARGET_MB },
      }),
      figure('serve.rss_anon_mb', 'node anonymous RSS after serving (RssAnon)', m.rssAnonMB, 'MB', {
        target: { op: '<=', value: RSS_TARGET_MB },
      }),
    ];
    return {
      figures,
      notes,
      details: {
        collections: {
          small: {
            id: SMALL,
            versions: small.stored,
            distinctIds: small.stats.distinctIds,
            setupS: round(small.seconds, 1),
            corpus: small.stats,
          },
          large: {
            id: BIG,
            requested: bigCount,
            versions: big.stored,
            truncated: big.truncated,
            distinctIds: big.stats.distinctIds,
            setupS: round(big.seconds, 1),
            corpus: big.stats,
          },
        },
        storeFileMB: round(storeBytes / 1024 / 1024, 1),
        setupBatchSize: ctx.settings.serve.setupBatchSize,
        setupObjectsPerS: round((small.stored + big.stored) / (small.seconds + big.seconds)),
        pageLimit,
        memberPolicy: { tlp_ceiling: 'amber', unscoped: true },
        pagingAllVersions: all,
        pagingLatest: latest,
        latency: lat,
        sparseView: { member: SPARSE_MEMBER, sector: RARE_SECTOR, selectivity: round(selectivity, 4), ...sp },
        memory: { atStart: ready.stats.memory, afterServing: afterServing.memory, afterServingAndGc: afterGc.memory },
        serverCpuS: round((afterServing.cpuUserMs + afterServing.cpuSystemMs) / 1000, 1),
      },
    };
  } finally {
    await client?.close().catch(() => {});
    await sparseClient?.close().catch(() => {});
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
