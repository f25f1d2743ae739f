/** `relay stats` and `relay check`: read-only views of the store. */
import type { RelayConfig } from '../config/index.ts';
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
    if (json) {
      console.log(JSON.stringify({ objectVersions: stats.objectVersions, collections }, null, 2));
      return 0;
    }
    console.log(`object versions stored: ${stats.objectVersions}`);
    for (const c of collections) {
      console.log(`${label(c)}: ${c.versions} versions, added ${c.firstAdded ?? '-'} .. ${c.lastAdded ?? '-'}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function runCheck(config: RelayConfig, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const report = store.check();
    const collections = describeCollections(config, report.collections);
    if (json) {
      console.log(JSON.stringify({ ...report, collections }, null, 2));
    } else {
      console.log(report.ok ? 'store consistent' : 'store INCONSISTENT');
      for (const p of report.problems) console.log(`  - ${p}`);
      console.log(`object versions: ${report.objectVersions}`);
      for (const c of collections) console.log(`  ${label(c)}${c.api_root === null ? '' : ` (${c.collection})`}: ${c.versions} versions`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
