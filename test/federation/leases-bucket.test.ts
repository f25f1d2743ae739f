/**
 * Leases in a JetStream key-value bucket on a real nats-server: of two contenders for the same
 * lease exactly one holds it; the holder's shared value reaches the other; released on stop, the
 * lease passes to the other; a holder cut off from NATS gives the lease up before it ages out.
 */
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseBucketName, Leases } from '../../src/federation/leases.ts';
import { eventually } from '../support/eventually.ts';
import { startNatsServer, type RunningNatsServer } from './nats-server.ts';

const TTL_MS = 1500;
const log = pino({ level: 'silent' });
let server: RunningNatsServer;
const connections: NatsConnection[] = [];
const started: Leases[] = [];

async function contender(nodeId: string): Promise<{ leases: Leases; nc: NatsConnection }> {
  const nc = await connect({ servers: [server.url] });
  connections.push(nc);
  const leases = new Leases({ federation: 'f', nodeId, ttlMs: TTL_MS, replicas: 1 }, { nc, log });
  await leases.open();
  started.push(leases);
  return { leases, nc };
}

/** Leases change within a TTL or two: waits are shorter and looks closer than the default. */
const soon = (what: string, check: () => boolean) => eventually(what, check, 20_000, 20);

const byLast = (a: unknown, b: unknown) => ((a as { n: number }).n ?? 0) - ((b as { n: number } | undefined)?.n ?? 0);

beforeAll(async () => {
  server = await startNatsServer(undefined, 15_000, { jetstream: true });
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(started.map((l) => l.stop()));
  await Promise.allSettled(connections.map((c) => c.close()));
  await server?.stop();
});

describe('leases in a JetStream key-value bucket', () => {
  it('one of two contenders holds a lease; its shared value reaches the other; on stop the other takes it', async () => {
    const a = await contender('a');
    const b = await contender('b');
    const la = a.leases.lease('upstream', 'hub/feed/x', byLast);
    const lb = b.leases.lease('upstream', 'hub/feed/x', byLast);
    await soon('someone holds the lease', () => Boolean(la.held() ?? lb.held()));
    // several renewal rounds: never both
    for (let i = 0; i < 20; i++) {
      expect(Boolean(la.held()) && Boolean(lb.held())).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [holder, other, holderLeases] = la.held() ? [la, lb, a.leases] : [lb, la, b.leases];
    holder.share({ n: 42 });
    await soon('the other contender saw the shared value', () => (other.shared() as { n?: number } | undefined)?.n === 42);
    const lost = holder.held() as AbortSignal;
    await holderLeases.stop();
    expect(lost.aborted).toBe(true);
    await soon('the other contender took the lease', () => other.held() !== undefined);
    expect((await (await connections[0]?.jetstreamManager())?.streams.info(`KV_${leaseBucketName('f')}`))?.config.max_age).toBe(
      TTL_MS * 1_000_000,
    );
  }, 60_000);

  it('a holder cut off from NATS gives the lease up at once (abort) and the other takes it after the TTL', async () => {
    const c = await contender('c');
    const d = await contender('d');
    const lc = c.leases.lease('forward', 'hub/outbound', byLast);
    await soon('c holds the lease', () => lc.held() !== undefined);
    const ld = d.leases.lease('forward', 'hub/outbound', byLast);
    const lost = lc.held() as AbortSignal;
    await c.nc.close();
    await soon('c gave the lease up', () => lost.aborted);
    await soon('d took the lease', () => ld.held() !== undefined);
  }, 60_000);
});
