/**
 * JetStream set-up retried at start: it succeeds as soon as JetStream answers, and when it never
 * does, the error says what JetStream's 503 means (real nats-server processes, with and without
 * JetStream).
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JETSTREAM_UNAVAILABLE, retryJetStreamSetUp } from '../../src/federation/jetstream-setup.ts';
import { startNatsServer, type RunningNatsServer } from './nats-server.ts';

class SetUpFailed extends Error {}
const fail = (reason: string, cause: unknown) => new SetUpFailed(`cannot set up: ${reason}`, { cause });

let withJetStream: RunningNatsServer;
let withoutJetStream: RunningNatsServer;
const connections: NatsConnection[] = [];
beforeAll(async () => {
  withJetStream = await startNatsServer(undefined, 15_000, { jetstream: true });
  withoutJetStream = await startNatsServer();
});
afterAll(async () => {
  await Promise.allSettled(connections.map((nc) => nc.close()));
  await Promise.allSettled([withJetStream?.stop(), withoutJetStream?.stop()]);
});

async function connectTo(server: RunningNatsServer): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, reconnect: false });
  connections.push(nc);
  return nc;
}

describe('JetStream set-up at start', () => {
  it('returns what the set-up made once JetStream answers', async () => {
    const nc = await connectTo(withJetStream);
    let tries = 0;
    const info = await retryJetStreamSetUp(async () => {
      tries++;
      if (tries === 1) throw new Error('not yet');
      return (await nc.jetstreamManager()).getAccountInfo();
    }, fail);
    expect(tries).toBe(2);
    expect(info.streams).toBe(0);
  });

  it('explains a 503 when JetStream never answers (not enabled, or no leader elected)', async () => {
    const nc = await connectTo(withoutJetStream);
    let tries = 0;
    const setUp = retryJetStreamSetUp(
      async () => {
        tries++;
        return nc.jetstreamManager();
      },
      fail,
      { attempts: 2 },
    );
    await expect(setUp).rejects.toThrow(SetUpFailed);
    await expect(setUp).rejects.toThrow(`cannot set up: ${JETSTREAM_UNAVAILABLE} [503]`);
    expect(tries).toBe(2);
  });

  it('passes any other error on as it is', async () => {
    await expect(retryJetStreamSetUp(() => Promise.reject(new Error('stream name in use')), fail, { attempts: 1 })).rejects.toThrow(
      /^cannot set up: stream name in use$/,
    );
  });
});
