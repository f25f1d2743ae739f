/**
 * `relay import`: loads files through the one ingest path. Each committed batch is reported on
 * stderr, so an operator (or a crash test) can see exactly what is durable.
 */
import { readFileSync } from 'node:fs';
import type { RelayConfig } from '../config/index.ts';
import { acceptedSpecVersions, contentOfDocument, Ingestor, type DocumentContent } from '../ingest/index.ts';
import { nodePolicy } from '../policy/index.ts';
import { openStore } from './store.ts';
import { CliError } from './errors.ts';
import { readersByMember } from '../auth/readers.ts';
import { reconcileConfiguration, Reindexer } from '../derive/index.ts';
import { reachLines, reachOfStored } from './reach.ts';
import { resolveCollection } from './resolve.ts';
import type { ReachReport } from '../policy/reach.ts';

/**
 * What the import queued for derivation is derived before the command exits (a node running
 * beside it would do it too), so the store is consistent when `relay import` returns.
 */
function drainWithProgress(reindexer: Reindexer): void {
  let reported = Date.now();
  const queued = reindexer.backlog().items;
  if (queued > 0) console.error(`deriving: ${queued} objects queued`);
  for (;;) {
    const { items, remaining } = reindexer.step();
    if (items === 0 || remaining === 0) return;
    if (Date.now() - reported > 2000) {
      console.error(`deriving: ${remaining} objects queued`);
      reported = Date.now();
    }
  }
}

/**
 * Versions per transaction for file imports: larger than the ingest default (which suits TAXII
 * pages), because fewer, larger commits write each touched B-tree page once per batch.
 */
export const IMPORT_BATCH_SIZE = 10_000;

export interface ImportOptions {
  /** id or alias */
  readonly collection: string;
  readonly files: readonly string[];
  /** versions per transaction (a positive integer); default IMPORT_BATCH_SIZE */
  readonly batchSize: number | undefined;
  readonly json: boolean;
}

export interface FileReport {
  file: string;
  objects: number;
  stored: number;
  duplicate: number;
  rejected: Array<{ index: number; id?: string; reason: string }>;
  error?: string;
}

export async function runImport(config: RelayConfig, options: ImportOptions): Promise<number> {
  const collection = resolveCollection(config, options.collection);
  const kind = config.api_roots.flatMap((r) => r.collections).find((c) => c.id === collection)?.kind;
  if (kind === 'view') {
    throw new CliError(`collection "${options.collection}" is a view (it holds nothing itself); import into its source collection`);
  }
  const batchSize = options.batchSize ?? IMPORT_BATCH_SIZE;

  const store = openStore(config);
  const policy = nodePolicy(config);
  reconcileConfiguration(store, policy, readersByMember(config));
  const reindexer = new Reindexer(store, policy, { itemsPerStep: config.reindexer.items_per_step });
  const ingestor = new Ingestor(store, policy, acceptedSpecVersions(config), {
    reindexer,
    inlineItems: config.reindexer.inline_items,
    maxBacklog: config.reindexer.max_backlog,
  });
  const reports: FileReport[] = [];
  const storedIds = new Set<string>();
  let reach: ReachReport | undefined;
  let failed = false;
  try {
    for (const file of options.files) {
      const report: FileReport = { file, objects: 0, stored: 0, duplicate: 0, rejected: [] };
      reports.push(report);
      let content: DocumentContent;
      try {
        content = contentOfDocument(JSON.parse(readFileSync(file, 'utf8')));
      } catch (error) {
        report.error = error instanceof SyntaxError ? `not valid JSON: ${error.message}` : (error as Error).message;
        failed = true;
        console.error(`relay import: ${file}: ${report.error}`);
        continue;
      }
      const { objects } = content;
      report.objects = objects.length;
      const started = Date.now();
      const large = objects.length > batchSize;
      const result = ingestor.ingest(
        collection,
        objects,
        { source: 'import', detail: file },
        {
          batchSize,
          inStix20Bundle: content.stix20Bundle,
          onBatch: ({ objects: done }) => {
            if (large) {
              const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
              console.error(`committed ${done}/${objects.length} objects of ${file} (${rate} objects/s)`);
            }
          },
        },
      );
      report.stored = result.stored;
      report.duplicate = result.duplicate;
      result.outcomes.forEach((o, index) => {
        if (o.kind === 'rejected') report.rejected.push({ index, ...(o.id ? { id: o.id } : {}), reason: o.reason });
        else if (o.kind === 'stored') storedIds.add(o.id);
      });
    }
    drainWithProgress(reindexer);
    reach = reachOfStored(config, store, collection, storedIds);
  } finally {
    await store.close();
  }

  if (options.json) {
    console.log(JSON.stringify({ collection, files: reports, reach }, null, 2));
  } else {
    for (const r of reports) {
      if (r.error) continue;
      console.log(`${r.file}: ${r.objects} objects: ${r.stored} stored, ${r.duplicate} duplicate, ${r.rejected.length} rejected`);
      for (const x of r.rejected) console.log(`  rejected #${x.index}${x.id ? ` ${x.id}` : ''}: ${x.reason}`);
    }
    const total = reports.reduce(
      (t, r) => ({ stored: t.stored + r.stored, duplicate: t.duplicate + r.duplicate, rejected: t.rejected + r.rejected.length }),
      { stored: 0, duplicate: 0, rejected: 0 },
    );
    console.log(`total: ${total.stored} stored, ${total.duplicate} duplicate, ${total.rejected} rejected`);
    for (const line of reach ? reachLines(reach) : []) console.log(line);
  }
  return failed ? 1 : 0;
}
