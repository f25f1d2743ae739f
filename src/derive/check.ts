/**
 * Whether what the re-indexer keeps is what the rules give, checked from scratch: every
 * version's own facts against its body (`versionFacts`), its linked sectors and opinion against
 * a walk of the links (`deriveLinked`, the definition), every link summary against a
 * recomputation, and every entry's filing against the filing rule. Meaningful once the queue is
 * drained (before, pending work is expected to differ). Read-only; the store's structural check
 * is `Store.check`.
 */
import { deriveLinked, versionFacts, type LinkReader } from '../policy/derive.ts';
import { filingOf } from '../policy/filing.ts';
import { narrowestOf, sameSummary, summaryOf, type SummaryReader } from '../policy/linked.ts';
import type { NodePolicy } from '../policy/types.ts';
import type { StixObject } from '../stix/types.ts';
import type { Store } from '../store/index.ts';
import { jobsOf } from './jobs.ts';

const MAX_PROBLEMS = 100;

export interface DerivedCheck {
  /** false when the queue was not empty: nothing was compared */
  readonly checked: boolean;
  readonly problems: readonly string[];
}

export function checkDerived(store: Store, policy: NodePolicy): DerivedCheck {
  if (store.queue.size() > 0 || jobsOf(store).length > 0 || !store.keepsPolicyAttributes) return { checked: false, problems: [] };
  const problems: string[] = [];
  const report = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const statements = store.markings.statements();
  const readers = new Map<string, SummaryReader>();
  const readerOf = (collection: string) => {
    let reader = readers.get(collection);
    if (!reader) readers.set(collection, (reader = storeReader(store, collection)));
    return reader;
  };
  for (const { collection, dateAdded, record } of store.index.all()) {
    if (!record.facts) continue;
    const at = `${collection}@${dateAdded} (${record.id} ${record.version})`;
    const json = store.versions.body(record.body);
    if (json !== undefined) {
      const facts = versionFacts(JSON.parse(json) as StixObject, policy, statements);
      if (JSON.stringify(facts) !== JSON.stringify(record.facts)) {
        report(`${at}: stored facts ${JSON.stringify(record.facts)} are not what its body gives now ${JSON.stringify(facts)}`);
      }
    }
    const reader = readerOf(collection);
    const linked = deriveLinked(record.id, record.type, record.facts, reader);
    const stored = record.linked ?? { sectors: record.facts.ownSectors };
    if (JSON.stringify([...stored.sectors]) !== JSON.stringify([...linked.sectors]) || stored.opinion !== linked.opinion) {
      report(
        `${at}: stored sectors/opinion ${JSON.stringify([stored.sectors, stored.opinion])} are stale (now ${JSON.stringify([linked.sectors, linked.opinion])})`,
      );
    }
    const narrowest = record.ends ? narrowestOf(stored.sectors, record.ends, reader) : undefined;
    const filing = filingOf(record.type, record.facts, stored.sectors, narrowest);
    if (JSON.stringify(filing) !== JSON.stringify(record.filing ?? [])) {
      report(`${at}: filed under ${JSON.stringify(record.filing ?? [])}, the filing rule says ${JSON.stringify(filing)}`);
    }
  }
  for (const { collection, id, summary } of store.links.allSummaries()) {
    const now = summaryOf(id, readerOf(collection));
    if (!sameSummary(Object.keys(summary).length > 0 ? summary : undefined, now)) {
      report(`${collection} ${id}: link summary ${JSON.stringify(summary)} is stale (now ${JSON.stringify(now)})`);
    }
  }
  return { checked: true, problems };
}

/** Latest facts, referrers and stored summaries of one collection (the walk reads links, not summaries). */
function storeReader(store: Store, collection: string): SummaryReader & LinkReader {
  return {
    latest: (id) => {
      const record = store.latestRecord(collection, id);
      return record?.facts ? { ...record.facts, type: record.type } : undefined;
    },
    referrers: (id, role) => store.links.referrers(collection, id, role),
    summary: (id) => store.links.summary(collection, id),
  };
}
