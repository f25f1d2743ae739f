/** `relay report`: the audit trail's figures for a period (src/ops/report.ts), as a table, JSON or CSV. */
import type { RelayConfig } from '../config/index.ts';
import { buildReport, reportCsv, reportTable } from '../ops/index.ts';
import { UsageError } from './args.ts';
import { openStore } from './store.ts';

export async function runReport(
  config: RelayConfig,
  options: { since: number; until: number | undefined; format: 'table' | 'json' | 'csv' },
): Promise<number> {
  const until = options.until ?? Date.now();
  if (until <= options.since) throw new UsageError('--until must be after --since');
  const store = openStore(config);
  try {
    const range = { since: options.since * 1000, until: until * 1000 };
    const report = buildReport(
      { received: store.audit.receivedIn(range), delivered: store.audit.deliveredIn(range), events: store.audit.eventsIn(range) },
      { since: new Date(options.since).toISOString(), until: new Date(until).toISOString() },
    );
    if (options.format === 'json') console.log(JSON.stringify(report));
    else if (options.format === 'csv') process.stdout.write(reportCsv(report));
    else console.log(reportTable(report));
    return 0;
  } finally {
    await store.close();
  }
}
