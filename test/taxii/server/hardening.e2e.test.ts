/**
 * Hardening over real HTTPS (raw TLS sockets where a well-behaved client cannot misbehave):
 * request head size limit (431), slow clients cut by the configured timeouts (408 / close),
 * unparseable HTTP (400), filter list limits, and security headers on every kind of answer.
 * Timeouts are set small to trigger the behaviour; no duration is asserted.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { MAX_MATCH_VALUES } from '../../../src/taxii/server/filters.ts';
import { COLLECTIONS, TAXII, basicAuth, startTestNode, testConfigData, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

const MAX_HEADER = 8192;
let t: TestNode;
let ca: string;
let port: number;
const sharedId = indicator().id;

beforeAll(async () => {
  t = await startTestNode((data) => {
    data.limits = {
      max_header_bytes: MAX_HEADER,
      handshake_timeout_seconds: 1,
      headers_timeout_seconds: 1,
      request_timeout_seconds: 2,
      keep_alive_timeout_seconds: 1,
    };
  });
  t.node.ingestor.ingest(COLLECTIONS.shared, [indicator(sharedId)], { source: 'import', detail: 'test' });
  ca = readFileSync(join(t.dir, 'certs', 'dev-ca.crt'), 'utf8');
  port = Number(new URL(t.baseUrl).port);
});
afterAll(async () => {
  await t?.close();
});

interface RawResult {
  /** everything the server sent before it closed the connection */
  text: string;
  /** whether the server closed the connection (within the safety bound) */
  closed: boolean;
}

/**
 * Opens a TLS connection, lets `drive` write to it, and collects what the server sends until it
 * closes the connection. A safety bound (far above the configured timeouts) ends the wait.
 */
function rawExchange(drive: (socket: TLSSocket, stopped: () => boolean) => Promise<void> | void, boundMs = 20_000): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', checkServerIdentity: () => undefined });
    let text = '';
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(bound);
      socket.destroy();
      resolve({ text, closed });
    };
    const bound = setTimeout(() => finish(false), boundMs);
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.once('secureConnect', () => {
      Promise.resolve(drive(socket, () => finished)).catch(reject);
    });
  });
}

function parseRaw(text: string): { status: number; headers: Map<string, string>; body: any } {
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split).split('\r\n');
  const status = Number((head[0] ?? '').split(' ')[1]);
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const rest = text.slice(split + 4);
  let body: unknown = rest;
  try {
    body = JSON.parse(rest);
  } catch {
    // left as text
  }
  return { status, headers, body };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectTaxiiError(r: ReturnType<typeof parseRaw>, status: number) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toBe(TAXII);
  expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  expect(r.headers.get('connection')).toBe('close');
  expect(r.body).toMatchObject({ http_status: String(status) });
  expect(typeof r.body.title).toBe('string');
}

describe('request head size', () => {
  it('a request head above limits.max_header_bytes gets 431 as a TAXII error and the connection is closed', async () => {
    const r = await rawExchange((s) => {
      s.write(
        `GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${basicAuth('alice')}\r\nX-Filler: ${'a'.repeat(MAX_HEADER + 100)}\r\n\r\n`,
      );
    });
    expect(r.closed).toBe(true);
    expectTaxiiError(parseRaw(r.text), 431);
    expect(parseRaw(r.text).body.error_code).toBe('headers-too-large');
  });

  it('a head under the limit is served', async () => {
    const res = await t.request('/taxii2/', { member: 'alice', headers: { accept: TAXII, 'x-filler': 'a'.repeat(MAX_HEADER - 1024) } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe('slow clients', () => {
  it('a client sending its headers byte by byte, never finishing, is cut with 408', async () => {
    const r = await rawExchange(async (s, stopped) => {
      s.write('GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\n');
      // at most 200 bytes, one every 100 ms: far longer than headers_timeout_seconds
      for (let i = 0; i < 200 && !stopped(); i++) {
        s.write('X');
        await sleep(100);
      }
    });
    expect(r.closed).toBe(true);
    expectTaxiiError(parseRaw(r.text), 408);
    expect(parseRaw(r.text).body.error_code).toBe('request-timeout');
  });

  it('a client that never finishes its body is cut with 408', async () => {
    const r = await rawExchange(async (s, stopped) => {
      s.write(
        [
          `POST /isac/collections/${COLLECTIONS.inbox}/objects/ HTTP/1.1`,
          'Host: localhost',
          `Authorization: ${basicAuth('alice')}`,
          `Content-Type: ${TAXII}`,
          `Accept: ${TAXII}`,
          'Content-Length: 100000',
          '',
          '{"objects": [',
        ].join('\r\n'),
      );
      for (let i = 0; i < 200 && !stopped(); i++) {
        s.write(' ');
        await sleep(100);
      }
    });
    expect(r.closed).toBe(true);
    expectTaxiiError(parseRaw(r.text), 408);
  });

  it('a connection that sends nothing after the TLS handshake is closed', async () => {
    const r = await rawExchange(() => undefined);
    expect(r.closed).toBe(true);
  });

  it('a TCP connection that never starts the TLS handshake is closed', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      const bound = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 20_000);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(true);
      });
    });
    expect(closed).toBe(true);
  });

  it('the node keeps serving after slow clients were cut', async () => {
    const r = await t.get(`/isac/collections/${COLLECTIONS.shared}/objects/${sharedId}/`, 'alice');
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(1);
  });
});

describe('request bodies', () => {
  it('a chunked body (no Content-Length) growing past max_content_length is refused early: 413, or the connection cut', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    // The client would send up to 64 MiB (64 times this node's limit) if the server kept
    // reading; with back-pressure, what it managed to send shows how much the server took.
    const available = 64 * 1024 * 1024;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= available) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    let outcome: { kind: 'answered'; status: number; body: unknown } | { kind: 'cut'; cause: string };
    try {
      const res = await t.request(`/isac/collections/${COLLECTIONS.inbox}/objects/`, {
        method: 'POST',
        member: 'alice',
        headers: { accept: TAXII, 'content-type': TAXII },
        body: stream,
        duplex: 'half',
      });
      outcome = { kind: 'answered', status: res.status, body: await res.json() };
    } catch (error) {
      // the server may close the connection while the client is still sending
      outcome = { kind: 'cut', cause: String((error as Error).cause ?? error) };
    }
    console.log(
      `oversized chunked body: ${outcome.kind === 'answered' ? `answered ${outcome.status}` : `connection cut (${outcome.cause})`} after the client sent ${sent} bytes`,
    );
    if (outcome.kind === 'answered') {
      expect(outcome.status).toBe(413);
      expect(outcome.body).toMatchObject({ http_status: '413', error_code: 'too-large' });
    } else {
      expect(outcome.cause).toMatch(/closed|reset|EPIPE|socket/i);
    }
    // either way the server stopped taking the body long before the client ran out of it
    expect(sent).toBeLessThan(available / 4);
  });
});

describe('malformed HTTP', () => {
  it('a request that is not HTTP/1.1 gets 400 as a TAXII error', async () => {
    const r = await rawExchange((s) => {
      s.write('GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n');
    });
    expect(r.closed).toBe(true);
    expectTaxiiError(parseRaw(r.text), 400);
    expect(parseRaw(r.text).body.error_code).toBe('malformed-http');
  });

  it('garbage bytes instead of a request line get 400', async () => {
    const r = await rawExchange((s) => {
      s.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    });
    expectTaxiiError(parseRaw(r.text), 400);
  });
});

describe('filter limits', () => {
  const base = `/isac/collections/${COLLECTIONS.shared}`;
  const list = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(',');
  const cases: Array<[string, string, (i: number) => string]> = [
    ['objects/', 'match[id]', (i) => `indicator--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`],
    ['manifest/', 'match[id]', (i) => `indicator--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`],
    ['objects/', 'match[type]', (i) => `type-${i}`],
    ['objects/', 'match[version]', (i) => new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString()],
    ['objects/', 'match[spec_version]', (i) => `2.${i}`],
  ];

  for (const [endpoint, field, value] of cases) {
    it(`${endpoint} ${field}: ${MAX_MATCH_VALUES} values are accepted, ${MAX_MATCH_VALUES + 1} refused with 400`, async () => {
      const ok = await t.get(`${base}/${endpoint}?${field}=${encodeURIComponent(list(MAX_MATCH_VALUES, value))}`, 'alice');
      expect(ok.status).toBe(200);
      const tooMany = await t.get(`${base}/${endpoint}?${field}=${encodeURIComponent(list(MAX_MATCH_VALUES + 1, value))}`, 'alice');
      expect(tooMany.status).toBe(400);
      expect(tooMany.body).toMatchObject({ http_status: '400', error_code: 'too-many-values' });
    });
  }

  it('an id longer than any STIX identifier is refused in match[id] and names no object in a URL (never a 500)', async () => {
    const huge = `indicator--${'a'.repeat(3000)}`;
    const filtered = await t.get(`${base}/objects/?match[id]=${huge}`, 'alice');
    expect(filtered.status).toBe(400);
    expect(filtered.body.error_code).toBe('invalid-filter');
    for (const suffix of ['', 'versions/']) {
      const long = await t.get(`${base}/objects/${huge}/${suffix}`, 'alice');
      const unknown = await t.get(`${base}/objects/indicator--${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/${suffix}`, 'alice');
      expect(long.status).toBe(404);
      expect(long.body).toEqual(unknown.body);
    }
    const del = await t.request(`${base}/objects/${huge}/`, { method: 'DELETE', member: 'alice', headers: { accept: TAXII } });
    expect(del.status).toBe(404);
    await del.arrayBuffer();
  });

  it('a repeated filter parameter is refused', async () => {
    const r = await t.get(`${base}/objects/?match[type]=indicator&match[type]=malware`, 'alice');
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('duplicate-parameter');
  });
});

describe('security headers', () => {
  const expected = {
    'content-type': TAXII,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000',
  };

  it('are on successes and on every kind of error', async () => {
    const alice = { authorization: basicAuth('alice') };
    const requests: Array<[number, string, { method?: string; headers?: Record<string, string>; body?: string }]> = [
      [200, '/taxii2/', { headers: alice }],
      [200, `${'/isac/collections/'}${COLLECTIONS.shared}/objects/`, { headers: alice }],
      [401, '/taxii2/', {}],
      [404, '/isac/collections/nope/', { headers: alice }],
      [405, '/isac/collections/', { method: 'PUT', headers: alice }],
      [406, '/taxii2/', { headers: { ...alice, accept: 'text/html' } }],
      [400, `/isac/collections/${COLLECTIONS.shared}/objects/?limit=x`, { headers: alice }],
      [
        415,
        `/isac/collections/${COLLECTIONS.inbox}/objects/`,
        { method: 'POST', headers: { ...alice, 'content-type': 'text/plain' }, body: 'x' },
      ],
      [
        422,
        `/isac/collections/${COLLECTIONS.inbox}/objects/`,
        { method: 'POST', headers: { ...alice, 'content-type': TAXII }, body: '[]' },
      ],
      [
        413,
        `/isac/collections/${COLLECTIONS.inbox}/objects/`,
        { method: 'POST', headers: { ...alice, 'content-type': TAXII }, body: 'x'.repeat(1024 * 1024 + 1) },
      ],
    ];
    for (const [status, path, init] of requests) {
      const res = await t.request(path, { method: init.method ?? 'GET', headers: { accept: TAXII, ...init.headers }, body: init.body });
      await res.arrayBuffer();
      expect(res.status, path).toBe(status);
      for (const [name, value] of Object.entries(expected)) expect(res.headers.get(name), `${status} ${path} ${name}`).toBe(value);
    }
  });

  it('are on the answers the HTTP layer gives (431)', async () => {
    const r = await rawExchange((s) => {
      s.write(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(MAX_HEADER * 2)}\r\n\r\n`);
    });
    const parsed = parseRaw(r.text);
    for (const [name, value] of Object.entries(expected)) expect(parsed.headers.get(name), name).toBe(value);
  });
});

describe('limits configuration', () => {
  const base = () => testConfigData('/tmp/relay-data', '/tmp/relay-certs');

  it('has defaults', () => {
    expect(parseConfig(base()).limits).toEqual({
      max_header_bytes: 16_384,
      handshake_timeout_seconds: 10,
      headers_timeout_seconds: 20,
      request_timeout_seconds: 120,
      keep_alive_timeout_seconds: 5,
      pages_in_flight: 16,
      page_queue_length: 500,
      page_queue_timeout_seconds: 30,
      pages_per_member: 8,
      retry_after_seconds: 5,
      page_stall_timeout_seconds: 30,
    });
  });

  it('refuses nonsense with the key path', () => {
    const data = base();
    data.limits = { max_header_bytes: 10, headers_timeout_seconds: 0, body_bytes: 1 };
    let message = '';
    try {
      parseConfig(data);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/limits\.max_header_bytes/);
    expect(message).toMatch(/limits\.headers_timeout_seconds/);
    expect(message).toMatch(/limits\.body_bytes: unknown key/);
    const inverted = base();
    inverted.limits = { headers_timeout_seconds: 60, request_timeout_seconds: 30 };
    expect(() => parseConfig(inverted)).toThrow(/must not exceed limits\.request_timeout_seconds/);
  });
});
