/**
 * Newcomers for the load section: new clients that connect while the load runs, each timed from
 * connect() to its finished TLS handshake, then sending one discovery request on the new
 * connection. They run in their own process (this module, forked), so their timings do not
 * wait on the event loop of the process that drives hundreds of paging clients.
 *
 *   child -> {ready: true}               (loaded)
 *   parent -> {cmd: 'start', host, port, ca, authorization, intervalMs}
 *   parent -> {cmd: 'stop'}              child -> {arrivals: Arrival[]}, then exits
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';

export interface Arrival {
  /** ms since the newcomers started */
  readonly at: number;
  /** connect() to finished TLS handshake, or null when it did not finish */
  readonly handshakeMs: number | null;
  /** HTTP status of the discovery request sent on the new connection, when answered */
  readonly status: number | null;
  readonly error?: string;
}

interface StartCommand {
  readonly cmd: 'start';
  readonly host: string;
  readonly port: number;
  readonly ca: string;
  readonly authorization: string;
  readonly intervalMs: number;
}
type Command = StartCommand | { readonly cmd: 'stop' };

const TAXII = 'application/taxii+json;version=2.1';
/** a handshake not finished within this, or an answer not received within the second, failed */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
const ANSWER_TIMEOUT_MS = 120_000;

/** One new client: a TLS connection timed to its finished handshake, then GET /taxii2/. */
function arrive(s: StartCommand, at: number): Promise<Arrival> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let handshakeMs: number | null = null;
    let head = '';
    let settled = false;
    const socket = tlsConnect({ host: s.host, port: s.port, ca: s.ca });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      resolve({ at, handshakeMs, status: m ? Number(m[1]) : null, ...(error !== undefined && !m ? { error } : {}) });
    };
    let timer = setTimeout(() => finish(`no TLS handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      handshakeMs = performance.now() - t0;
      clearTimeout(timer);
      timer = setTimeout(() => finish(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`), ANSWER_TIMEOUT_MS);
      socket.write(
        `GET /taxii2/ HTTP/1.1\r\nHost: ${s.host}:${s.port}\r\nAuthorization: ${s.authorization}\r\nAccept: ${TAXII}\r\nConnection: close\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (head.length < 64) head += chunk.toString('latin1');
    });
    socket.once('close', () => finish('closed without an answer'));
    socket.once('error', (error) => finish(error.message));
  });
}

export interface Newcomers {
  /** the first newcomer connects now, the next ones every intervalMs */
  start(): void;
  /** ends the arrivals and returns every one */
  stop(): Promise<Arrival[]>;
}

/**
 * Parent side: forks the newcomer process and resolves once it is loaded, so that starting it
 * does not compete with the load for the CPU.
 */
export async function newcomerProcess(s: Omit<StartCommand, 'cmd'>): Promise<Newcomers> {
  const child: ChildProcess = fork(new URL(import.meta.url).pathname, ['--newcomers'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // a child that died is reported by `exited`; a send to it must not throw from an event
  child.on('error', () => {});
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the newcomer process exited (code ${String(code)}) early`))),
  );
  exited.catch(() => {});
  await Promise.race([new Promise<void>((resolve) => child.once('message', () => resolve())), exited]);
  const result = Promise.race([
    new Promise<Arrival[]>((resolve) => child.once('message', (m: { arrivals: Arrival[] }) => resolve(m.arrivals))),
    exited,
  ]);
  result.catch(() => {});
  return {
    start() {
      child.send({ cmd: 'start', ...s } satisfies Command);
    },
    async stop() {
      if (child.connected) child.send({ cmd: 'stop' } satisfies Command);
      const timer = setTimeout(() => child.kill('SIGKILL'), ANSWER_TIMEOUT_MS + 10_000);
      try {
        return await result;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

// ---- child side
if (process.argv[2] === '--newcomers') {
  const arrivals: Array<Promise<Arrival>> = [];
  let running = false;
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  process.on('message', (m: Command) => {
    if (m.cmd === 'start' && !running) {
      running = true;
      void (async () => {
        const t0 = performance.now();
        while (running) {
          arrivals.push(arrive(m, Math.round(performance.now() - t0)));
          await sleep(m.intervalMs);
        }
      })();
    } else if (m.cmd === 'stop') {
      running = false;
      void Promise.all(arrivals).then((done) => {
        process.send?.({ arrivals: done }, undefined, {}, () => process.exit(0));
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}
