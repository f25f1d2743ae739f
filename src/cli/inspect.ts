/** `relay stats` and `relay check`: read-only views of the store. */
import type { RelayConfig } from '../config/index.ts';
import { backlogOf, checkDerived, type Backlog } from '../derive/index.ts';
import { nodePolicy } from '../policy/index.ts';
import type { CollectionStats } from '../store/index.ts';
import { formatTaxiiTimestamp } from '../stix/time.ts';
import { openStore } from './store.ts';

/** A collection's figures for people and scripts: named by API root and alias beside its id, times in RFC 3339. */
export interface CollectionReport {
  readonly collection: string;
  /** null when the store holds a collection the config no longer names */
  readonly api_root: string | null;
  readonly alias: string | null;
  readonly title: string | null;
  readonly versions: number;
  readonly firstAdded: string | null;
  readonly lastAdded: string | null;
}

const backlogLine = (b: Backlog) => {
  const queued =
    b.items === 0 ? 'empty' : `${b.items} objects queued for derivation, the oldest for ${Math.round((b.oldestAgeMs ?? 0) / 1000)} s`;
  return b.jobs.length === 0 ? queued : `${queued}; under way: ${b.jobs.join('; ')}`;
};

const when = (us: number | null) => (us === null ? null : formatTaxiiTimestamp(us));

export function describeCollections(config: RelayConfig, stats: readonly CollectionStats[]): CollectionReport[] {
  return stats.map((s) => {
    const root = config.api_roots.find((r) => r.collections.some((c) => c.id === s.collection));
    const configured = root?.collections.find((c) => c.id === s.collection);
    return {
      collection: s.collection,
      api_root: root?.path ?? null,
      alias: configured?.alias ?? null,
      title: configured?.title ?? null,
      versions: s.versions,
      firstAdded: when(s.firstAdded),
      lastAdded: when(s.lastAdded),
    };
  });
}

/** "isac/shared" (or the bare id of a collection the config does not name) */
const label = (c: CollectionReport) => (c.api_root === null ? c.collection : `${c.api_root}/${c.alias ?? c.title}`);

export async function runStats(config: RelayConfig, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const stats = store.stats();
    const collections = describeCollections(config, stats.collections);
    const backlog = backlogOf(store);
    if (json) {
      console.log(
        JSON.stringify(
          {
            objectVersions: stats.objectVersions,
            collections,
            reindexer: { backlog: backlog.items, oldestAgeMs: backlog.oldestAgeMs, jobs: backlog.jobs },
          },
          null,
          2,
        ),
      );
      return 0;
    }
    console.log(`object versions stored: ${stats.objectVersions}`);
    for (const c of collections) {
      console.log(`${label(c)}: ${c.versions} versions, added ${c.firstAdded ?? '-'} .. ${c.lastAdded ?? '-'}`);
    }
    console.log(`re-indexer backlog: ${backlogLine(backlog)}`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function runCheck(config: RelayConfig, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const structure = store.check();
    // derived attributes are compared with the rules once the re-indexer has drained
    const derived = checkDerived(store, nodePolicy(config));
    const backlog = backlogOf(store);
    const problems = [...structure.problems, ...derived.problems];
    const ok = problems.length === 0;
    const collections = describeCollections(config, structure.collections);
    if (json) {
      const reindexer = { backlog: backlog.items, oldestAgeMs: backlog.oldestAgeMs, jobs: backlog.jobs, derivedChecked: derived.checked };
      console.log(JSON.stringify({ ...structure, ok, problems, collections, reindexer }, null, 2));
    } else {
      console.log(ok ? 'store consistent' : 'store INCONSISTENT');
      for (const p of problems) console.log(`  - ${p}`);
      if (!derived.checked) console.log(`  (derived attributes not compared: ${backlogLine(backlog)}; run again once drained)`);
      console.log(`object versions: ${structure.objectVersions}`);
      for (const c of collections) console.log(`  ${label(c)}${c.api_root === null ? '' : ` (${c.collection})`}: ${c.versions} versions`);
    }
    return ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
