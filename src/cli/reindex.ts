/**
 * `relay reindex`: derives every object's own facts and linked attributes again, for the rare
 * case an operator wants it (the node does it by itself when the settings derivation reads
 * change). Queues the job and works it through here, with progress on stderr; a node running
 * beside it shares the work.
 */
import type { RelayConfig } from '../config/index.ts';
import { addJob, Reindexer, refactsAll } from '../derive/index.ts';
import { nodePolicy } from '../policy/index.ts';
import { resolveCollection } from './resolve.ts';
import { openStore } from './store.ts';

export async function runReindex(config: RelayConfig, options: { collection: string | undefined; json: boolean }): Promise<number> {
  const store = openStore(config);
  try {
    const collections = options.collection === undefined ? undefined : [resolveCollection(config, options.collection)];
    const reindexer = new Reindexer(store, nodePolicy(config), { itemsPerStep: config.reindexer.items_per_step });
    addJob(store, refactsAll(store, collections));
    const started = Date.now();
    let reported = started;
    let steps = 0;
    for (;;) {
      const { items, remaining } = reindexer.step();
      steps++;
      if (items === 0) break;
      if (Date.now() - reported > 2000) {
        console.error(`reindexing: ${remaining} objects queued`);
        reported = Date.now();
      }
    }
    const result = {
      collections: collections ?? store.index.collections(),
      moved: reindexer.reindexed,
      steps,
      seconds: (Date.now() - started) / 1000,
    };
    if (options.json) console.log(JSON.stringify(result));
    else {
      console.log(`reindexed ${result.collections.length} collection(s) in ${result.seconds.toFixed(1)} s`);
      console.log(`${result.moved} entries announced again (their attributes may reach more members now)`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
