import { describe, expect, it } from 'vitest';
import { indicators, startScriptedServer, type Quirks } from './scripted-server.ts';
import { caFile, keysOf, startPoller } from './support.ts';

/**
 * Real servers' quirks: the poller must neither loop forever nor miss objects. Each case pages
 * 43 versions with page size 10, then receives 7 more on the next poll.
 */
const cases: Array<[string, Quirks]> = [
  ['treats added_after as inclusive (repeats the boundary object) and offers no next', { inclusiveAddedAfter: true, noNext: true }],
  ['says more:false while more exists', { moreAlwaysFalse: true }],
  ['omits the X-TAXII-Date-Added headers (pages with next)', { noDateHeaders: true }],
  ['omits the X-TAXII-Date-Added headers and offers no next', { noDateHeaders: true, noNext: true }],
  ['offers next but ignores it', { ignoreNext: true }],
  ['ignores next, is inclusive and omits the date headers', { ignoreNext: true, inclusiveAddedAfter: true, noDateHeaders: true }],
  ['repeats one next token for a whole paging session (medallion)', { sessionNext: true }],
  ['repeats one next token per paging session and omits the date headers', { sessionNext: true, noDateHeaders: true }],
  ['repeats one next token per paging session and treats added_after as inclusive', { sessionNext: true, inclusiveAddedAfter: true }],
];

describe('quirky upstream servers', () => {
  for (const [name, quirks] of cases) {
    it(`converges when the server ${name}`, async () => {
      const server = await startScriptedServer();
      server.quirks = quirks;
      const first = [...indicators(20, 2), ...indicators(3, 1, 5)];
      server.add(first);
      const b = startPoller((dir) => [
        {
          name: 'quirky',
          url: server.discoveryUrl,
          tls: { ca_file: caFile(dir, server.caPem) },
          collections: [{ remote: 'feed', local: 'mirror', page_size: 10 }],
        },
      ]);
      try {
        const [r1] = await b.manager.pollNow();
        expect(r1).toMatchObject({ ok: true, caughtUp: true, stored: 43 });
        expect(new Set(b.versions())).toEqual(new Set(keysOf(first)));
        // bounded: 5 pages of content, plus at most a few extra requests for the quirk
        expect(server.objectRequests.length).toBeLessThanOrEqual(9);

        const later = indicators(7, 1, 9);
        server.add(later);
        const before = server.objectRequests.length;
        const [r2] = await b.manager.pollNow();
        expect(r2).toMatchObject({ ok: true, caughtUp: true, stored: 7, objects: 7 }); // boundary repeats dropped
        expect(b.versions()).toHaveLength(50);
        expect(new Set(b.versions())).toEqual(new Set(keysOf([...first, ...later])));
        expect(server.objectRequests.length - before).toBeLessThanOrEqual(3);

        // an idle poll asks once (or twice) and stores nothing
        const [r3] = await b.manager.pollNow();
        expect(r3).toMatchObject({ ok: true, caughtUp: true, stored: 0, objects: 0 });
        expect(b.store.resources.listQuarantine()).toEqual([]);
      } finally {
        await b.close();
        await server.close();
      }
    });
  }

  it('stops a cycle when a server sends endless empty pages with more=true', async () => {
    const server = await startScriptedServer();
    server.quirks = { endlessEmptyPages: true };
    const b = startPoller((dir) => [
      {
        name: 'quirky',
        url: server.discoveryUrl,
        tls: { ca_file: caFile(dir, server.caPem) },
        collections: [{ remote: 'feed', local: 'mirror' }],
      },
    ]);
    try {
      const [result] = await b.manager.pollNow();
      expect(result).toMatchObject({ ok: true, caughtUp: false, stored: 0, error: expect.stringMatching(/50 empty pages in a row/) });
      expect(server.objectRequests).toHaveLength(50);
      expect(b.manager.status()[0]?.lastError).toMatch(/empty pages/);
    } finally {
      await b.close();
      await server.close();
    }
  });
});
