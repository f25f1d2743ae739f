/** `relay stats` and `relay check`: read-only views of the store. */
import type { RelayConfig } from '../config/index.ts';
import { Store } from '../store/index.ts';
import { formatTaxiiTimestamp } from '../stix/time.ts';

const when = (us: number | null) => (us === null ? '-' : formatTaxiiTimestamp(us));

export async function runStats(config: RelayConfig, json: boolean): Promise<number> {
  const store = Store.openInDataDir(config.data_dir);
  try {
    const stats = store.stats();
    if (json) {
      console.log(JSON.stringify(stats, null, 2));
      return 0;
    }
    const titles = new Map(config.api_roots.flatMap((r) => r.collections.map((c) => [c.id, `${r.path}/${c.alias ?? c.title}`])));
    console.log(`object versions stored: ${stats.objectVersions}`);
    for (const c of stats.collections) {
      console.log(
        `${titles.get(c.collection) ?? c.collection}: ${c.versions} versions, added ${when(c.firstAdded)} .. ${when(c.lastAdded)}`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function runCheck(config: RelayConfig, json: boolean): Promise<number> {
  const store = Store.openInDataDir(config.data_dir);
  try {
    const report = store.check();
    if (json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(report.ok ? 'store consistent' : 'store INCONSISTENT');
      for (const p of report.problems) console.log(`  - ${p}`);
      console.log(`object versions: ${report.objectVersions}`);
      for (const c of report.collections) console.log(`  ${c.collection}: ${c.versions} versions`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
