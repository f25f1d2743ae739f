/** Helpers for upstream tests: a node "B" built from real parts (config, LMDB store, ingest, poller). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { type RelayConfig } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { Store } from '../../src/store/index.ts';
import type { ClientOptions } from '../../src/taxii/client/index.ts';
import { UpstreamManager } from '../../src/upstream/index.ts';
import { type WaitRecord } from '../../src/upstream/subscription.ts';

export const LOCAL = 'aaaaaaaa-0000-4000-8000-000000000001';
export const LOCAL2 = 'aaaaaaaa-0000-4000-8000-000000000002';

export interface PollerUnderTest {
  readonly dir: string;
  readonly config: RelayConfig;
  /** the config as written (for a config file that `relay` commands read) */
  readonly raw: Record<string, unknown>;
  readonly store: Store;
  readonly manager: UpstreamManager;
  readonly waits: WaitRecord[];
  /** (id|version) of every version in a local collection */
  versions(collection?: string): string[];
  close(): Promise<void>;
}

export function caFile(dir: string, pem: string): string {
  const path = join(dir, 'upstream-ca.crt');
  writeFileSync(path, pem);
  return path;
}

/** Builds B with one API root holding LOCAL and LOCAL2, and the given upstreams. */
export function startPoller(
  upstreams: (dir: string) => unknown[],
  options: {
    env?: Record<string, string>;
    clientOptions?: (name: string, o: ClientOptions) => ClientOptions;
    start?: boolean;
    /** where the poller logs (default: silent) */
    log?: Logger;
  } = {},
): PollerUnderTest {
  const dir = mkdtempSync(join(tmpdir(), 'relay-upstream-'));
  const raw = {
    node: { id: 'b', title: 'B' },
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    api_roots: [
      {
        path: 'isac',
        title: 'B',
        collections: [
          { id: LOCAL, alias: 'mirror', title: 'Mirror' },
          { id: LOCAL2, alias: 'mirror2', title: 'Mirror 2' },
        ],
      },
    ],
    upstreams: upstreams(dir),
  };
  const config = parseConfig(raw, 'poller test config');
  // the layout `relay` commands expect: <data_dir>/store
  const store = Store.open(join(config.data_dir, 'store'));
  const waits: WaitRecord[] = [];
  const manager = new UpstreamManager(config, {
    store,
    ingestor: new Ingestor(store),
    log: options.log ?? pino({ level: 'silent' }),
    hooks: { sleep: async () => {}, random: () => 0.5, onWait: (w) => waits.push(w) },
    ...(options.env ? { env: options.env } : {}),
    ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
  });
  if (options.start) manager.start();
  let closed = false;
  return {
    dir,
    config,
    raw,
    store,
    manager,
    waits,
    versions(collection = LOCAL) {
      const out: string[] = [];
      let after = 0;
      for (let i = 0; i < 100_000; i++) {
        const page = store.index.scan({ collection, after, limit: 1000, accept: () => true, maxScanned: 100_000 });
        for (const e of page.entries) out.push(`${e.id}|${e.version}`);
        if (!page.more || page.entries.length === 0) break;
        after = page.resumeAfter;
      }
      return out;
    },
    async close() {
      await manager.close();
      if (!closed) await store.close();
      closed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** "id|version" of objects as the upstream holds them. */
export function keysOf(objects: readonly unknown[]): string[] {
  return objects.map((o) => {
    const r = o as { id: string; modified?: string; created?: string };
    return `${r.id}|${r.modified ?? r.created ?? ''}`;
  });
}
