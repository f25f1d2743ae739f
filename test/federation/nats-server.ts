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

export interface RunningNatsServer {
  readonly port: number;
  readonly url: string;
  /** http://127.0.0.1:port of the monitoring endpoint (/connz, /varz) */
  readonly monitorUrl: string;
  /** everything the server logged so far */
  log(): string;
  stop(): Promise<void>;
}

/** Starts nats-server on 127.0.0.1 with an OS-chosen port; with `tls`, TLS is required. */
export async function startNatsServer(tls?: NatsServerTls, readyTimeoutMs = 15_000): Promise<RunningNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-nats-'));
  const lines = ['listen: "127.0.0.1:-1"', 'http: "127.0.0.1:-1"'];
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
  const configPath = join(dir, 'nats.conf');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(NATS_SERVER, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [port, monitorPort] = await new Promise<[number, number]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not become ready:\n${output}`)), readyTimeoutMs);
      const check = () => {
        const m = /Listening for client connections on [^\s]*:(\d+)/.exec(output);
        const http = /Starting http monitor on [^\s]*:(\d+)/.exec(output);
        if (m && http && output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve([Number(m[1]), Number(http[1])]);
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}) before it was ready:\n${output}`));
      });
    });
    return { port, url: `nats://127.0.0.1:${port}`, monitorUrl: `http://127.0.0.1:${monitorPort}`, log: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
