/**
 * Under load (issue 9, item 11): many members paging one collection at the same moment, as
 * ISAC clients polling on the hour do, while new clients keep connecting.
 *
 * Setup (not measured): a store with one collection of BENCH_LOAD_OBJECTS objects and
 * BENCH_LOAD_CLIENTS members (+1 for newcomers), each with its own HTTP Basic credentials. The
 * node runs in a child process (serve-worker.ts) with the default `limits`, so what it does
 * under load is what a deployment does.
 *
 * Measured, from this process:
 *   - the single-client rate: one client pages the whole collection (limit=BENCH_PAGE_LIMIT,
 *     following `next`), three times after a warm-up; the median;
 *   - the load: every member at once, one undici connection each, paging the whole collection;
 *     a 429/503 is waited out for its Retry-After and the page asked again, as TAXII clients
 *     do; a request that gets no HTTP answer (connection refused or reset, no handshake within
 *     30 s, no answer within 120 s) is a failed request, retried after a second;
 *   - newcomers: while the load runs, a new TLS connection every BENCH_LOAD_NEWCOMER_MS, timed
 *     from connect() to the finished handshake, then one discovery request on it (from a
 *     process of their own, newcomers.ts, so the paging clients' work does not delay them);
 *   - the node's RssAnon (heap and buffers, not LMDB's file map), sampled from
 *     /proc/<pid>/status every 50 ms during the load; its peak.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as HttpClient } from 'undici';
import { hashSecret } from '../src/auth/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { Ingestor } from '../src/ingest/index.ts';
import { openStore } from '../src/node.ts';
import { median, percentile, round, type BenchContext, type Section } from './context.ts';
import { newcomerProcess, HANDSHAKE_TIMEOUT_MS, type Arrival } from './newcomers.ts';
import { figure, type SectionOutcome } from './report.ts';
import type { WorkerStats } from './serve-worker.ts';
import { populate, RSS_TARGET_MB, ServingProcess } from './serve.ts';

/** a newcomer's TLS handshake (connect to finished) should take at most this, p99 */
export const HANDSHAKE_TARGET_MS = 1000;

const API_ROOT = 'load';
const COLLECTION = 'c0c0c0c0-0000-4000-8000-000000000001';
const SECRET = 'load-member-secret';
const NEWCOMER = 'newcomer';
const TAXII = 'application/taxii+json;version=2.1';
/** a request without an HTTP answer within these is a failed request */
const CONNECT_TIMEOUT_MS = 30_000;
const ANSWER_TIMEOUT_MS = 120_000;
const SINGLE_CLIENT_RUNS = 3;
const RSS_SAMPLE_MS = 50;

const memberId = (i: number) => `member-${String(i).padStart(4, '0')}`;
const basic = (member: string) => `Basic ${Buffer.from(`${member}:${SECRET}`).toString('base64')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function configData(dir: string, clients: number, pageLimit: number, limits: Record<string, unknown> | null): Record<string, unknown> {
  // one scrypt hash serves every member (same secret); each member still authenticates on its own
  const hash = hashSecret(SECRET);
  const member = (id: string) => ({
    id,
    name: `Load member ${id}`,
    credentials: { basic_secret_hash: hash },
    policy: { tlp_ceiling: 'amber', unscoped: true },
    grants: [{ api_root: API_ROOT, collection: 'shared', read: true }],
  });
  return {
    node: { id: 'load-node', title: 'Load benchmark relay' },
    listen: '127.0.0.1:0',
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    logging: { level: 'silent' },
    taxii: { default_page_size: 100, max_page_size: Math.max(1000, pageLimit) },
    ...(limits !== null ? { limits } : {}),
    api_roots: [
      {
        path: API_ROOT,
        title: 'Load',
        default: true,
        collections: [{ id: COLLECTION, alias: 'shared', title: 'Shared collection' }],
      },
    ],
    members: [...Array.from({ length: clients }, (_, i) => member(memberId(i))), member(NEWCOMER)],
  };
}

// ---- paging clients

interface Tally {
  /** time of each page's successful attempt (request sent to body received) */
  readonly pageMs: number[];
  pages: number;
  objects: number;
  /** 429 / 503 answers, by status */
  readonly refusals: Record<string, number>;
  /** 429 / 503 answers that named no Retry-After */
  refusalsWithoutRetryAfter: number;
  /** Retry-After values received, seconds */
  readonly retryAfterS: number[];
  /** requests without an HTTP answer */
  failed: number;
  readonly failures: string[];
  /** answers other than 200, 429 and 503 */
  readonly unexpected: string[];
}

function newTally(): Tally {
  return {
    pageMs: [],
    pages: 0,
    objects: 0,
    refusals: {},
    refusalsWithoutRetryAfter: 0,
    retryAfterS: [],
    failed: 0,
    failures: [],
    unexpected: [],
  };
}

function httpClient(baseUrl: string, ca: string): HttpClient {
  return new HttpClient(baseUrl, {
    connect: { ca, timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: ANSWER_TIMEOUT_MS,
    bodyTimeout: ANSWER_TIMEOUT_MS,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  });
}

/**
 * Pages the whole collection as `member`: follows `next`, waits out 429/503 for their
 * Retry-After, retries a request without an answer after a second. Stops at `stopAt`
 * (performance.now()) or after `maxRequests`; returns whether it reached the end.
 */
async function pageCollection(
  client: HttpClient,
  member: string,
  limit: number,
  tally: Tally,
  stopAt: number,
  maxRequests: number,
): Promise<{ objects: number; complete: boolean; firstAnswerAt: number | null }> {
  const headers = { accept: TAXII, authorization: basic(member) };
  let next: string | undefined;
  let objects = 0;
  let firstAnswerAt: number | null = null;
  for (let request = 0; request < maxRequests && performance.now() < stopAt; request++) {
    const query = new URLSearchParams({ limit: String(limit), ...(next !== undefined ? { next } : {}) });
    const t0 = performance.now();
    let status: number;
    let retryAfter: string | undefined;
    let text: string;
    try {
      const res = await client.request({ method: 'GET', path: `/${API_ROOT}/collections/${COLLECTION}/objects/?${query}`, headers });
      status = res.statusCode;
      const h = res.headers['retry-after'];
      retryAfter = Array.isArray(h) ? h[0] : h;
      text = await res.body.text();
    } catch (error) {
      tally.failed++;
      if (tally.failures.length < 10) tally.failures.push(`${member}: ${(error as Error).message}`);
      await sleep(1000);
      continue;
    }
    const ms = performance.now() - t0;
    firstAnswerAt ??= performance.now();
    if (status === 200) {
      const envelope = JSON.parse(text) as { more?: boolean; next?: string; objects?: unknown[] };
      const n = envelope.objects?.length ?? 0;
      tally.pageMs.push(ms);
      tally.pages++;
      tally.objects += n;
      objects += n;
      if (envelope.more !== true) return { objects, complete: true, firstAnswerAt };
      if (envelope.next === undefined) throw new Error('more: true without next');
      next = envelope.next;
    } else if (status === 429 || status === 503) {
      tally.refusals[status] = (tally.refusals[status] ?? 0) + 1;
      const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
      if (seconds === undefined) tally.refusalsWithoutRetryAfter++;
      else tally.retryAfterS.push(seconds);
      await sleep((seconds ?? 1) * 1000);
    } else {
      tally.unexpected.push(`${member}: HTTP ${status}: ${text.slice(0, 200)}`);
      return { objects, complete: false, firstAnswerAt };
    }
  }
  return { objects, complete: false, firstAnswerAt };
}

// ---- the node's memory

function rssAnonMB(pid: number): number | null {
  try {
    const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

// ---- the section

export const loadSection: Section = {
  name: 'load',
  title: 'Under load (many members paging at once over HTTPS, newcomers connecting)',
  async run(ctx: BenchContext): Promise<SectionOutcome> {
    const dir = ctx.tempDir('load');
    const server = ServingProcess.spawn();
    try {
      return await measure(ctx, server, dir);
    } finally {
      await server.close();
      ctx.removeTemp(dir);
    }
  },
};

async function measure(ctx: BenchContext, server: ServingProcess, dir: string): Promise<SectionOutcome> {
  const { clients: clientCount, objects: objectCount, newcomerIntervalMs, budgetS } = ctx.settings.load;
  const limit = ctx.settings.serve.pageLimit;
  const data = configData(dir, clientCount, limit, ctx.settings.load.limits);
  const config = parseConfig(data, 'bench config');

  const store = openStore(config);
  try {
    ctx.progress(`load setup: ${objectCount.toLocaleString('en-US')} objects`);
    const populated = populate(ctx, new Ingestor(store), COLLECTION, objectCount, ctx.settings.seed + 3);
    if (populated.rejected > 0) ctx.progress(`load setup: ${populated.rejected} objects rejected`);
  } finally {
    await store.close();
  }

  const ready = await server.call({ cmd: 'start', config: data });
  if (ready.event !== 'ready') throw new Error(`unexpected answer ${ready.event}`);
  const pid = server.pid;
  if (pid === undefined) throw new Error('the serving process has no pid');
  const ca = readFileSync(ready.devCaPath ?? join(dir, 'certs', 'dev-ca.crt'), 'utf8');
  const url = new URL(ready.baseUrl);
  const maxRequests = Math.ceil(objectCount / limit) * 20 + 100;
  const notes: string[] = [];

  // -- one client alone
  ctx.progress(`load: one client pages the collection (limit=${limit}), 1 warm-up + ${SINGLE_CLIENT_RUNS} runs`);
  const single = httpClient(ready.baseUrl, ca);
  const singleRates: number[] = [];
  let expected = 0;
  let singlePages = 0;
  let singleBefore: WorkerStats | undefined;
  try {
    for (let run = 0; run <= SINGLE_CLIENT_RUNS; run++) {
      const tally = newTally();
      const t0 = performance.now();
      const r = await pageCollection(single, memberId(0), limit, tally, Infinity, maxRequests);
      const seconds = (performance.now() - t0) / 1000;
      if (!r.complete || tally.failed > 0) throw new Error(`the single client could not page the collection: ${JSON.stringify(tally)}`);
      expected = r.objects;
      if (run > 0) {
        singleRates.push(r.objects / seconds);
        singlePages += tally.pages;
      }
      if (run === 0) singleBefore = await server.stats();
    }
  } finally {
    await single.close();
  }
  const singleRate = round(median(singleRates));
  const singleAfter = await server.stats();
  const cpuMs = (st: WorkerStats) => st.cpuUserMs + st.cpuSystemMs;
  const singleCpuMsPerPage = singleBefore ? round((cpuMs(singleAfter) - cpuMs(singleBefore)) / Math.max(1, singlePages), 1) : null;
  ctx.progress(`load: single client ${singleRate.toLocaleString('en-US')} objects/s (${expected.toLocaleString('en-US')} objects)`);

  // -- everyone at once, newcomers meanwhile
  const before = await server.stats(true, true);
  const rssAtStart = rssAnonMB(pid);
  let rssPeak = rssAtStart ?? 0;
  const sampler = setInterval(() => {
    const v = rssAnonMB(pid);
    if (v !== null && v > rssPeak) rssPeak = v;
  }, RSS_SAMPLE_MS);
  const newcomers = await newcomerProcess({
    host: url.hostname,
    port: Number(url.port),
    ca,
    authorization: basic(NEWCOMER),
    intervalMs: newcomerIntervalMs,
  });
  ctx.progress(`load: ${clientCount} members page at once, a newcomer every ${newcomerIntervalMs} ms`);
  const tally = newTally();
  const clients = Array.from({ length: clientCount }, () => httpClient(ready.baseUrl, ca));
  const t0 = performance.now();
  newcomers.start();
  const stopAt = t0 + budgetS * 1000;
  // what the node's memory is made of, now and then (heap, buffers), at RssAnon's peak
  // and the node's event-loop delay, per second of the load
  let heapAtPeak: WorkerStats['memory'] | undefined;
  const loopDelay: Array<{ atS: number; p99: number; max: number }> = [];
  const heapSampler = setInterval(() => {
    void server
      .stats(false, true)
      .then((st) => {
        if (st.memory.rssAnonMB !== null && st.memory.rssAnonMB >= (heapAtPeak?.rssAnonMB ?? 0)) heapAtPeak = st.memory;
        loopDelay.push({ atS: round((performance.now() - t0) / 1000, 1), p99: st.loopDelayMs.p99, max: st.loopDelayMs.max });
      })
      .catch(() => {});
  }, 1000);

  const progress = setInterval(() => {
    ctx.progress(`  … ${tally.pages} pages, ${tally.objects.toLocaleString('en-US')} objects, RssAnon peak ${rssPeak} MB`);
  }, 10_000);
  let outcomes: Array<{ objects: number; complete: boolean; firstAnswerAt: number | null }>;
  let seconds: number;
  let arrived: Arrival[];
  try {
    outcomes = await Promise.all(clients.map((c, i) => pageCollection(c, memberId(i), limit, tally, stopAt, maxRequests)));
    seconds = (performance.now() - t0) / 1000;
  } finally {
    clearInterval(progress);
    arrived = await newcomers.stop();
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
  clearInterval(sampler);
  clearInterval(heapSampler);
  const after = await server.stats();
  const rssAfter = rssAnonMB(pid);
  if (rssAfter !== null && rssAfter > rssPeak) rssPeak = rssAfter;

  const complete = outcomes.filter((o) => o.complete).length;
  const wrongCount = outcomes.filter((o) => o.complete && o.objects !== expected).length;
  const objectsPerS = round(tally.objects / seconds);
  const handshakes = arrived.map((a) => a.handshakeMs).filter((ms): ms is number => ms !== null);
  const noHandshake = arrived.filter((a) => a.handshakeMs === null).length;
  const unanswered = arrived.filter((a) => a.status === null);
  const failed = tally.failed + unanswered.length;
  // a handshake that did not finish counts as the timeout it ran into
  const handshakeP99 =
    arrived.length > 0
      ? round(
          percentile(
            arrived.map((a) => a.handshakeMs ?? HANDSHAKE_TIMEOUT_MS),
            99,
          ),
          1,
        )
      : null;
  // the connection burst: until every member had its first answer (handshake, authentication)
  const burstEndMs = Math.max(0, ...outcomes.map((o) => (o.firstAnswerAt ?? t0) - t0));
  const afterBurst = arrived.filter((a) => a.at > burstEndMs && a.handshakeMs !== null).map((a) => a.handshakeMs as number);
  const serverCpuS = round((cpuMs(after) - cpuMs(before)) / 1000, 1);

  if (complete < clientCount)
    notes.push(`${clientCount - complete} of ${clientCount} clients did not finish paging within ${budgetS} s or met an unexpected answer`);
  if (wrongCount > 0) notes.push(`${wrongCount} clients received a different number of objects than the single client (${expected})`);
  if (tally.unexpected.length > 0) notes.push(`unexpected answers: ${tally.unexpected.slice(0, 3).join(' | ')}`);
  if (tally.refusalsWithoutRetryAfter > 0) notes.push(`${tally.refusalsWithoutRetryAfter} refusals (429/503) came without Retry-After`);
  if (noHandshake > 0) {
    notes.push(`${noHandshake} of ${arrived.length} newcomers did not finish a TLS handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`);
  }
  if (failed > 0)
    notes.push(`requests without an HTTP answer: ${[...tally.failures, ...unanswered.map((a) => a.error ?? '?')].slice(0, 3).join(' | ')}`);
  const refused = Object.values(tally.refusals).reduce((a, b) => a + b, 0);
  notes.push(
    `${clientCount} members, one connection each, paged ${expected.toLocaleString('en-US')} objects each (limit=${limit}) in ${round(seconds, 1)} s: ${tally.pages} pages, ${refused} refusals (${
      Object.entries(tally.refusals)
        .map(([s, n]) => `${n}× ${s}`)
        .join(', ') || 'none'
    }) waited out for their Retry-After; page p50 ${round(percentile(tally.pageMs, 50))} ms; server CPU ${serverCpuS} s (${round((serverCpuS * 1000) / Math.max(1, tally.pages), 1)} ms/page; ${String(singleCpuMsPerPage)} ms/page for the single client)`,
    `newcomers: ${arrived.length} TLS connections during the load, one every ${newcomerIntervalMs} ms; handshake p50 ${round(percentile(handshakes, 50), 1)} ms, max ${round(Math.max(...handshakes), 1)} ms; their discovery requests: ${arrived.filter((a) => a.status === 200).length} answered 200`,
    `the connection burst (every member's handshake and first authenticated answer) lasted ${round(burstEndMs / 1000, 1)} s; the ${afterBurst.length} newcomers after it: handshake p99 ${round(percentile(afterBurst, 99), 1)} ms, max ${round(Math.max(...afterBurst), 1)} ms`,
    `node RssAnon: ${String(rssAtStart)} MB before the load, peak ${rssPeak} MB (sampled every ${RSS_SAMPLE_MS} ms), ${String(rssAfter)} MB after`,
  );

  return {
    figures: [
      figure('load.clients', 'members paging at once (one connection each)', clientCount, 'clients'),
      figure(
        'load.single_client_objects_per_s',
        `one client alone, ${expected.toLocaleString('en-US')}-object collection`,
        singleRate,
        'objects/s',
      ),
      figure('load.objects_per_s', `all ${clientCount} together`, objectsPerS, 'objects/s', { target: { op: '>=', value: singleRate } }),
      figure('load.page_p99_ms', 'page latency p99 under load (queue wait included)', round(percentile(tally.pageMs, 99)), 'ms'),
      figure('load.handshake_p99_ms', 'newcomer TLS handshake p99 during the load', handshakeP99, 'ms', {
        target: { op: '<=', value: HANDSHAKE_TARGET_MS },
        ...(noHandshake > 0
          ? { note: `${noHandshake} handshakes did not finish within ${HANDSHAKE_TIMEOUT_MS / 1000} s (counted as that)` }
          : {}),
      }),
      figure('load.rss_anon_peak_mb', 'node RssAnon peak during the load', rssPeak, 'MB', { target: { op: '<=', value: RSS_TARGET_MB } }),
      figure('load.failed_requests', 'requests without an HTTP answer', failed, 'requests', { target: { op: '<=', value: 0 } }),
    ],
    notes,
    details: {
      clients: clientCount,
      limits: config.limits,
      objectsPerClient: expected,
      pageLimit: limit,
      singleClientRuns: singleRates.map((r) => round(r)),
      singleClientServerCpuMsPerPage: singleCpuMsPerPage,
      seconds: round(seconds, 2),
      pages: tally.pages,
      pageMs: {
        p50: round(percentile(tally.pageMs, 50), 1),
        p90: round(percentile(tally.pageMs, 90), 1),
        p99: round(percentile(tally.pageMs, 99), 1),
        max: round(Math.max(...tally.pageMs), 1),
      },
      refusals: tally.refusals,
      refusalsWithoutRetryAfter: tally.refusalsWithoutRetryAfter,
      retryAfterS: tally.retryAfterS.length > 0 ? { min: Math.min(...tally.retryAfterS), max: Math.max(...tally.retryAfterS) } : null,
      failedPageRequests: tally.failed,
      failures: tally.failures,
      unexpected: tally.unexpected.slice(0, 10),
      completeClients: complete,
      burstEndS: round(burstEndMs / 1000, 2),
      newcomers: {
        count: arrived.length,
        afterBurst: afterBurst.length
          ? {
              count: afterBurst.length,
              p50: round(percentile(afterBurst, 50), 1),
              p99: round(percentile(afterBurst, 99), 1),
              max: round(Math.max(...afterBurst), 1),
            }
          : null,
        intervalMs: newcomerIntervalMs,
        withoutHandshake: noHandshake,
        unanswered: unanswered.length,
        handshakeMs: handshakes.length
          ? {
              p50: round(percentile(handshakes, 50), 1),
              p90: round(percentile(handshakes, 90), 1),
              p99: round(percentile(handshakes, 99), 1),
              max: round(Math.max(...handshakes), 1),
            }
          : null,
      },
      slowestNewcomers: [...arrived]
        .sort((a, b) => (b.handshakeMs ?? Infinity) - (a.handshakeMs ?? Infinity))
        .slice(0, 10)
        .map((a) => ({
          atMs: a.at,
          handshakeMs: a.handshakeMs === null ? null : round(a.handshakeMs, 1),
          status: a.status,
          error: a.error,
        })),
      rssAnonMB: { atStart: rssAtStart, peak: rssPeak, after: rssAfter },
      memoryNearPeak: heapAtPeak ?? null,
      loopDelayPerSecondMs: loopDelay,
      serverCpuS,
      memoryAfter: after.memory,
    },
  };
}
