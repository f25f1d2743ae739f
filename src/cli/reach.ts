/**
 * After an import: how many of the objects it stored no member can receive, and why, so an
 * operator sees at once that a marking needs mapping or a collection a grant.
 */
import { accessTo } from '../auth/grants.ts';
import type { RelayConfig } from '../config/index.ts';
import { memberProfile, nodePolicy, viewProfile } from '../policy/index.ts';
import { reachReport, type ReachReport, type Reader } from '../policy/reach.ts';
import type { Store } from '../store/index.ts';

/** Every way the collection's objects are read: members granted it, and members granted a view of it. */
export function readersOf(config: RelayConfig, collectionId: string): Reader[] {
  const readers: Reader[] = [];
  for (const root of config.api_roots) {
    const own = root.collections.find((c) => c.id === collectionId);
    if (!own) continue;
    const views = root.collections.filter(
      (c) => c.kind === 'view' && (c.source === own.id || (own.alias !== undefined && c.source === own.alias)),
    );
    for (const memberConfig of config.members) {
      const member = { id: memberConfig.id, name: memberConfig.name, config: memberConfig };
      const profile = memberProfile(memberConfig);
      if (accessTo(member, root, own).read) readers.push({ profile });
      for (const view of views)
        if (accessTo(member, root, view).read) readers.push({ profile, viewFilter: viewProfile(view.id, view.filter) });
    }
  }
  return readers;
}

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
