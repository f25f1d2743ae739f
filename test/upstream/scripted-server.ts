/**
 * A small scripted TAXII 2.1 server for upstream tests (node:https, certificates from the
 * project's own PKI; or plain node:http when asked). It serves an in-memory list of objects with
 * correct paging by default, and can be told to misbehave: a queue of faults consumed one per
 * Get Objects request, and quirks that real servers have (inclusive added_after, more:false while
 * more exists, no date headers, ignoring `next`, one `next` per paging session as medallion
 * does). Every socket is destroyed on close, hung ones included.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createCa, issueLeaf, type KeyAndCert } from '../../src/pki/forge.ts';
import { formatTaxiiTimestamp, parseTaxiiTimestamp } from '../../src/stix/time.ts';

export const TAXII = 'application/taxii+json;version=2.1';
export const FEED_ID = '9a7f0e55-2f6e-4e8c-9d1b-4b8f2d6c0a11';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly title?: string }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'media-type'; readonly type: string }
  | { readonly kind: 'hang' }
  | { readonly kind: 'none' };

export interface Quirks {
  /** added_after includes the boundary object (date_added >= instead of >) */
  inclusiveAddedAfter?: boolean;
  /** always says more:false (and never offers next) */
  moreAlwaysFalse?: boolean;
  /** omits X-TAXII-Date-Added-First/Last */
  noDateHeaders?: boolean;
  /** offers `next` but ignores it (always answers the first page of the query) */
  ignoreNext?: boolean;
  /** never offers `next` (clients must use added_after) */
  noNext?: boolean;
  /** answers every page with no objects, more=true and a fresh next token, forever */
  endlessEmptyPages?: boolean;
  /**
   * pages as the OASIS reference server (medallion) does: one `next` token per paging session,
   * repeated on every page of it; each request with the token answers the session's following
   * page (the session moves on even when that answer is lost on the way); an unknown or
   * finished token, or other query parameters with it, get 400
   */
  sessionNext?: boolean;
  /** after the last page says more:true with a `next` that leads back to the first page */
  nextWrapsAround?: boolean;
}

export interface Item {
  readonly object: unknown;
  readonly dateAdded: number; // micros
}

export interface ScriptedServer {
  /** https://127.0.0.1:<port>, or http:// with `plainHttp` */
  readonly url: string;
  readonly discoveryUrl: string;
  readonly apiRootUrl: string;
  readonly caPem: string;
  readonly ca: KeyAndCert;
  readonly items: Item[];
  readonly faults: Fault[];
  quirks: Quirks;
  /** credentials required (Authorization header value), when set */
  requireAuthorization: string | undefined;
  /** Authorization headers seen, in order */
  readonly authorizations: Array<string | undefined>;
  /** Get Objects requests seen (path + query) */
  readonly objectRequests: string[];
  add(objects: readonly unknown[]): void;
  close(): Promise<void>;
}

let clock = Date.parse('2025-01-01T00:00:00Z') * 1000;

export async function startScriptedServer(
  options: {
    requestCert?: boolean;
    clientCa?: KeyAndCert;
    ca?: KeyAndCert;
    handler?: (req: IncomingMessage, res: ServerResponse) => boolean;
    /** serve plain HTTP (no TLS at all) */
    plainHttp?: boolean;
  } = {},
): Promise<ScriptedServer> {
  const ca = options.ca ?? (await createCa('scripted test CA'));
  const leaf = await issueLeaf(ca, { commonName: 'localhost', kind: 'server', altNames: ['localhost', '127.0.0.1'], days: 2 });
  const sockets = new Set<Socket>();
  const state = {
    items: [] as Item[],
    faults: [] as Fault[],
    quirks: {} as Quirks,
    requireAuthorization: undefined as string | undefined,
    authorizations: [] as Array<string | undefined>,
    objectRequests: [] as string[],
    sessions: new Map<string, Session>(),
    sessionCount: 0,
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (options.handler?.(req, res)) return;
    handle(state, req, res);
  };
  const server: Server = options.plainHttp
    ? createHttpServer(listener)
    : createHttpsServer(
        {
          key: leaf.keyPem,
          cert: leaf.certPem,
          ...(options.requestCert ? { requestCert: true, rejectUnauthorized: true, ca: (options.clientCa ?? ca).certPem } : {}),
        },
        listener,
      );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `${options.plainHttp ? 'http' : 'https'}://127.0.0.1:${port}`;
  const self: ScriptedServer = {
    url,
    discoveryUrl: `${url}/taxii2/`,
    apiRootUrl: `${url}/api/`,
    caPem: ca.certPem,
    ca,
    items: state.items,
    faults: state.faults,
    get quirks() {
      return state.quirks;
    },
    set quirks(q: Quirks) {
      state.quirks = q;
    },
    get requireAuthorization() {
      return state.requireAuthorization;
    },
    set requireAuthorization(v: string | undefined) {
      state.requireAuthorization = v;
    },
    authorizations: state.authorizations,
    objectRequests: state.objectRequests,
    add(objects) {
      for (const object of objects) {
        clock += 1000; // 1 ms apart, unique
        state.items.push({ object, dateAdded: clock });
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': TAXII, ...headers });
  res.end(text);
}

function versionOf(o: unknown): string {
  const r = o as Record<string, unknown>;
  return typeof r?.modified === 'string' ? r.modified : typeof r?.created === 'string' ? r.created : '';
}

/** A medallion-style paging session: the query it pages and where its next page starts. */
interface Session {
  readonly params: string;
  offset: number;
}

interface State {
  items: Item[];
  faults: Fault[];
  quirks: Quirks;
  requireAuthorization: string | undefined;
  authorizations: Array<string | undefined>;
  objectRequests: string[];
  sessions: Map<string, Session>;
  sessionCount: number;
}

function handle(state: State, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  state.authorizations.push(req.headers.authorization);
  if (state.requireAuthorization !== undefined && req.headers.authorization !== state.requireAuthorization) {
    send(res, 401, { title: 'Unauthorized', http_status: '401' }, { 'www-authenticate': 'Basic realm="scripted"' });
    return;
  }
  const path = url.pathname;
  if (path === '/taxii2/') return send(res, 200, { title: 'Scripted server', default: '/api/', api_roots: ['/api/'] });
  if (path === '/api/') return send(res, 200, { title: 'Scripted API root', versions: [TAXII], max_content_length: 1_000_000 });
  if (path === '/api/collections/') {
    return send(res, 200, {
      collections: [
        {
          id: FEED_ID,
          alias: 'feed',
          title: 'Scripted feed',
          can_read: true,
          can_write: false,
          media_types: ['application/stix+json;version=2.1'],
        },
      ],
    });
  }
  const m = /^\/api\/collections\/([^/]+)\/(objects|manifest)\/$/.exec(path);
  if (!m || (m[1] !== FEED_ID && m[1] !== 'feed')) return send(res, 404, { title: 'Not found' });
  const endpoint = m[2];
  if (endpoint === 'objects') {
    state.objectRequests.push(`${path}${url.search}`);
    const fault = state.faults.shift();
    if (fault && fault.kind !== 'none') {
      switch (fault.kind) {
        case 'status':
          return send(
            res,
            fault.status,
            { title: fault.title ?? `scripted ${fault.status}` },
            fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
          );
        case 'hang':
          return; // never answer: the client's timeout must cut it
        case 'media-type':
          res.writeHead(200, { 'content-type': fault.type });
          res.end('<html><body>maintenance</body></html>');
          return;
        case 'truncate': {
          const page = pageOf(state, url, 'objects');
          res.writeHead(page.status, { 'content-type': TAXII, ...page.headers });
          res.end(page.text.slice(0, Math.floor(page.text.length / 2)));
          return;
        }
      }
    }
  }
  const page = pageOf(state, url, endpoint as 'objects' | 'manifest');
  res.writeHead(page.status, { 'content-type': TAXII, ...page.headers });
  res.end(page.text);
}

function pageOf(
  state: State,
  url: URL,
  endpoint: 'objects' | 'manifest',
): { status: number; text: string; headers: Record<string, string> } {
  const q = state.quirks;
  if (q.endlessEmptyPages) {
    return {
      status: 200,
      text: JSON.stringify({ more: true, next: String(Number(url.searchParams.get('next') ?? '0') + 1) }),
      headers: {},
    };
  }
  const addedAfterText = url.searchParams.get('added_after');
  const addedAfter = addedAfterText ? (parseTaxiiTimestamp(addedAfterText) ?? 0) : -1;
  const limit = Number(url.searchParams.get('limit') ?? '100');
  const matchVersion = url.searchParams.get('match[version]') ?? 'last';
  let candidates = state.items.slice().sort((a, b) => a.dateAdded - b.dateAdded);
  if (matchVersion !== 'all') {
    const latest = new Map<string, Item>();
    for (const it of candidates) {
      const id = String((it.object as { id?: unknown })?.id);
      const prev = latest.get(id);
      if (!prev || versionOf(it.object) >= versionOf(prev.object)) latest.set(id, it);
    }
    const keep = new Set(latest.values());
    candidates = candidates.filter((it) => keep.has(it));
  }
  candidates = candidates.filter((it) => (q.inclusiveAddedAfter ? it.dateAdded >= addedAfter : it.dateAdded > addedAfter));
  const given = url.searchParams.get('next');
  const sessions = q.sessionNext && endpoint === 'objects';
  let offset = !q.ignoreNext && given ? Number(given) : 0;
  let token = String(offset + limit);
  if (sessions) {
    const params = [...url.searchParams]
      .filter(([k]) => k !== 'next')
      .sort()
      .join('&');
    const session = given ? state.sessions.get(given) : undefined;
    if (given && (!session || session.params !== params)) {
      return { status: 400, text: JSON.stringify({ title: "'next' not valid", http_status: '400' }), headers: {} };
    }
    offset = session?.offset ?? 0;
    token = given ?? `session-${++state.sessionCount}`;
    if (offset + limit < candidates.length) state.sessions.set(token, { params, offset: offset + limit });
    else state.sessions.delete(token);
  }
  const slice = candidates.slice(offset, offset + limit);
  const wraps = q.nextWrapsAround === true && slice.length > 0 && offset + limit >= candidates.length;
  const more = offset + limit < candidates.length || wraps;
  if (wraps) token = '0';
  const body: Record<string, unknown> = {};
  if (slice.length > 0) {
    body.more = q.moreAlwaysFalse ? false : more;
    if (more && !q.moreAlwaysFalse && !q.noNext) body.next = token;
    body.objects =
      endpoint === 'objects'
        ? slice.map((it) => it.object)
        : slice.map((it) => ({
            id: (it.object as { id?: unknown }).id,
            date_added: formatTaxiiTimestamp(it.dateAdded),
            version: versionOf(it.object),
            media_type: 'application/stix+json;version=2.1',
          }));
  }
  const headers: Record<string, string> = {};
  if (slice.length > 0 && !q.noDateHeaders) {
    headers['x-taxii-date-added-first'] = formatTaxiiTimestamp((slice[0] as Item).dateAdded);
    headers['x-taxii-date-added-last'] = formatTaxiiTimestamp((slice[slice.length - 1] as Item).dateAdded);
  }
  return { status: 200, text: JSON.stringify(body), headers };
}

/**
 * A small valid corpus: `n` indicators with `versions` versions each (distinct modified), marked
 * TLP:CLEAR (TLP 1.0 WHITE) so a relay's member policy may redistribute them.
 */
export function indicators(n: number, versions = 1, prefix = 0): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const id = `indicator--${(prefix * 1_000_000 + i).toString(16).padStart(8, '0')}-1111-4111-8111-111111111111`;
    for (let v = 0; v < versions; v++) {
      out.push({
        type: 'indicator',
        spec_version: '2.1',
        id,
        created: '2024-01-01T00:00:00.000Z',
        modified: `2024-01-0${v + 1}T00:00:00.000Z`,
        name: `indicator ${i} v${v}`,
        pattern: `[ipv4-addr:value = '10.0.${i % 250}.${v}']`,
        pattern_type: 'stix',
        valid_from: '2024-01-01T00:00:00Z',
        object_marking_refs: ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9'],
      });
    }
  }
  return out;
}
