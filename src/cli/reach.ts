/**
 * After an import: how many of the objects it stored no member can receive, and why, so an
 * operator sees at once that a marking needs mapping or a collection a grant.
 */
import { readersOf } from '../auth/readers.ts';
import type { RelayConfig } from '../config/index.ts';
import { nodePolicy } from '../policy/index.ts';
import { reachReport, type ReachReport } from '../policy/reach.ts';
import type { Store } from '../store/index.ts';

/** The reach of the latest versions of these objects in the collection. */
export function reachOfStored(config: RelayConfig, store: Store, collectionId: string, ids: Iterable<string>): ReachReport {
  const attributes = [];
  for (const id of ids) {
    const latest = store.latestOf(collectionId, id);
    if (latest) attributes.push(latest.attributes);
  }
  return reachReport(attributes, readersOf(config, collectionId), nodePolicy(config));
}

/** "1,820 of 1,826 objects stored reach no member:" and one line per reason, most frequent first. */
export function reachLines(report: ReachReport): string[] {
  if (report.unreachable === 0) return [];
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `${n(report.unreachable)} of ${n(report.objects)} objects stored reach no member:`,
    ...report.reasons.map((r) => `  ${n(r.objects)} ${r.objects === 1 ? 'object' : 'objects'} ${r.reason}`),
  ];
}
