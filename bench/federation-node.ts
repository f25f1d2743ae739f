/**
 * A federated relay node in a process of its own (node B of the federation section), so that the
 * two nodes do not share an event loop: B's gossip intake is not held up by A's ingest calls, as
 * on two machines. Driven over the IPC channel, one answer per request (`re` = the request's id):
 *
 *   {n, cmd: 'start', config}                        -> {re: n, value: null}
 *   {n, cmd: 'watch', collection}                    -> {re: n}; then {event: 'stored', items: [[id, epoch ms], …]}
 *   {n, cmd: 'status', collection}                   -> {re: n, value: {count, rounds, accepted}}
 *   {n, cmd: 'wait-count', collection, atLeast, timeoutMs} -> {re: n, value: epoch ms when reached, or null}
 *   {n, cmd: 'reconcile', peer}                      -> {re: n, value: the last reconciliation with peer} after a new round
 *   {n, cmd: 'record', peer}                         -> {re: n, value: the last reconciliation with peer}
 *   {n, cmd: 'ping'}                                 -> {re: n} (the process is up)
 *   {n, cmd: 'close'}                                -> {re: n}, then exits
 *   a failure                                        -> {re: n, error}
 *
 * Times are epoch milliseconds with sub-millisecond resolution (`performance.timeOrigin +
 * performance.now()`), comparable between the two processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.ts';
import { lastReconciliations, type PeerReconciliation } from '../src/federation/anti-entropy.ts';
import { startNode, type RelayNode } from '../src/node.ts';

export type NodeCommand =
  | { readonly cmd: 'start'; readonly config: Record<string, unknown> }
  | { readonly cmd: 'watch'; readonly collection: string }
  | { readonly cmd: 'status'; readonly collection: string }
  | { readonly cmd: 'wait-count'; readonly collection: string; readonly atLeast: number; readonly timeoutMs: number }
  | { readonly cmd: 'reconcile'; readonly peer: string }
  | { readonly cmd: 'record'; readonly peer: string }
  | { readonly cmd: 'ping' }
  | { readonly cmd: 'close' };

export interface NodeStatus {
  /** versions held in the collection */
  readonly count: number;
  /** anti-entropy rounds finished */
  readonly rounds: number;
  /** gossip envelopes accepted */
  readonly accepted: number;
}

type Answer = { readonly re: number; readonly value?: unknown; readonly error?: string };
type Stored = { readonly event: 'stored'; readonly items: ReadonlyArray<readonly [string, number]> };

/** Epoch milliseconds, sub-millisecond resolution, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

// ---- the child ----------------------------------------------------------------------------------

function runChild(): void {
  let node: RelayNode | undefined;
  let watched: Array<readonly [string, number]> = [];
  let flushing = false;
  const live = () => {
    if (!node) throw new Error('the node is not started');
    return node;
  };
  const handle = async (m: NodeCommand): Promise<unknown> => {
    switch (m.cmd) {
      case 'start':
        node = await startNode(parseConfig(m.config, 'bench federation node config'), pino({ level: 'silent' }));
        return null;
      case 'watch':
        live().ingestor.onVersionStored((v) => {
          if (v.collection !== m.collection) return;
          watched.push([v.id, epochMs()]);
          if (flushing) return;
          flushing = true;
          setImmediate(() => {
            flushing = false;
            const items = watched;
            watched = [];
            process.send?.({ event: 'stored', items } satisfies Stored);
          });
        });
        return null;
      case 'status': {
        const n = live();
        return {
          count: n.store.index.count(m.collection),
          rounds: n.antiEntropy?.counters().rounds ?? 0,
          accepted: n.gossip?.counters().received.accepted ?? 0,
        } satisfies NodeStatus;
      }
      case 'wait-count': {
        const n = live();
        const end = performance.now() + m.timeoutMs;
        while (n.store.index.count(m.collection) < m.atLeast) {
          if (performance.now() > end) return null;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return epochMs();
      }
      case 'reconcile': {
        const n = live();
        await n.antiEntropy?.reconcileNow();
        return lastReconciliations(n.store)[m.peer] ?? null;
      }
      case 'record':
        return lastReconciliations(live().store)[m.peer] ?? null;
      case 'ping':
        return null;
      case 'close':
        await node?.close();
        node = undefined;
        return null;
    }
  };
  process.on('message', (m: NodeCommand & { n: number }) => {
    handle(m).then(
      (value) => {
        process.send?.({ re: m.n, value } satisfies Answer);
        if (m.cmd === 'close') process.disconnect?.();
      },
      (error: unknown) => process.send?.({ re: m.n, error: (error as Error).stack ?? String(error) } satisfies Answer),
    );
  });
  // the parent went away (crash, ^C): do not linger holding the store open
  process.on('disconnect', () => {
    void (async () => {
      await node?.close().catch(() => {});
      process.exit(0);
    })();
  });
}

// ---- the parent's handle ------------------------------------------------------------------------

export class NodeProcess {
  private next = 1;
  private exited = false;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private storedListener: ((items: Stored['items']) => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: Answer | Stored) => {
      if ('event' in m) this.storedListener?.(m.items);
      else {
        this.waiting.get(m.re)?.(m);
        this.waiting.delete(m.re);
      }
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const resolve of this.waiting.values())
        resolve({ re: 0, error: `node process exited (code ${String(code)}, signal ${String(signal)})` });
      this.waiting.clear();
    });
  }

  /** A new process, ready for commands (the node is not started yet). */
  static spawn(): NodeProcess {
    const child = fork(new URL(import.meta.url).pathname, ['--federation-node'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new NodeProcess(child);
  }

  call(command: NodeCommand): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the node process is not running'));
    const n = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(n, (a) => (a.error !== undefined ? reject(new Error(a.error)) : resolve(a.value)));
      this.child.send({ ...command, n });
    });
  }

  /** Versions stored in `collection` from now on, with the epoch time of each. */
  async watch(collection: string, listener: (items: Stored['items']) => void): Promise<void> {
    this.storedListener = listener;
    await this.call({ cmd: 'watch', collection });
  }

  status(collection: string): Promise<NodeStatus> {
    return this.call({ cmd: 'status', collection }) as Promise<NodeStatus>;
  }

  /** The epoch time the collection held `atLeast` versions, or null after `timeoutMs`. */
  waitCount(collection: string, atLeast: number, timeoutMs: number): Promise<number | null> {
    return this.call({ cmd: 'wait-count', collection, atLeast, timeoutMs }) as Promise<number | null>;
  }

  /** Runs a reconciliation round now; the record with `peer` after it. */
  reconcile(peer: string): Promise<PeerReconciliation | null> {
    return this.call({ cmd: 'reconcile', peer }) as Promise<PeerReconciliation | null>;
  }

  /** The last reconciliation with `peer` as the node keeps it. */
  record(peer: string): Promise<PeerReconciliation | null> {
    return this.call({ cmd: 'record', peer }) as Promise<PeerReconciliation | null>;
  }

  /** Closes the node and waits for the process to exit (killed after 15 s). */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await Promise.race([this.call({ cmd: 'close' }).catch(() => {}), new Promise((r) => setTimeout(r, 15_000))]);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

if (process.argv.includes('--federation-node')) runChild();
