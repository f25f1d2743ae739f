/**
 * Real `nats-server` processes for federation tests (the Debian package's binary). Each server
 * gets a generated config file in a temp directory and a free loopback port chosen by the
 * server itself (port -1, read back from its log). Callers must `stop()` every server they
 * start (afterAll / finally): stop kills the process, waits for it to exit and removes the
 * temp directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';

export const NATS_SERVER = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

export interface NatsServerTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle client certificates are verified against */
  readonly caFile: string;
  /** require and verify client certificates */
  readonly verify: boolean;
}

/** JetStream and clustering (routes on loopback, no TLS between the servers of a test). */
export interface NatsServerExtras {
  readonly jetstream?: boolean;
  /** unique within a cluster (JetStream needs it) */
  readonly serverName?: string;
  readonly cluster?: {
    readonly name: string;
    /** this server's route port (JetStream clustering needs routes configured from the start) */
    readonly port: number;
    /** nats-route://127.0.0.1:port of every server of the cluster */
    readonly routes: readonly string[];
    /** do not tell clients the other servers' URLs: a client then reaches only the servers it lists (a partition can be made) */
    readonly noAdvertise?: boolean;
  };
}

export interface RunningNatsServer {
  readonly port: number;
  /** nats-route://127.0.0.1:port when clustered */
  readonly routeUrl: string | undefined;
  readonly url: string;
  /** http://127.0.0.1:port of the monitoring endpoint (/connz, /varz) */
  readonly monitorUrl: string;
  /** everything the server logged so far */
  log(): string;
  stop(): Promise<void>;
  /** Stops the process (keeping its data), runs `whileDown`, and starts it again on the same ports. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
}

/** Starts nats-server on 127.0.0.1 with an OS-chosen port; with `tls`, TLS is required. */
export async function startNatsServer(
  tls?: NatsServerTls,
  readyTimeoutMs = 15_000,
  extras: NatsServerExtras = {},
): Promise<RunningNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-nats-'));
  const lines = ['listen: "127.0.0.1:-1"', 'http: "127.0.0.1:-1"'];
  if (extras.serverName) lines.push(`server_name: ${JSON.stringify(extras.serverName)}`);
  if (extras.jetstream)
    lines.push(`jetstream { store_dir: ${JSON.stringify(join(dir, 'jetstream'))}, max_file_store: 1G, max_memory_store: 64M }`);
  if (extras.cluster) {
    lines.push(
      'cluster {',
      `  name: ${JSON.stringify(extras.cluster.name)}`,
      `  listen: "127.0.0.1:${extras.cluster.port}"`,
      `  routes: [${extras.cluster.routes.map((r) => JSON.stringify(r)).join(', ')}]`,
      ...(extras.cluster.noAdvertise ? ['  no_advertise: true'] : []),
      '}',
    );
  }
  if (tls) {
    lines.push(
      'tls {',
      `  cert_file: ${JSON.stringify(tls.certFile)}`,
      `  key_file: ${JSON.stringify(tls.keyFile)}`,
      `  ca_file: ${JSON.stringify(tls.caFile)}`,
      `  verify: ${tls.verify}`,
      '  timeout: 5',
      '}',
    );
  }
  return runNatsServer(dir, lines, { readyTimeoutMs, clustered: extras.cluster !== undefined });
}

/**
 * Starts nats-server on a configuration of the caller's (for example deploy/nats/nats.conf with
 * its addresses turned to loopback), in a temp directory of its own that stop() removes. Its
 * top-level `listen` and `http` lines must name loopback ports (-1: chosen by the server).
 */
export async function startNatsServerWithConfig(
  config: string,
  options: { env?: Record<string, string>; clustered?: boolean; readyTimeoutMs?: number } = {},
): Promise<RunningNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-nats-'));
  return runNatsServer(dir, config.split('\n'), {
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    clustered: options.clustered === true,
    ...(options.env ? { env: options.env } : {}),
  });
}

/** Writes `lines` as the config in `dir` (removed by stop) and runs the server until it is ready. */
async function runNatsServer(
  dir: string,
  lines: readonly string[],
  options: { readyTimeoutMs: number; clustered: boolean; env?: Record<string, string> },
): Promise<RunningNatsServer> {
  const { readyTimeoutMs } = options;
  const configPath = join(dir, 'nats.conf');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  let output = '';

  const kill = async () => {
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
        running.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        running.kill('SIGTERM');
      });
    }
  };
  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };

  /** Spawns the server with the config file as it is; resolves with its ports once it is ready. */
  const launch = () => {
    const started = spawn(NATS_SERVER, ['-c', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    child = started;
    const from = output.length;
    started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise<[number, number, number | undefined]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not become ready:\n${output}`)), readyTimeoutMs);
      const check = () => {
        const fresh = output.slice(from);
        const m = /Listening for client connections on [^\s]*:(\d+)/.exec(fresh);
        const http = /Starting http monitor on [^\s]*:(\d+)/.exec(fresh);
        const route = /Listening for route connections on [^\s]*:(\d+)/.exec(fresh);
        if (m && http && (route || !options.clustered) && fresh.includes('Server is ready')) {
          clearTimeout(timer);
          resolve([Number(m[1]), Number(http[1]), route ? Number(route[1]) : undefined]);
        }
      };
      started.stdout?.on('data', check);
      started.stderr?.on('data', check);
      started.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}) before it was ready:\n${output}`));
      });
    });
  };

  try {
    const [port, monitorPort, routePort] = await launch();
    return {
      port,
      url: `nats://127.0.0.1:${port}`,
      routeUrl: routePort === undefined ? undefined : `nats-route://127.0.0.1:${routePort}`,
      monitorUrl: `http://127.0.0.1:${monitorPort}`,
      log: () => output,
      stop,
      async restart(whileDown) {
        await kill();
        // the same ports, the same JetStream directory: clients reconnect to the same URL
        const fixed = lines.map((l) =>
          l.startsWith('listen: ') ? `listen: "127.0.0.1:${port}"` : l.startsWith('http: ') ? `http: "127.0.0.1:${monitorPort}"` : l,
        );
        writeFileSync(configPath, `${fixed.join('\n')}\n`);
        try {
          await whileDown?.();
        } finally {
          await launch();
        }
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `n` distinct ports the OS reports free on loopback (held open together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * Starts a cluster of `size` JetStream servers on loopback, on free route ports, each routing to
 * all (JetStream clustering refuses a server without configured routes). Resolves once every
 * server reports a JetStream meta leader and the whole cluster. Stops every server started when
 * any fails.
 */
export async function startNatsCluster(
  size: number,
  tls: NatsServerTls,
  readyTimeoutMs = 30_000,
  options: { noAdvertise?: boolean } = {},
): Promise<RunningNatsServer[]> {
  const servers: RunningNatsServer[] = [];
  const name = `relay-test-${process.pid}-${Date.now()}`;
  const ports = await freePorts(size);
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p}`);
  try {
    for (const [i, port] of ports.entries()) {
      servers.push(
        await startNatsServer(tls, 15_000, {
          jetstream: true,
          serverName: `${name}-${i}`,
          cluster: { name, port, routes, noAdvertise: options.noAdvertise === true },
        }),
      );
    }
    await untilJetStreamCluster(servers, readyTimeoutMs);
    return servers;
  } catch (error) {
    await Promise.allSettled(servers.map((s) => s.stop()));
    throw error;
  }
}

/**
 * Resolves once every server reports a JetStream meta leader and a meta cluster of all of them
 * (the routes between them work); throws after `timeoutMs`, with the servers' route errors.
 */
export async function untilJetStreamCluster(servers: readonly RunningNatsServer[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ready = await Promise.all(
      servers.map(async (s) => {
        const jsz = (await (await fetch(`${s.monitorUrl}/jsz`)).json().catch(() => ({}))) as {
          meta_cluster?: { leader?: string; cluster_size?: number };
        };
        return Boolean(jsz.meta_cluster?.leader) && (jsz.meta_cluster?.cluster_size ?? 0) >= servers.length;
      }),
    );
    if (ready.every(Boolean)) return;
    if (Date.now() > until) {
      const errors = servers.flatMap((s) =>
        s
          .log()
          .split('\n')
          .filter((l) => /\[ERR\]/.test(l))
          .slice(-2),
      );
      throw new Error(`the NATS cluster did not elect a JetStream leader within ${timeoutMs} ms; last errors:\n${errors.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
