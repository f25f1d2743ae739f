import type { TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { TAXII, indicators, startScriptedServer } from './scripted-server.ts';
import { caFile, keysOf, startPoller } from './support.ts';

/** A pino logger whose JSON lines are kept for the test to read. */
function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const PASSWORD = 'lab-password';

describe('a plain-HTTP upstream', () => {
  it('is polled over unencrypted HTTP with insecure_http: true, with a warning at start naming it', async () => {
    const encrypted: boolean[] = [];
    const server = await startScriptedServer({
      plainHttp: true,
      handler: (req) => {
        encrypted.push((req.socket as TLSSocket).encrypted === true);
        return false;
      },
    });
    server.requireAuthorization = `Basic ${Buffer.from(`relay-b:${PASSWORD}`).toString('base64')}`;
    const objects = indicators(12);
    server.add(objects);
    const { log, lines } = capturingLogger();
    const b = startPoller(
      () => [
        {
          name: 'lab',
          url: server.discoveryUrl,
          insecure_http: true,
          auth: { user: 'relay-b', password_env: 'LAB_PASSWORD' },
          collections: [{ remote: 'feed', local: 'mirror', page_size: 5 }],
        },
      ],
      { env: { LAB_PASSWORD: PASSWORD }, log, start: true },
    );
    try {
      expect(server.url).toMatch(/^http:\/\//);
      // the started loop polls at once; this waits for a complete cycle after it
      const [result] = await b.manager.pollNow();
      expect(result).toMatchObject({ ok: true, caughtUp: true });
      expect(b.manager.status()[0]).toMatchObject({ state: 'idle', versionsStored: 12 });
      expect(new Set(b.versions())).toEqual(new Set(keysOf(objects)));
      expect(encrypted.length).toBeGreaterThan(0);
      expect(encrypted.every((e) => !e)).toBe(true);

      const warning = lines.find((l) => l.level === 40 && String(l.msg).includes('plain HTTP'));
      expect(warning).toMatchObject({ upstream: 'lab', url: server.discoveryUrl });
      expect(String(warning?.msg)).toMatch(
        /upstream "lab" allows plain HTTP \(insecure_http: true\): its traffic and credentials travel unencrypted/,
      );
      expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    } finally {
      await b.close();
      await server.close();
    }
  });

  it('is refused without insecure_http, naming the key that allows it', () => {
    const config = {
      node: { id: 'b', title: 'B' },
      api_roots: [{ path: 'isac', title: 'B', collections: [{ id: 'aaaaaaaa-0000-4000-8000-000000000001', alias: 'mirror', title: 'M' }] }],
      upstreams: [{ name: 'lab', url: 'http://127.0.0.1:9/taxii2/', collections: [{ remote: 'feed', local: 'mirror' }] }],
    };
    expect(() => parseConfig(config)).toThrow(ConfigError);
    expect(() => parseConfig(config)).toThrow(/upstreams\[0\]\.url: plain http:\/\/ is refused .*set insecure_http: true/);
  });

  it('is not reached when an https upstream names it as an API root (no silent downgrade)', async () => {
    const plain = await startScriptedServer({ plainHttp: true });
    plain.add(indicators(3));
    const hub = await startScriptedServer({
      handler: (req, res) => {
        if (req.url !== '/taxii2/') return false;
        res.writeHead(200, { 'content-type': TAXII });
        res.end(JSON.stringify({ title: 'Downgrading hub', api_roots: [plain.apiRootUrl] }));
        return true;
      },
    });
    const b = startPoller(
      (dir) => [
        {
          name: 'hub',
          url: hub.discoveryUrl,
          auth: { token_env: 'HUB_TOKEN' },
          tls: { ca_file: caFile(dir, hub.caPem) },
          collections: [{ remote: 'feed', local: 'mirror' }],
        },
      ],
      { env: { HUB_TOKEN: 'hub-token' } },
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result?.ok).toBe(false);
      expect(result?.error).toMatch(/^upstream "hub": refusing plain HTTP to http:\/\/127\.0\.0\.1:\d+\/api\/: /);
      expect(result?.error).toContain('set upstreams[hub].insecure_http: true');
      expect(b.manager.status()[0]).toMatchObject({ state: 'config-error' });
      expect(plain.authorizations).toHaveLength(0); // not one request, so the token never went out in clear
    } finally {
      await b.close();
      await hub.close();
      await plain.close();
    }
  });
});
