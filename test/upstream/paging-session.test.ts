import { describe, expect, it } from 'vitest';
import { indicators, startScriptedServer, type Fault, type ScriptedServer } from './scripted-server.ts';
import { caFile, keysOf, startPoller, type PollerUnderTest } from './support.ts';

/**
 * `next` is opaque. The OASIS reference server (medallion) hands out one token per paging
 * session and repeats it on every page; each request with it moves the session on. The poller
 * must read such a collection whole in one cycle, and must never lose a page of a session that
 * an answer lost on the way (or a crash) moved past what it stored.
 */
async function subscribe(
  objects: number,
  options: { faults?: Fault[]; attempts?: number; pageSize?: number; quirks?: ScriptedServer['quirks'] } = {},
): Promise<{ server: ScriptedServer; b: PollerUnderTest; objects: unknown[]; close(): Promise<void> }> {
  const server = await startScriptedServer();
  server.quirks = options.quirks ?? { sessionNext: true };
  const all = indicators(objects);
  server.add(all);
  server.faults.push(...(options.faults ?? []));
  const b = startPoller((dir) => [
    {
      name: 'medallion',
      url: server.discoveryUrl,
      tls: { ca_file: caFile(dir, server.caPem) },
      ...(options.attempts ? { backoff: { attempts_per_cycle: options.attempts } } : {}),
      collections: [{ remote: 'feed', local: 'mirror', page_size: options.pageSize ?? 5 }],
    },
  ]);
  return {
    server,
    b,
    objects: all,
    async close() {
      await b.close();
      await server.close();
    },
  };
}

const tokenOf = (request: string) => new URL(request, 'https://x').searchParams.get('next');

describe('an upstream that reuses its next token for a whole paging session (medallion)', () => {
  it('is read whole in one cycle: 17 objects, page size 5', async () => {
    const t = await subscribe(17);
    try {
      const [r1] = await t.b.manager.pollNow();
      expect(r1).toMatchObject({ ok: true, caughtUp: true, objects: 17, stored: 17, pages: 4 });
      expect(new Set(t.b.versions())).toEqual(new Set(keysOf(t.objects)));
      // one session: the first request has no token, the three others all carry the same one
      const tokens = t.server.objectRequests.map(tokenOf);
      expect(tokens).toHaveLength(4);
      expect(tokens[0]).toBeNull();
      expect(new Set(tokens.slice(1))).toEqual(new Set(['session-1']));

      const later = indicators(6, 1, 3);
      t.server.add(later);
      const [r2] = await t.b.manager.pollNow();
      expect(r2).toMatchObject({ ok: true, caughtUp: true, stored: 6 });
      expect(new Set(t.b.versions())).toEqual(new Set(keysOf([...t.objects, ...later])));
      const [r3] = await t.b.manager.pollNow();
      expect(r3).toMatchObject({ ok: true, caughtUp: true, stored: 0, objects: 0 });
    } finally {
      await t.close();
    }
  });

  it('asks for a page lost on the way again from the last stored position, not with the token (no page skipped)', async () => {
    // the second answer is cut in half: the session has moved on, but the page never arrived
    const t = await subscribe(17, { faults: [{ kind: 'none' }, { kind: 'truncate' }] });
    try {
      const [r1] = await t.b.manager.pollNow();
      expect(r1).toMatchObject({ ok: true, caughtUp: true, stored: 17 });
      expect(new Set(t.b.versions())).toEqual(new Set(keysOf(t.objects)));
      const retry = new URL(t.server.objectRequests[2] as string, 'https://x').searchParams;
      expect(retry.get('next')).toBeNull();
      expect(retry.get('added_after')).toMatch(/Z$/);
    } finally {
      await t.close();
    }
  });

  it('resumes a cycle that ended inside a session from the position it stored, not with the saved token', async () => {
    // one attempt per cycle: the lost second page ends the first cycle with the token saved
    const t = await subscribe(17, { faults: [{ kind: 'none' }, { kind: 'truncate' }], attempts: 1 });
    try {
      const [r1] = await t.b.manager.pollNow();
      expect(r1).toMatchObject({ ok: false });
      expect(t.b.versions()).toHaveLength(5);
      expect(t.b.manager.status()[0]?.cursor).toMatchObject({ paging: 'next' });

      const before = t.server.objectRequests.length;
      const [r2] = await t.b.manager.pollNow();
      expect(r2).toMatchObject({ ok: true, caughtUp: true, stored: 12 });
      expect(new Set(t.b.versions())).toEqual(new Set(keysOf(t.objects)));
      expect(tokenOf(t.server.objectRequests[before] as string)).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe("an upstream whose 'next' leads back to pages already read", () => {
  it('stops following next when it brings nothing new, even with pages larger than the boundary memory', async () => {
    const t = await subscribe(100, { quirks: { nextWrapsAround: true }, pageSize: 40 });
    try {
      const [r1] = await t.b.manager.pollNow();
      expect(r1).toMatchObject({ ok: true, caughtUp: true, stored: 100 });
      expect(t.server.objectRequests.length).toBeLessThanOrEqual(6);
      expect(t.b.manager.status()[0]?.cursor).toMatchObject({ nextIgnored: true });

      const later = indicators(7, 1, 4);
      t.server.add(later);
      const [r2] = await t.b.manager.pollNow();
      expect(r2).toMatchObject({ ok: true, caughtUp: true, stored: 7 });
      expect(t.b.versions()).toHaveLength(107);
    } finally {
      await t.close();
    }
  });
});
