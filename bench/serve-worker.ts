/**
 * The serving process of the benchmark: a real relay node (startNode) in its own process, so
 * its resident memory is the node's alone (not the corpus generator's, not the client's).
 * Driven by the parent over the IPC channel:
 *
 *   parent -> {cmd: 'start', config}         worker -> {event: 'ready', baseUrl, devCaPath, stats}
 *   parent -> {cmd: 'stats', gc?, resetLoopDelay?}  worker -> {event: 'stats', stats}
 *   parent -> {cmd: 'close'}                 worker -> {event: 'closed'}, then exits
 *   any failure                              worker -> {event: 'error', message}
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.ts';
import { startNode, type RelayNode } from '../src/node.ts';
import { collectGarbage, memorySnapshot, type MemorySnapshot } from './context.ts';

export type WorkerCommand =
  | { readonly cmd: 'start'; readonly config: Record<string, unknown> }
  | { readonly cmd: 'stats'; readonly gc?: boolean; readonly resetLoopDelay?: boolean }
  | { readonly cmd: 'close' };

export interface WorkerStats {
  readonly memory: MemorySnapshot;
  /** process.cpuUsage() in milliseconds since the worker started */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** event-loop delay since the last reset (ms): how long ready callbacks waited for the loop */
  readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export type WorkerEvent =
  | { readonly event: 'ready'; readonly baseUrl: string; readonly devCaPath: string | undefined; readonly stats: WorkerStats }
  | { readonly event: 'stats'; readonly stats: WorkerStats }
  | { readonly event: 'closed' }
  | { readonly event: 'error'; readonly message: string };

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function stats(gc = false, resetLoopDelay = false): WorkerStats {
  if (gc) collectGarbage();
  const cpu = process.cpuUsage();
  const ms = (ns: number) => Math.round(ns / 1e5) / 10;
  const loopDelayMs = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  if (resetLoopDelay) loopDelay.reset();
  return { memory: memorySnapshot(), cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, loopDelayMs };
}

function send(message: WorkerEvent): void {
  process.send?.(message);
}

let node: RelayNode | undefined;

process.on('message', (message: WorkerCommand) => {
  void (async () => {
    try {
      switch (message.cmd) {
        case 'start': {
          const config = parseConfig(message.config, 'bench config');
          node = await startNode(config, pino({ level: 'silent' }));
          send({ event: 'ready', baseUrl: node.baseUrl, devCaPath: node.devCaPath, stats: stats() });
          break;
        }
        case 'stats':
          send({ event: 'stats', stats: stats(message.gc === true, message.resetLoopDelay === true) });
          break;
        case 'close':
          await node?.close();
          node = undefined;
          send({ event: 'closed' });
          process.disconnect?.();
          break;
      }
    } catch (error) {
      send({ event: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});

// The parent went away (crash, ^C): do not linger holding the store open.
process.on('disconnect', () => {
  void (async () => {
    await node?.close().catch(() => {});
    process.exit(0);
  })();
});
