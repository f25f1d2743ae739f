/**
 * Fuzz, end to end over HTTPS: 10,000+ generated malformed requests (paths, methods, headers
 * including Accept / Content-Type / Authorization garbage, query strings with huge, duplicate
 * and garbage filters and next tokens, bodies with invalid JSON, deep nesting, huge numbers,
 * wrong types and binary) against every endpoint of a real node, 8 at a time over keep-alive
 * connections. Every answer must be below 500 and carry the TAXII content type; every error
 * body must be a TAXII error object whose http_status is the status; no request may make the
 * node log an unexpected error; and the node must serve exactly the same pages afterwards.
 *
 * Requests are generated with fast-check from a fixed seed (reproducible); a failure lists the
 * offending requests.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKeys, tokenSettings } from '../../../src/auth/index.ts';
import { type RelayConfig } from '../../../src/config/index.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { startNode, type RelayNode } from '../../../src/node.ts';
import { COLLECTIONS, TAXII, basicAuth, testConfigData } from '../../support/node.ts';
import { indicator, malware } from './fixtures.ts';

const RUNS = 10_000;
const CONCURRENCY = 8;
const SEED = 20_261_123;
const MAX_BODY = 256 * 1024; // taxii.max_content_length in this test

let dir: string;
let config: RelayConfig;
let node: RelayNode;
let agent: Agent;
const errorLogs: string[] = [];
const known: { objectIds: string[]; versions: string[]; statusId: string; sharedNext: string; secretNext: string; bearer: string } = {
  objectIds: [],
  versions: [],
  statusId: '',
  sharedNext: '',
  secretNext: '',
  bearer: '',
};

interface FuzzRequest {
  readonly endpoint: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
}

// ---------------------------------------------------------------------------- the node

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-fuzz-'));
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  data.taxii = { default_page_size: 20, max_page_size: 50, max_content_length: MAX_BODY };
  // The client always closes idle connections long before the server does: a server-side
  // keep-alive expiry racing a request (both timers late on a loaded machine, one event loop)
  // would otherwise show up as a broken request that says nothing about the server.
  data.limits = { keep_alive_timeout_seconds: 120, request_timeout_seconds: 300 };
  // The fuzz sends a few hundred wrong Basic passwords from 127.0.0.1 and pages with Basic from
  // there afterwards; the failed-login limit (tested in auth-flood.e2e.test.ts) would block it.
  data.auth = { failed_logins: { per_address: 1_000_000, per_address_member: 1_000_000 } };
  // `shared` is read-only for everyone here, so the fuzz cannot change the pages compared below
  for (const m of data.members as Array<{ grants: Array<{ collection: string; write: boolean }> }>) {
    for (const g of m.grants) if (g.collection === 'shared') g.write = false;
  }
  config = parseConfig(data, 'fuzz config');
  // error-level log lines are collected: an unexpected error is a failure even if the client saw 4xx
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      errorLogs.push(String(chunk));
      callback();
    },
  });
  node = await startNode(config, pino({ level: 'error' }, sink));
  agent = new Agent({
    connect: { ca: readFileSync(node.devCaPath ?? join(dir, 'certs', 'dev-ca.crt'), 'utf8') },
    connections: CONCURRENCY,
    keepAliveTimeout: 2_000,
    keepAliveMaxTimeout: 2_000,
  });

  const shared = [];
  for (let i = 0; i < 40; i++) {
    const id = indicator().id;
    known.objectIds.push(id);
    shared.push(indicator(id, 0), indicator(id, 1));
    if (i % 4 === 0) shared.push(indicator(id, 2));
  }
  for (let i = 0; i < 10; i++) shared.push(malware());
  node.ingestor.ingest(COLLECTIONS.shared, shared, { source: 'import', detail: 'fuzz' });
  node.ingestor.ingest(COLLECTIONS.secret, [indicator(), indicator(), indicator(known.objectIds[0] as string, 5)], {
    source: 'import',
    detail: 'fuzz',
  });
  known.versions.push(...shared.slice(0, 6).map((o) => o.modified));

  const post = await call(
    'POST',
    `/isac/collections/${COLLECTIONS.inbox}/objects/`,
    {
      authorization: basicAuth('alice'),
      'content-type': TAXII,
      accept: TAXII,
    },
    JSON.stringify({ objects: [indicator()] }),
  );
  known.statusId = JSON.parse(post.text).id;
  known.sharedNext = JSON.parse(
    (await call('GET', `/isac/collections/${COLLECTIONS.shared}/objects/?limit=3`, { authorization: basicAuth('alice') })).text,
  ).next;
  known.secretNext = JSON.parse(
    (await call('GET', `/isac/collections/${COLLECTIONS.secret}/objects/?limit=1`, { authorization: basicAuth('alice') })).text,
  ).next;
  const keys = await loadOrCreateTokenKeys(config.data_dir);
  known.bearer = (await keys.issue(tokenSettings(config), 'alice', '1h')).token;
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await node?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, headers: Record<string, string>, body?: Uint8Array | string) {
  const res = await fetch(`${node.baseUrl}${path}`, { method, headers, body: body as never, dispatcher: agent });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** Every page of a collection's objects and manifest (alice, small pages), as received. */
async function allPages(): Promise<string[]> {
  const pages: string[] = [];
  for (const endpoint of ['objects', 'manifest']) {
    let next: string | undefined;
    for (let i = 0; i < 200; i++) {
      const query = `limit=7&match[version]=all${next ? `&next=${next}` : ''}`;
      const r = await call('GET', `/isac/collections/${COLLECTIONS.shared}/${endpoint}/?${query}`, {
        authorization: basicAuth('alice'),
        accept: TAXII,
      });
      expect(r.status).toBe(200);
      pages.push(r.text);
      next = JSON.parse(r.text).next;
      if (!next) break;
    }
    expect(next).toBeUndefined();
  }
  return pages;
}

// ---------------------------------------------------------------------------- generators

const garbageText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '%', '%%', '%00', '..', '../..', '%2e%2e', '\u0000', '\u202e', '💥', '{}', '[]', 'null', '*', '\\', '"', "'"),
  fc.nat({ max: 5000 }).map((n) => 'A'.repeat(n)),
);

/** A path segment, URL-encoded so that it always reaches the server as one segment. */
const segment = (known: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 4, arbitrary: known }, { weight: 1, arbitrary: garbageText.map((s) => encodeURIComponent(s)) });

const root = segment(fc.constantFrom('isac', 'other', 'ISAC', 'isac.', 'taxii2', 'collections'));
const collection = segment(
  fc.constantFrom(
    COLLECTIONS.shared,
    COLLECTIONS.inbox,
    COLLECTIONS.secret,
    COLLECTIONS.empty,
    'shared',
    'inbox',
    'secret',
    'empty',
    '99999999-9999-4999-8999-999999999999',
    COLLECTIONS.shared.toUpperCase(),
  ),
);
const objectId = () =>
  segment(
    fc.oneof(
      fc.constantFrom(...known.objectIds.slice(0, 8)),
      fc.constant('indicator--00000000-0000-4000-8000-000000000000'),
      fc.uuid().map((u) => `indicator--${u}`),
      fc.uuid().map((u) => `x-custom--${u}`),
      fc.constant(`relationship--${randomUUID()}`),
    ),
  );
const statusId = () => segment(fc.oneof(fc.constant(known.statusId), fc.uuid(), fc.constant('A'.repeat(65))));
const slash = fc.constantFrom('/', '', '//');

const ENDPOINTS = [
  'discovery',
  'api-root',
  'status',
  'collections',
  'collection',
  'manifest',
  'objects',
  'object',
  'versions',
  'jwks',
  'random',
] as const;

const path = () =>
  fc.oneof(
    fc.tuple(fc.constant('discovery'), slash).map(([e, s]) => [e, `/taxii2${s}`] as const),
    fc.tuple(fc.constant('api-root'), root, slash).map(([e, r, s]) => [e, `/${r}${s}`] as const),
    fc.tuple(fc.constant('status'), root, statusId(), slash).map(([e, r, id, s]) => [e, `/${r}/status/${id}${s}`] as const),
    fc.tuple(fc.constant('collections'), root, slash).map(([e, r, s]) => [e, `/${r}/collections${s}`] as const),
    fc.tuple(fc.constant('collection'), root, collection, slash).map(([e, r, c, s]) => [e, `/${r}/collections/${c}${s}`] as const),
    fc.tuple(fc.constant('manifest'), root, collection, slash).map(([e, r, c, s]) => [e, `/${r}/collections/${c}/manifest${s}`] as const),
    fc.tuple(fc.constant('objects'), root, collection, slash).map(([e, r, c, s]) => [e, `/${r}/collections/${c}/objects${s}`] as const),
    fc
      .tuple(fc.constant('object'), root, collection, objectId(), slash)
      .map(([e, r, c, o, s]) => [e, `/${r}/collections/${c}/objects/${o}${s}`] as const),
    fc
      .tuple(fc.constant('versions'), root, collection, objectId(), slash)
      .map(([e, r, c, o, s]) => [e, `/${r}/collections/${c}/objects/${o}/versions${s}`] as const),
    fc.constant(['jwks', '/.well-known/jwks.json'] as const),
    fc
      .array(
        garbageText.map((s) => encodeURIComponent(s)),
        { minLength: 1, maxLength: 8 },
      )
      .map((parts) => ['random', `/${parts.join('/')}`] as const),
  );

const timestamp = fc.oneof(
  fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    ...[
      '2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00.123456Z',
      '2024-01-01 00:00:00+01:00',
      '0000-00-00T00:00:00Z',
      '9999-12-31T23:59:60Z',
      '1e999',
      '-1',
      'NaN',
    ],
  ),
);
const nextToken = () =>
  fc.oneof(
    fc.constantFrom(known.sharedNext, known.secretNext, ''),
    fc.uint8Array({ minLength: 0, maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.nat({ max: 3000 }).map((n) => 'x'.repeat(n)),
    garbageText,
  );
const listOf = (value: fc.Arbitrary<string>) => fc.array(value, { maxLength: 130 }).map((v) => v.join(','));
const queryValue = () =>
  fc.oneof(
    garbageText,
    timestamp,
    fc.oneof(fc.integer(), fc.bigInt().map(String), fc.double().map(String)).map(String),
    nextToken(),
    listOf(
      fc.oneof(
        fc.constantFrom(...known.objectIds.slice(0, 4)),
        fc.constantFrom('first', 'last', 'all', 'indicator', 'malware', '2.1', '2.0'),
        timestamp,
        garbageText,
      ),
    ),
  );
const queryKey = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'),
  },
  { weight: 1, arbitrary: fc.constantFrom('match[]', 'match[foo]', 'match', 'LIMIT', 'match[id', '') },
  { weight: 1, arbitrary: garbageText },
);
const query = () =>
  fc
    .array(fc.tuple(queryKey, queryValue()), { maxLength: 6 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`))
    .map((q) => (q.length > 9000 ? q.slice(0, 9000) : q));

/** Header values a client can send (no CR/LF/NUL): printable ASCII and Latin-1, or tokens. */
const headerText = fc
  .string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength: 200,
  })
  .map((s) => s.trim());
const mediaType = fc.oneof(
  fc.constantFrom(
    TAXII,
    'application/taxii+json',
    'application/taxii+json;version=2.0',
    'application/stix+json;version=2.1',
    'application/vnd.oasis.taxii+json; version=2.0',
    '*/*',
    'application/*',
    'text/html',
    'application/json',
    'application/taxii+json;version=2.1;q=0',
    'application/taxii+json;version="2.1"',
    ';;;',
    ',,,',
    'application/taxii+json;version=2.1, text/html;q=0.5',
  ),
  headerText,
);
const authorization = () =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(basicAuth('alice'), basicAuth('bob'), basicAuth('carol'), `Bearer ${known.bearer}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Basic', 'Basic ', 'Digest x', 'bearer abc.def.ghi', 'Bearer a.b', 'Basic !!!!'),
    },
    { weight: 3, arbitrary: headerText.map((s) => `Bearer ${s}`) },
    {
      weight: 1,
      arbitrary: fc.tuple(headerText, headerText).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`, 'latin1').toString('base64')}`),
    },
    { weight: 1, arbitrary: headerText },
    { weight: 1, arbitrary: fc.constant(`Bearer ${known.bearer.slice(0, -3)}abc`) },
  );
const headerName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/)
  .filter(
    (n) =>
      !['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'keep-alive', 'te', 'trailer'].includes(
        n.toLowerCase(),
      ),
  );
const headers = () =>
  fc
    .record(
      {
        accept: mediaType,
        'content-type': mediaType,
        authorization: authorization(),
        extra: fc.array(fc.tuple(headerName, headerText), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    )
    .map(({ extra, ...h }) => {
      const out: Record<string, string> = {};
      for (const [name, value] of extra ?? []) out[name.toLowerCase()] = value;
      for (const [name, value] of Object.entries(h)) if (value !== undefined) out[name] = value;
      return out;
    });

const json = fc.jsonValue({ maxDepth: 4 });
const stixish = () =>
  fc.record(
    {
      type: fc.oneof(
        fc.constantFrom('indicator', 'malware', 'relationship', 'marking-definition', 'ipv4-addr', 'bundle', 'x-custom'),
        json,
      ),
      spec_version: fc.oneof(fc.constantFrom('2.1', '2.0', '2.1 ', ''), json),
      id: fc.oneof(
        fc.uuid().map((u) => `indicator--${u}`),
        fc.constantFrom(...known.objectIds.slice(0, 2)),
        json,
      ),
      created: fc.oneof(timestamp, json),
      modified: fc.oneof(timestamp, json),
      pattern: fc.oneof(fc.constant("[ipv4-addr:value = '198.51.100.1']"), json),
      pattern_type: fc.constantFrom('stix', 'snort', 'x'),
      valid_from: timestamp,
      name: fc.oneof(fc.string(), json),
      object_marking_refs: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), json),
      granular_markings: json,
      confidence: fc.oneof(fc.integer(), fc.double(), json),
      extra: json,
    },
    { requiredKeys: [] },
  );
const deep = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);
const body = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(stixish(), { minLength: 0, maxLength: 5 }).map((objects) => JSON.stringify({ objects })) },
    { weight: 2, arbitrary: json.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.record({ objects: json }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"objects": [',
        '{"objects": [1e999999, -1e999999, 123456789012345678901234567890123456789]}',
        '{"objects": [{"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000000", "spec_version": "2.1", "created": 1e400}]}',
        '{"__proto__": {"polluted": true}, "objects": [{"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 2}}}]}',
        '\uFEFF{"objects": []}',
        'null',
        '"objects"',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 60_000 }).map((d) => `{"objects": [${deep(d, '[', ']')}]}`) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1, max: 40_000 })
        .map((d) => `{"objects": [{"type": "indicator", "x": ${deep(d, '{"a":', '}').replace(/}$/, '1}')}}]}`),
    },
    { weight: 1, arbitrary: fc.constant('x'.repeat(MAX_BODY + 1)) },
  );

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE2'];

/** Chaotic requests: every part generated independently. */
function chaotic(): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({ method: fc.constantFrom(...METHODS), path: path(), query: query(), headers: headers(), body: fc.option(body(), { freq: 2 }) })
    .map(({ method, path: ep, query: q, headers: h, body: b }) => {
      const endpoint: string = ep[0];
      const p: string = ep[1];
      const withBody = b !== null && method !== 'GET' && method !== 'HEAD';
      return { endpoint, method, path: `${p}${q}`, headers: h, ...(withBody ? { body: b } : {}) };
    });
}

/**
 * Plausible requests: a real endpoint with its method, good credentials and media types, and
 * a generated query or body, so the fuzz also reaches the handlers behind the first checks.
 */
function plausible(): fc.Arbitrary<FuzzRequest> {
  const c = fc.constantFrom(COLLECTIONS.shared, COLLECTIONS.inbox, COLLECTIONS.secret, COLLECTIONS.empty, 'shared', 'inbox');
  const o = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...known.objectIds.slice(0, 6)) },
    { weight: 1, arbitrary: fc.nat({ max: 6000 }).map((n) => `indicator--${'a'.repeat(n)}`) },
  );
  const target: fc.Arbitrary<readonly [string, string, string]> = fc.oneof(
    c.map((x) => ['objects', 'GET', `/isac/collections/${x}/objects/`] as const),
    c.map((x) => ['manifest', 'GET', `/isac/collections/${x}/manifest/`] as const),
    fc.tuple(c, o).map(([x, id]) => ['object', 'GET', `/isac/collections/${x}/objects/${id}/`] as const),
    fc.tuple(c, o).map(([x, id]) => ['versions', 'GET', `/isac/collections/${x}/objects/${id}/versions/`] as const),
    fc
      .tuple(fc.constantFrom(COLLECTIONS.secret, COLLECTIONS.empty, COLLECTIONS.inbox), o)
      .map(([x, id]) => ['object', 'DELETE', `/isac/collections/${x}/objects/${id}/`] as const),
    c.map((x) => ['objects', 'POST', `/isac/collections/${x}/objects/`] as const),
    fc.constant(['status', 'GET', `/isac/status/${known.statusId}/`] as const),
  );
  return fc
    .record({
      target,
      query: query(),
      auth: fc.constantFrom(basicAuth('alice'), basicAuth('bob'), `Bearer ${known.bearer}`),
      accept: fc.oneof({ weight: 6, arbitrary: fc.constant(TAXII) }, { weight: 1, arbitrary: mediaType }),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(TAXII) }, { weight: 1, arbitrary: mediaType }),
      body: fc.oneof(
        {
          weight: 2,
          arbitrary: fc
            .array(fc.oneof(stixish(), fc.constant(indicator()), fc.constant(malware())), { minLength: 1, maxLength: 4 })
            .map((objects) => JSON.stringify({ objects })),
        },
        { weight: 1, arbitrary: body() },
      ),
    })
    .map(({ target: [endpoint, method, p], query: q, auth, accept, contentType, body: b }) => ({
      endpoint,
      method,
      path: method === 'POST' ? p : `${p}${q}`,
      headers: { accept, authorization: auth, ...(method === 'POST' ? { 'content-type': contentType } : {}) },
      ...(method === 'POST' ? { body: b } : {}),
    }));
}

function requests(): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ weight: 7, arbitrary: chaotic() }, { weight: 3, arbitrary: plausible() });
}

// ---------------------------------------------------------------------------- checks

const ERROR_KEYS = new Set(['title', 'description', 'error_id', 'error_code', 'http_status', 'external_details', 'details']);

/** What is wrong with one answer, or null. */
function problem(req: FuzzRequest, status: number, contentType: string | null, text: string): string | null {
  if (status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  const isJwks = req.path.startsWith('/.well-known/jwks.json') && status === 200;
  const expectedType = isJwks ? 'application/jwk-set+json' : TAXII;
  if (contentType !== expectedType) return `content-type ${contentType} for status ${status}`;
  if (req.method === 'HEAD') return text === '' ? null : 'HEAD answered with a body';
  if (status === 200 && req.method === 'DELETE' && text === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `body is not JSON (status ${status}): ${text.slice(0, 200)}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `body is not a JSON object: ${text.slice(0, 200)}`;
  const o = parsed as Record<string, unknown>;
  if (status >= 400) {
    if (typeof o.title !== 'string' || o.http_status !== String(status))
      return `not a TAXII error object for ${status}: ${text.slice(0, 200)}`;
    const extra = Object.keys(o).filter((k) => !ERROR_KEYS.has(k));
    if (extra.length > 0) return `unexpected keys in an error object: ${extra.join(', ')}`;
    for (const k of ['description', 'error_id', 'error_code']) {
      if (o[k] !== undefined && typeof o[k] !== 'string') return `error ${k} is not a string`;
    }
    if (/\n\s+at |node_modules|\/src\//.test(text)) return `error body reveals internals: ${text.slice(0, 200)}`;
  } else if (status < 200 || status >= 300) {
    return `unexpected status ${status}`;
  }
  return null;
}

interface Outcome {
  readonly req: FuzzRequest;
  readonly status: number;
  readonly problem: string | null;
}

async function send(req: FuzzRequest): Promise<Outcome> {
  try {
    const res = await fetch(`${node.baseUrl}${req.path}`, {
      method: req.method,
      headers: req.headers,
      body: req.body as never,
      dispatcher: agent,
    });
    const text = await res.text();
    return { req, status: res.status, problem: problem(req, res.status, res.headers.get('content-type'), text) };
  } catch (error) {
    // A body over the limit may be answered (413, Connection: close) before undici has sent
    // all of it; the write then fails. Anything else that breaks a request is a failure.
    const size = typeof req.body === 'string' ? Buffer.byteLength(req.body) : (req.body?.length ?? 0);
    if (size > MAX_BODY) return { req, status: 413, problem: null };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { req, status: 0, problem: `request failed: ${(error as Error).message} ${cause?.code ?? ''} ${cause?.message ?? ''}` };
  }
}

function describeRequest(r: FuzzRequest): string {
  const b =
    r.body === undefined
      ? ''
      : ` body(${typeof r.body === 'string' ? r.body.length : r.body.length}): ${String(typeof r.body === 'string' ? r.body : Buffer.from(r.body).toString('base64')).slice(0, 120)}`;
  return `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers).slice(0, 300)}${b}`;
}

// ---------------------------------------------------------------------------- the run

describe('fuzz: malformed requests against every endpoint', () => {
  it(`${RUNS} generated requests: no 5xx, only TAXII answers, no unexpected errors, same pages afterwards`, async () => {
    const before = await allPages();
    expect(before.length).toBeGreaterThan(10);

    const batch = fc.sample(requests(), { numRuns: RUNS, seed: SEED });
    const outcomes: Outcome[] = [];
    let nextIndex = 0;
    const worker = async () => {
      while (nextIndex < batch.length) {
        const req = batch[nextIndex++] as FuzzRequest;
        outcomes.push(await send(req));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(outcomes).toHaveLength(RUNS);
    const failures = outcomes.filter((o) => o.problem !== null);
    expect(failures.slice(0, 10).map((f) => `${f.problem}\n    ${describeRequest(f.req)}`)).toEqual([]);
    expect(errorLogs.slice(0, 5)).toEqual([]);

    // the generator reached every endpoint, and the answers cover the whole range of refusals
    const perEndpoint = new Map<string, number>();
    for (const o of outcomes) perEndpoint.set(o.req.endpoint, (perEndpoint.get(o.req.endpoint) ?? 0) + 1);
    for (const endpoint of ENDPOINTS) expect(perEndpoint.get(endpoint) ?? 0, endpoint).toBeGreaterThan(100);
    const statuses = new Set(outcomes.map((o) => o.status));
    for (const s of [200, 202, 400, 401, 403, 404, 405, 406, 413, 415, 422]) expect(statuses.has(s), `some ${s}`).toBe(true);

    const after = await allPages();
    expect(after).toEqual(before);
  }, 240_000);
});
