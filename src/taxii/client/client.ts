/**
 * TAXII 2.1 client (undici): one keep-alive connection pool per client, TLS with a custom CA
 * bundle and a client certificate (PEM or PKCS#12), HTTP Basic or Bearer, connect / header /
 * body timeouts, and a cap on response size. Used by upstream polling, `relay probe`, and later
 * share-back forwarding.
 *
 * Two layers: `raw()` returns status, headers and text of any answer (the probe inspects them);
 * the typed methods check status, media type and resource shape and throw the named errors of
 * errors.ts.
 */
import type { Socket } from 'node:net';
import { Agent, buildConnector, errors as undiciErrors, request } from 'undici';
import {
  TaxiiClientError,
  TaxiiConnectionError,
  TaxiiHttpError,
  TaxiiPlainHttpError,
  TaxiiProtocolError,
  TaxiiTimeoutError,
  TaxiiTlsError,
  tlsReason,
} from './errors.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export type ClientAuth =
  { readonly kind: 'basic'; readonly user: string; readonly password: string } | { readonly kind: 'bearer'; readonly token: string };

export interface ClientTls {
  /** PEM CA bundle to trust (in addition to nothing: the bundle replaces the system roots) */
  readonly ca?: string | Buffer;
  /** PEM client certificate chain and key */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** PKCS#12 client certificate and key, with its passphrase */
  readonly pfx?: Buffer;
  readonly passphrase?: string;
  readonly servername?: string;
}

export interface ClientOptions {
  readonly auth?: ClientAuth;
  readonly tls?: ClientTls;
  readonly connectTimeoutMs?: number;
  /** time allowed until the response headers arrive */
  readonly headersTimeoutMs?: number;
  /** time allowed between two chunks of the body */
  readonly bodyTimeoutMs?: number;
  /** larger responses are cut off and reported as a protocol error */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
  /** talk to http:// URLs too (unencrypted: an explicit operator choice); default https only */
  readonly allowPlainHttp?: boolean;
  /** clock for Retry-After dates (tests) */
  readonly now?: () => number;
}

export interface RawResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

export interface Discovery {
  readonly title: string;
  readonly description?: string;
  readonly default?: string;
  readonly api_roots?: string[];
}

export interface ApiRoot {
  readonly title: string;
  readonly versions: string[];
  readonly max_content_length: number;
  readonly description?: string;
}

export interface RemoteCollection {
  readonly id: string;
  readonly title: string;
  readonly alias?: string;
  readonly can_read: boolean;
  readonly can_write: boolean;
  readonly media_types?: string[];
}

export interface ObjectsQuery {
  readonly addedAfter?: string | null;
  readonly limit?: number;
  readonly next?: string | null;
  /** e.g. "all", "first", "last" or a comma-separated list */
  readonly matchVersion?: string;
  readonly matchType?: string;
  readonly matchId?: string;
}

export interface ObjectsPage {
  readonly url: string;
  /** the envelope's objects, unvalidated (each may be anything) */
  readonly objects: unknown[];
  readonly more: boolean;
  readonly next: string | undefined;
  readonly dateAddedFirst: string | undefined;
  readonly dateAddedLast: string | undefined;
  readonly bytes: number;
}

export interface ManifestRecord {
  readonly id: string;
  readonly date_added: string;
  readonly version: string;
  readonly media_type?: string;
}

export interface ManifestPage {
  readonly records: ManifestRecord[];
  readonly more: boolean;
  readonly next: string | undefined;
  readonly dateAddedLast: string | undefined;
}

export interface AddStatus {
  readonly id: string;
  readonly status: string;
  readonly total_count: number;
  readonly success_count: number;
  readonly failure_count: number;
  readonly pending_count: number;
}

/** One object in a status resource's successes, failures or pendings. */
export interface RemoteStatusDetail {
  readonly id: string;
  readonly version: string;
  readonly message?: string;
}

/** A status resource [T §4.3.1] as read back (Get Status), its lists checked. */
export interface RemoteStatus extends AddStatus {
  readonly status: 'complete' | 'pending';
  readonly successes: readonly RemoteStatusDetail[];
  readonly failures: readonly RemoteStatusDetail[];
  readonly pendings: readonly RemoteStatusDetail[];
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  maxResponseBytes: 256 * 1024 * 1024,
};
const EXCERPT = 2048;

export class TaxiiClient {
  private readonly agent: Agent;
  private readonly authorization: string | undefined;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private readonly allowPlainHttp: boolean;
  private readonly now: () => number;

  constructor(options: ClientOptions = {}) {
    const tls = options.tls ?? {};
    const connector = buildConnector({
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.pfx !== undefined ? { pfx: tls.pfx } : {}),
      ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
      minVersion: 'TLSv1.2',
      timeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    } as buildConnector.BuildOptions);
    this.agent = new Agent({
      // With TLS 1.3 a server that refuses our certificate (or its absence) sends its alert
      // after the handshake; undici then reports only "other side closed". The socket saw the
      // alert: remember it by local port so the error can name the cause.
      connect: (opts, callback) => {
        try {
          connector(opts, (...args: buildConnector.CallbackArgs) => {
            const socket = args[1];
            if (socket) {
              const port = (socket as Socket).localPort;
              socket.prependListener('error', (e: Error) => {
                if (port !== undefined && tlsReason(e)) this.rememberTlsFailure(port, e);
              });
            }
            callback(...args);
          });
        } catch (error) {
          // e.g. an unreadable PKCS#12 (wrong passphrase) throws synchronously
          callback(error as Error, null);
        }
      },
      headersTimeout: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
      keepAliveTimeout: 10_000,
      connections: 4,
    });
    this.authorization =
      options.auth?.kind === 'basic'
        ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`
        : options.auth?.kind === 'bearer'
          ? `Bearer ${options.auth.token}`
          : undefined;
    this.presentsCertificate = tls.cert !== undefined || tls.pfx !== undefined;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
    this.userAgent = options.userAgent ?? 'relay-taxii-client/0.1';
    this.allowPlainHttp = options.allowPlainHttp ?? false;
    this.now = options.now ?? Date.now;
  }

  private readonly tlsFailures = new Map<number, Error>();
  private readonly presentsCertificate: boolean;

  private rememberTlsFailure(port: number, error: Error): void {
    this.tlsFailures.set(port, error);
    if (this.tlsFailures.size > 64) this.tlsFailures.delete(this.tlsFailures.keys().next().value as number);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Closes at once, aborting requests in flight (shutdown while a server hangs). */
  async destroy(): Promise<void> {
    await this.agent.destroy();
  }

  /** Any request; transport failures become named errors, HTTP statuses are returned as is. */
  async raw(
    url: string,
    init: { method?: 'GET' | 'POST'; body?: string; accept?: string; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<RawResponse> {
    // Checked per request, not only for the configured URL: discovery may name other hosts.
    if (/^http:\/\//i.test(url) && !this.allowPlainHttp) throw new TaxiiPlainHttpError(url);
    const headers: Record<string, string> = {
      accept: init.accept ?? TAXII_MEDIA_TYPE,
      'user-agent': this.userAgent,
    };
    if (this.authorization) headers.authorization = this.authorization;
    if (init.body !== undefined) headers['content-type'] = init.contentType ?? TAXII_MEDIA_TYPE;
    let response;
    try {
      response = await request(url, {
        dispatcher: this.agent,
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      throw transportError(this.withTlsCause(error), url);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.maxResponseBytes) {
          response.body.destroy();
          throw new TaxiiProtocolError('too-large', `response larger than ${this.maxResponseBytes} bytes`, url);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof TaxiiClientError) throw error;
      throw transportError(this.withTlsCause(error), url);
    }
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { url, status: response.statusCode, headers: flat, text: Buffer.concat(chunks).toString('utf8') };
  }

  /** A broken socket that had seen a TLS alert is reported as that alert. */
  private withTlsCause(error: unknown): unknown {
    const socket = (error as { socket?: { localPort?: number; bytesRead?: number } }).socket;
    const port = socket?.localPort;
    if (port === undefined) return error;
    const tls = this.tlsFailures.get(port);
    if (tls) {
      this.tlsFailures.delete(port);
      return tls;
    }
    // A fresh connection closed right after the handshake, before any byte of an answer, when
    // we presented a client certificate: servers that reject a certificate in TLS 1.3 often
    // just close (the alert may never reach us).
    if (this.presentsCertificate && socket?.bytesRead === 0 && (error as { code?: string }).code === 'UND_ERR_SOCKET') {
      return Object.assign(new Error('the server closed the connection right after the TLS handshake, before answering'), {
        code: 'CLIENT_CERT_REJECTED',
        cause: error,
      });
    }
    return error;
  }

  /** GET a TAXII resource: 2xx with the TAXII media type and a JSON object body, else throws. */
  async getJson(url: string, signal?: AbortSignal): Promise<{ response: RawResponse; body: Record<string, unknown> }> {
    const response = await this.raw(url, signal ? { signal } : {});
    return { response, body: this.expectTaxiiJson(response) };
  }

  /** Checks a raw answer: throws TaxiiHttpError for non-2xx and TaxiiProtocolError for non-TAXII bodies. */
  expectTaxiiJson(response: RawResponse): Record<string, unknown> {
    if (response.status < 200 || response.status > 299) throw httpError(response, this.now());
    const mediaProblem = checkTaxiiMediaType(response.headers['content-type']);
    if (mediaProblem) {
      throw new TaxiiProtocolError('media-type', mediaProblem, response.url, response.text.slice(0, EXCERPT));
    }
    let body: unknown;
    try {
      body = response.text === '' ? {} : JSON.parse(response.text);
    } catch (error) {
      throw new TaxiiProtocolError(
        'json',
        `malformed JSON (${(error as Error).message}) in ${response.text.length} bytes`,
        response.url,
        response.text.slice(0, EXCERPT),
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new TaxiiProtocolError('resource', 'the body is not a JSON object', response.url, response.text.slice(0, EXCERPT));
    }
    return body as Record<string, unknown>;
  }

  async discovery(url: string): Promise<Discovery> {
    const { response, body } = await this.getJson(url);
    if (typeof body.title !== 'string') throw shapeError(response, "a discovery resource needs a 'title'");
    if (body.api_roots !== undefined && !isStringList(body.api_roots)) throw shapeError(response, "'api_roots' is not a list of strings");
    return body as unknown as Discovery;
  }

  async apiRoot(url: string): Promise<ApiRoot> {
    const { response, body } = await this.getJson(url);
    return parseApiRoot(body, response);
  }

  async collections(apiRootUrl: string): Promise<RemoteCollection[]> {
    const { response, body } = await this.getJson(join(apiRootUrl, 'collections/'));
    if (body.collections === undefined) return [];
    if (!Array.isArray(body.collections)) throw shapeError(response, "'collections' is not a list");
    for (const c of body.collections as unknown[]) {
      const r = c as Record<string, unknown>;
      if (!r || typeof r.id !== 'string' || typeof r.title !== 'string') throw shapeError(response, "a collection lacks 'id' or 'title'");
    }
    return body.collections as RemoteCollection[];
  }

  objectsUrl(apiRootUrl: string, collectionId: string, query: ObjectsQuery = {}, endpoint = 'objects'): string {
    const params = new URLSearchParams();
    if (query.addedAfter) params.set('added_after', query.addedAfter);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.matchVersion) params.set('match[version]', query.matchVersion);
    if (query.matchType) params.set('match[type]', query.matchType);
    if (query.matchId) params.set('match[id]', query.matchId);
    if (query.next) params.set('next', query.next);
    const search = params.toString();
    return `${join(apiRootUrl, `collections/${encodeURIComponent(collectionId)}/${endpoint}/`)}${search ? `?${search}` : ''}`;
  }

  /** One page of Get Objects. Throws on HTTP errors, wrong media type, malformed envelopes. */
  async getObjects(apiRootUrl: string, collectionId: string, query: ObjectsQuery = {}, signal?: AbortSignal): Promise<ObjectsPage> {
    const url = this.objectsUrl(apiRootUrl, collectionId, query);
    const response = await this.raw(url, signal ? { signal } : {});
    return this.parseObjectsPage(response);
  }

  parseObjectsPage(response: RawResponse): ObjectsPage {
    const body = this.expectTaxiiJson(response);
    const envelopeProblem = checkEnvelope(body, 'objects');
    if (envelopeProblem) throw new TaxiiProtocolError('envelope', envelopeProblem, response.url, response.text.slice(0, EXCERPT));
    return {
      url: response.url,
      objects: (body.objects as unknown[] | undefined) ?? [],
      more: body.more === true,
      next: typeof body.next === 'string' && body.next !== '' ? body.next : undefined,
      dateAddedFirst: response.headers['x-taxii-date-added-first'],
      dateAddedLast: response.headers['x-taxii-date-added-last'],
      bytes: response.text.length,
    };
  }

  async getManifest(apiRootUrl: string, collectionId: string, query: ObjectsQuery = {}): Promise<ManifestPage> {
    const response = await this.raw(this.objectsUrl(apiRootUrl, collectionId, query, 'manifest'));
    const body = this.expectTaxiiJson(response);
    const problem = checkEnvelope(body, 'objects');
    if (problem) throw new TaxiiProtocolError('envelope', problem, response.url, response.text.slice(0, EXCERPT));
    const records = ((body.objects as unknown[] | undefined) ?? []).filter(
      (r): r is ManifestRecord =>
        !!r &&
        typeof (r as ManifestRecord).id === 'string' &&
        typeof (r as ManifestRecord).date_added === 'string' &&
        typeof (r as ManifestRecord).version === 'string',
    );
    return {
      records,
      more: body.more === true,
      next: typeof body.next === 'string' ? body.next : undefined,
      dateAddedLast: response.headers['x-taxii-date-added-last'],
    };
  }

  /**
   * Add Objects, split into as many envelopes as needed so that no request body exceeds
   * `maxContentLength` (the API root's max_content_length). Returns one status per request.
   * An object that alone does not fit is refused before anything is sent.
   */
  async addObjects(apiRootUrl: string, collectionId: string, objects: readonly unknown[], maxContentLength: number): Promise<AddStatus[]> {
    const url = join(apiRootUrl, `collections/${encodeURIComponent(collectionId)}/objects/`);
    const statuses: AddStatus[] = [];
    for (const body of splitEnvelopes(objects, maxContentLength)) {
      const response = await this.raw(url, { method: 'POST', body });
      const status = this.expectTaxiiJson(response);
      if (typeof status.id !== 'string' || typeof status.status !== 'string')
        throw shapeError(response, 'the answer is not a status resource');
      statuses.push(status as unknown as AddStatus);
    }
    return statuses;
  }

  /**
   * Add Objects with a body serialized by the caller (one envelope, sent as is): the forwarder
   * keeps its objects as JSON text and decides itself how to split. Returns the status resource.
   */
  async addEnvelope(apiRootUrl: string, collectionId: string, body: string, signal?: AbortSignal): Promise<RemoteStatus> {
    const url = join(apiRootUrl, `collections/${encodeURIComponent(collectionId)}/objects/`);
    const response = await this.raw(url, { method: 'POST', body, ...(signal ? { signal } : {}) });
    return parseStatus(this.expectTaxiiJson(response), response);
  }

  /** Get Status [T §4.3]: the status resource of an earlier Add Objects request. */
  async status(apiRootUrl: string, statusId: string, signal?: AbortSignal): Promise<RemoteStatus> {
    const { response, body } = await this.getJson(join(apiRootUrl, `status/${encodeURIComponent(statusId)}/`), signal);
    return parseStatus(body, response);
  }
}

/** Checks a status resource's shape; absent lists are empty. */
export function parseStatus(body: Record<string, unknown>, response: RawResponse): RemoteStatus {
  if (typeof body.id !== 'string' || body.id === '') throw shapeError(response, "a status resource needs an 'id'");
  if (body.status !== 'complete' && body.status !== 'pending') throw shapeError(response, "a status is 'complete' or 'pending'");
  const list = (key: 'successes' | 'failures' | 'pendings'): RemoteStatusDetail[] => {
    const value = body[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw shapeError(response, `'${key}' is not a list`);
    return value.map((d: unknown) => {
      const r = d as Record<string, unknown> | null;
      if (!r || typeof r.id !== 'string') throw shapeError(response, `an entry of '${key}' lacks an 'id'`);
      return {
        id: r.id,
        version: typeof r.version === 'string' ? r.version : '',
        ...(typeof r.message === 'string' ? { message: r.message } : {}),
      };
    });
  };
  const count = (key: string) => (typeof body[key] === 'number' ? (body[key] as number) : 0);
  return {
    id: body.id,
    status: body.status,
    total_count: count('total_count'),
    success_count: count('success_count'),
    failure_count: count('failure_count'),
    pending_count: count('pending_count'),
    successes: list('successes'),
    failures: list('failures'),
    pendings: list('pendings'),
  };
}

/** Serializes objects into envelope bodies each at most `maxBytes` long (UTF-8). */
export function splitEnvelopes(objects: readonly unknown[], maxBytes: number): string[] {
  const head = '{"objects":[';
  const tail = ']}';
  const overhead = Buffer.byteLength(head) + Buffer.byteLength(tail);
  const bodies: string[] = [];
  let parts: string[] = [];
  let size = overhead;
  for (const object of objects) {
    const text = JSON.stringify(object);
    const bytes = Buffer.byteLength(text);
    if (overhead + bytes > maxBytes) {
      const id = (object as { id?: unknown })?.id;
      throw new RangeError(
        `object ${typeof id === 'string' ? id : ''} is ${bytes} bytes; the server accepts at most ${maxBytes} per request`,
      );
    }
    const added = bytes + (parts.length > 0 ? 1 : 0);
    if (size + added > maxBytes) {
      bodies.push(head + parts.join(',') + tail);
      parts = [];
      size = overhead;
    }
    size += bytes + (parts.length > 0 ? 1 : 0);
    parts.push(text);
  }
  if (parts.length > 0) bodies.push(head + parts.join(',') + tail);
  return bodies;
}

/** Joins a base URL ending in "/" (added if missing) and a relative path. */
export function join(base: string, path: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}${path}`;
}

/** Returns a problem description when the Content-Type is not TAXII 2.1, else undefined. */
export function checkTaxiiMediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return 'no Content-Type; expected application/taxii+json;version=2.1';
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'application/taxii+json') {
    return `Content-Type is "${contentType}"; expected application/taxii+json;version=2.1`;
  }
  const version = params.find((p) => p.toLowerCase().startsWith('version='));
  if (version && version.slice('version='.length).replace(/"/g, '').trim() !== '2.1') {
    return `Content-Type is "${contentType}"; expected TAXII version 2.1`;
  }
  return undefined;
}

/** Returns a problem description when `body` is not an envelope-like resource. */
export function checkEnvelope(body: Record<string, unknown>, listKey: string): string | undefined {
  if (body[listKey] !== undefined && !Array.isArray(body[listKey])) return `'${listKey}' is not a list`;
  if (body.more !== undefined && typeof body.more !== 'boolean') return "'more' is not a boolean";
  if (body.next !== undefined && typeof body.next !== 'string') return "'next' is not a string";
  return undefined;
}

export function parseApiRoot(body: Record<string, unknown>, response: RawResponse): ApiRoot {
  if (typeof body.title !== 'string') throw shapeError(response, "an API root needs a 'title'");
  if (!isStringList(body.versions)) throw shapeError(response, "an API root needs 'versions'");
  if (typeof body.max_content_length !== 'number' || !(body.max_content_length > 0)) {
    throw shapeError(response, "an API root needs a positive 'max_content_length'");
  }
  return body as unknown as ApiRoot;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function shapeError(response: RawResponse, message: string): TaxiiProtocolError {
  return new TaxiiProtocolError('resource', message, response.url, response.text.slice(0, EXCERPT));
}

/** Retry-After: delay-seconds or an HTTP date, as milliseconds from `now` (never negative). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function httpError(response: RawResponse, now: number): TaxiiHttpError {
  let title: string | undefined;
  let description: string | undefined;
  try {
    const body = JSON.parse(response.text) as { title?: unknown; description?: unknown };
    if (typeof body.title === 'string') title = body.title;
    if (typeof body.description === 'string') description = body.description;
  } catch {
    // not a TAXII error body; the status says enough
  }
  return new TaxiiHttpError(response.status, title, response.url, parseRetryAfter(response.headers['retry-after'], now), description);
}

function transportError(error: unknown, url: string): TaxiiClientError {
  if (error instanceof TaxiiClientError) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError) return new TaxiiTimeoutError('headers', url, { cause: error });
  if (error instanceof undiciErrors.BodyTimeoutError) return new TaxiiTimeoutError('body', url, { cause: error });
  if (error instanceof undiciErrors.ConnectTimeoutError) return new TaxiiTimeoutError('connect', url, { cause: error });
  const tls = tlsReason(error);
  if (tls) return new TaxiiTlsError(tls.reason, tls.code, url, { cause: error });
  const code = (error as { code?: unknown }).code;
  return new TaxiiConnectionError(typeof code === 'string' ? code : undefined, url, { cause: error });
}
