import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Ingestor } from '../../src/ingest/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { UpstreamManager } from '../../src/upstream/index.ts';
import { indicators, startScriptedServer } from './scripted-server.ts';
import { caFile, startPoller } from './support.ts';

describe('poller lifecycle', () => {
  it('close() cuts a request hung on the upstream instead of waiting for its timeout', async () => {
    const server = await startScriptedServer();
    server.add(indicators(5));
    server.faults.push({ kind: 'hang' });
    const b = startPoller(
      (dir) => [
        {
          name: 'hub',
          url: server.discoveryUrl,
          tls: { ca_file: caFile(dir, server.caPem) },
          timeouts: { response: '10m' }, // far beyond this test's own timeout
          collections: [{ remote: 'feed', local: 'mirror' }],
        },
      ],
      { start: true },
    );
    try {
      for (let i = 0; i < 500 && server.objectRequests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(server.objectRequests).toHaveLength(1); // the loop is now waiting on the hung request
      await b.manager.close();
      expect(b.manager.status()[0]?.state).toBe('stopped');
    } finally {
      await b.close();
      await server.close();
    }
  }, 30_000);

  it('logs backfill progress (objects, objects/s) on long cycles', async () => {
    const server = await startScriptedServer();
    server.add(indicators(30));
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const b = startPoller((dir) => [
      {
        name: 'hub',
        url: server.discoveryUrl,
        tls: { ca_file: caFile(dir, server.caPem) },
        collections: [{ remote: 'feed', local: 'mirror', page_size: 10 }],
      },
    ]);
    // a second manager over the same store, with a clock that advances 6 s per reading and a real logger
    let t = Date.parse('2030-01-01T00:00:00Z');
    const manager = new UpstreamManager(parseConfig(b.raw), {
      store: b.store,
      ingestor: new Ingestor(b.store),
      log: pino({ level: 'info' }, sink),
      hooks: { now: () => (t += 6000), sleep: async () => {} },
    });
    try {
      const [result] = await manager.pollNow();
      expect(result).toMatchObject({ ok: true, stored: 30 });
      const progress = lines.filter((l) => l.msg === 'upstream backfill progress');
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress[0]).toMatchObject({
        subscription: expect.stringContaining('hub/feed/'),
        objects: expect.any(Number),
        perSecond: expect.any(Number),
      });
      expect(lines.find((l) => l.msg === 'upstream poll cycle done')).toMatchObject({ objects: 30, stored: 30 });
    } finally {
      await manager.close();
      await b.close();
      await server.close();
    }
  });
});
