/**
 * The forwarder against a real hub (a second relay node with a writable inbox), through a
 * loopback proxy that counts what reaches the hub: every queued object arrives exactly once,
 * also when the hub answers 500 and 429 for a while; an object the hub refuses is failed with
 * its message; a refusal of our credentials or a collection we may not write waits, named in
 * the log, with nothing lost.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Forwarder } from '../../src/shareback/index.ts';
import { Store, type OutboxTarget } from '../../src/store/index.ts';
import type { TestNode } from '../support/node.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';
import {
  forwardingConfig,
  HUB_SECRET_ENV,
  startHub,
  startProxy,
  until,
  versionsAtHub,
  type ForwardingSetup,
  type HubProxy,
} from './forwarder-support.ts';

let hub: TestNode;
const { dir, cleanup } = tempDir('relay-forwarder-');
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => {
  await hub?.close();
  cleanup();
});

/** A forwarding store with `objects` queued for the hub, a forwarder on it, and its log lines. */
async function forwarding(name: string, setup: ForwardingSetup, objects: Array<Record<string, unknown>>, secret = 'alice-secret') {
  const config = forwardingConfig(`${dir}/${name}`, setup);
  const store = Store.openInDataDir(config.data_dir);
  const target: OutboxTarget = { upstream: 'hub', collection: setup.collection ?? 'submissions' };
  store.transaction(() => {
    for (const o of objects) {
      store.shareback.enqueue(target, { id: o.id as string, version: (o.modified as string) ?? '', json: JSON.stringify(o) }, 'alice');
    }
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const forwarder = new Forwarder(store, config, { log: pino({ level: 'info' }, sink), env: { [HUB_SECRET_ENV]: secret } });
  return {
    store,
    forwarder,
    lines,
    async close() {
      await forwarder.stop();
      await store.close();
    },
  };
}

const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => indicator(from + i));

describe('forwarding the outbox to a real hub', () => {
  let proxy: HubProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
  });

  it('sends every queued object exactly once, in batches, and settles each from the hub status', async () => {
    proxy = await startProxy(hub);
    const objects = batch(1000, 25);
    const f = await forwarding('plain', { url: proxy.url, batchSize: 10 }, objects);
    try {
      f.forwarder.start();
      await until('the outbox to drain', () => (f.store.shareback.outboxCounts().pending === 0 ? true : undefined)).catch((e) => {
        throw new Error(`${e}\n${f.lines.join('')}\n${JSON.stringify(f.store.shareback.listOutbox({ limit: 3 }))}`);
      });
      expect(f.store.shareback.outboxCounts()).toEqual({ pending: 0, sent: 25, failed: 0 });
      for (const o of objects) expect(versionsAtHub(hub, o.id as string), o.id as string).toBe(1);
      // the hub saw each object once: no repost
      expect(proxy.delivered.slice().sort()).toEqual(objects.map((o) => `${o.id}|${o.modified}`).sort());
      const entries = f.store.shareback.listOutbox();
      expect(new Set(entries.map((e) => e.upstreamStatus)).size).toBe(3); // 10 + 10 + 5
      expect(entries.every((e) => e.attempts === 1 && e.upstreamStatus !== undefined)).toBe(true);
    } finally {
      await f.close();
    }
  });

  it('retries through 500 and 429 (with Retry-After): everything arrives once', async () => {
    await proxy?.close();
    proxy = await startProxy(hub, [500, 429, 500, 500, 429]);
    const objects = batch(2000, 12);
    const f = await forwarding('flaky', { url: proxy.url, batchSize: 5 }, objects);
    try {
      f.forwarder.start();
      await until('the outbox to drain', () => (f.store.shareback.outboxCounts().pending === 0 ? true : undefined));
      expect(proxy.failed).toBe(5);
      expect(f.store.shareback.outboxCounts()).toEqual({ pending: 0, sent: 12, failed: 0 });
      for (const o of objects) expect(versionsAtHub(hub, o.id as string)).toBe(1);
      expect(proxy.delivered.slice().sort()).toEqual(objects.map((o) => `${o.id}|${o.modified}`).sort());
      const retried = f.store.shareback.listOutbox().filter((e) => e.attempts > 1);
      expect(retried.length).toBeGreaterThan(0);
      const warnings = f.lines.filter((l) => l.includes('"level":40')).join('');
      expect(warnings).toMatch(/HTTP 500/);
      expect(warnings).toMatch(/HTTP 429/);
    } finally {
      await f.close();
    }
  });

  it('fails an object the hub refuses, with the hub message, and sends the others', async () => {
    const good = batch(3000, 4);
    const refused: Record<string, unknown> = { ...indicator(3100), created: 'the day before yesterday' };
    const f = await forwarding('refused', { url: hub.node.discoveryUrl, caFile: hub.node.devCaPath as string }, [...good, refused]);
    try {
      const pass = await f.forwarder.pass();
      expect(pass).toMatchObject({ sent: 4, failed: 1, retried: 0, requests: 1 });
      const failed = f.store.shareback.listOutbox({ state: 'failed' });
      expect(failed.map((e) => e.id)).toEqual([refused.id]);
      expect(failed[0]?.lastError).toMatch(/created/);
      expect(versionsAtHub(hub, refused.id as string)).toBe(0);
      for (const o of good) expect(versionsAtHub(hub, o.id as string)).toBe(1);
    } finally {
      await f.close();
    }
  });

  it('a refusal of our credentials keeps the entries pending, logs an error naming the upstream, never the secret', async () => {
    const objects = batch(4000, 3);
    const f = await forwarding(
      'wrong-secret',
      { url: hub.node.discoveryUrl, caFile: hub.node.devCaPath as string },
      objects,
      'not-the-secret',
    );
    try {
      const first = await f.forwarder.pass();
      expect(first).toMatchObject({ sent: 0, failed: 0, retried: 3 });
      expect(first.waitMs).toBeGreaterThan(60_000); // auth_retry (1h), not a quick retry
      const again = await f.forwarder.pass(); // the target waits: nothing is tried
      expect(again).toMatchObject({ sent: 0, retried: 0, requests: 0 });
      expect(f.store.shareback.outboxCounts()).toEqual({ pending: 3, sent: 0, failed: 0 });
      expect(f.store.shareback.listOutbox()[0]?.lastError).toMatch(/HTTP 401/);
      const errors = f.lines.filter((l) => l.includes('"level":50'));
      expect(errors.some((l) => l.includes('upstream \\"hub\\" refused our credentials'))).toBe(true);
      expect(f.lines.join('')).not.toContain('not-the-secret');
      for (const o of objects) expect(versionsAtHub(hub, o.id as string)).toBe(0);
    } finally {
      await f.close();
    }
  });

  it('a collection we may not write is a clear error, and nothing is sent', async () => {
    const objects = batch(5000, 2);
    const f = await forwarding(
      'read-only',
      { url: hub.node.discoveryUrl, caFile: hub.node.devCaPath as string, collection: 'shared', user: 'bob' },
      objects,
      'bob-secret',
    );
    try {
      const pass = await f.forwarder.pass();
      expect(pass).toMatchObject({ sent: 0, failed: 0, requests: 0 });
      expect(f.store.shareback.listOutbox()[0]?.lastError).toMatch(/collection "shared" is listed but can_write is false/);
      expect(f.lines.some((l) => l.includes('"level":50') && l.includes('upstream \\"hub\\"'))).toBe(true);
    } finally {
      await f.close();
    }
  });
});
