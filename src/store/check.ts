/**
 * Structural checks of a store: what every part must agree on whatever the policy (entries,
 * version lists, bodies, edges, counters, the clock, the sector index against each entry's
 * filing, links against each version's links and ends, summary records, marking notes, the
 * queue, the reconciliation set against its rule). Whether derived attributes are what the rules give is derive/'s check. Read-only.
 */
import type { Store } from './store.ts';
import { NEWEST, OLDEST } from './collection-index.ts';

const MAX_PROBLEMS = 100;

export function checkStructure(store: Store): string[] {
  const problems: string[] = [];
  const report = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const { index, versions, links, queue, markings } = store;

  const perCollection = new Map<string, number>();
  const bodies = new Set<number>();
  const expectedLinks = new Set<string>();
  const expectedFiling = new Set<string>();
  let maxAdded = 0;
  for (const { collection, dateAdded, record } of index.all()) {
    perCollection.set(collection, (perCollection.get(collection) ?? 0) + 1);
    if (dateAdded > maxAdded) maxAdded = dateAdded;
    const held = versions.held(collection, record.id).find(([k]) => k === record.versionKey)?.[1];
    if (held !== dateAdded)
      report(`index entry ${collection}@${dateAdded} (${record.id} ${record.version}) has version record ${String(held)}`);
    if (bodies.has(record.body)) report(`body ${record.body} is shared by two entries (${collection} ${record.id})`);
    bodies.add(record.body);
    if (!versions.hasBody(record.body))
      report(`index entry ${collection}@${dateAdded} points at missing body ${record.body} (${record.id} ${record.version})`);
    for (const key of record.filing ?? []) expectedFiling.add(JSON.stringify([collection, key, dateAdded]));
    for (const end of record.ends ?? []) expectedLinks.add(JSON.stringify([collection, end, 'end-of', record.id]));
    if (record.versionEdges & NEWEST)
      for (const [ref, role] of record.links ?? []) expectedLinks.add(JSON.stringify([collection, ref, role, record.id]));
    if (record.facts?.tlp.kind === 'unknown') {
      for (const m of record.facts.tlp.markings) {
        const queued = queue.get(collection, record.id)?.refacts === true;
        if (markings.isStatement(m) && !queued)
          report(`${collection} ${record.id} ${record.version}: facts treat statement marking ${m} as unknown`);
        if (!markings.isStatement(m) && !markings.isWaiting(m, collection, record.id)) {
          report(`${collection} ${record.id}: unknown marking ${m} is not noted as awaited`);
        }
      }
    }
  }
  for (const ref of versions.bodyRefs()) if (!bodies.has(ref)) report(`body ${ref} belongs to no index entry`);

  // each object's list is sorted by version and flags exactly its oldest OLDEST and its newest NEWEST
  for (const { collection, id, list } of versions.allHeld()) {
    if (list.length === 0) report(`${collection} ${id}: empty version list`);
    list.forEach(([versionKey, dateAdded], i) => {
      const previous = list[i - 1];
      if (previous && previous[0] >= versionKey) report(`${collection} ${id}: version list out of order at ${versionKey}`);
      const record = index.get(collection, dateAdded);
      if (!record || record.id !== id || record.versionKey !== versionKey) {
        report(`version record ${collection} ${id} ${versionKey} has no matching index entry`);
        return;
      }
      const want = (i === 0 ? OLDEST : 0) | (i === list.length - 1 ? NEWEST : 0);
      if (record.versionEdges !== want)
        report(`${collection} ${id}: version ${record.version} has edges ${record.versionEdges}, expected ${want}`);
    });
  }

  let filed = 0;
  for (const key of index.filingKeys()) {
    if (expectedFiling.has(JSON.stringify(key))) filed++;
    else report(`sector index key ${JSON.stringify(key)} matches no entry's filing`);
  }
  if (filed < expectedFiling.size) report(`sector index lacks ${expectedFiling.size - filed} keys of entries' filing`);

  let linked = 0;
  const referenced = new Map<string, [collection: string, id: string]>();
  for (const key of links.all()) {
    referenced.set(JSON.stringify([key[0], key[1]]), [key[0], key[1]]);
    if (expectedLinks.has(JSON.stringify(key))) linked++;
    else report(`link ${JSON.stringify(key)} is made by no version`);
  }
  if (linked < expectedLinks.size) report(`links index lacks ${expectedLinks.size - linked} links the versions make`);
  for (const [collection, id] of referenced.values()) {
    if (!links.hasReferrers(collection, id)) report(`${collection} ${id}: something links to it but it has no summary record`);
  }
  const drained = queue.size() === 0;
  for (const { collection, id } of links.allSummaries()) {
    if (drained && !referenced.has(JSON.stringify([collection, id]))) report(`${collection} ${id}: summary record but nothing links to it`);
  }

  const collections = new Set([...perCollection.keys(), ...index.collections()]);
  for (const collection of collections) {
    const actual = perCollection.get(collection) ?? 0;
    const recorded = index.count(collection);
    if (actual !== recorded) report(`collection ${collection}: counter says ${recorded}, index holds ${actual}`);
  }
  if (maxAdded > index.lastClock()) report(`clock ${index.lastClock()} is behind the newest date_added ${maxAdded}`);

  const queuedEntries = queue.countEntries();
  if (queue.size() !== queuedEntries) report(`derivation queue: counter says ${queue.size()}, queue holds ${queuedEntries}`);
  const ordered = new Set<string>();
  for (const { lane, since, collection, id } of queue.orderKeys()) {
    ordered.add(`${collection} ${id}`);
    const pending = queue.get(collection, id);
    if (pending?.since !== since || (pending.fresh ? 0 : 1) !== lane)
      report(`queue order ${lane} ${since} ${collection} ${id} has no matching pending item`);
  }
  for (const { collection, id } of queue.all())
    if (!ordered.has(`${collection} ${id}`)) report(`queued ${collection} ${id} is missing from the queue order`);
  // an unsettled entry waits for the fresh work of its object
  for (const [collection, dateAdded] of index.allUnsettled()) {
    const record = index.get(collection, dateAdded);
    if (!record) report(`unsettled mark ${collection}@${dateAdded} has no index entry`);
    else if (!queue.get(collection, record.id)?.fresh)
      report(`${collection}@${dateAdded} (${record.id}) is unsettled but no fresh work is queued for it`);
  }
  // the reconciliation set: what the rule sends, no more, no less, and buckets that sum their items
  for (const p of store.reconItems.problems(versions, index)) {
    if (problems.length >= MAX_PROBLEMS) break;
    report(p);
  }
  return problems;
}
