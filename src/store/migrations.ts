/**
 * Layout upgrades, run once when a store is opened.
 *
 * Layout 4 (this one) keeps each part's records under its own databases (see store.ts) with
 * readable field names. Stores written by earlier releases (one `meta` database, bodies keyed by
 * `[id, version]`, entries with one-letter fields `f`/`s`/`o`/`n`/`edge`, link roles
 * `ts`/`tt`/`is`/`it`/`o`/`v`, per-version records before version lists) are converted in one
 * transaction, keeping every version, its date_added, its provenance and what was derived for
 * it, and then every object is queued to be derived again by the current rules: the
 * re-indexer moves to a new date_added only what comes out different (nothing, for a store the
 * previous release kept consistent), so members are not sent the whole store again.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { LinkKey, LinkRole, LinkSummary, VersionFacts } from '../stix/attributes.ts';
import type { ObjectTlp } from '../stix/markings.ts';
import type { Micros } from '../stix/time.ts';
import type { CollectionIndex, EntryRecord } from './collection-index.ts';
import type { Provenance } from './types.ts';
import type { LinkIndex } from './links.ts';
import type { MarkingRegistry } from './markings.ts';
import type { DerivationQueue } from './queue.ts';
import type { NodeResources } from './resources.ts';
import type { ObjectVersions, VersionList } from './versions.ts';

/** The layout this code writes. */
export const LAYOUT = 4;

/** The parts a migration finishes with, once they are open. */
export interface Parts {
  readonly versions: ObjectVersions;
  readonly index: CollectionIndex;
  readonly links: LinkIndex;
  readonly queue: DerivationQueue;
  readonly markings: MarkingRegistry;
}

export interface Migration {
  /** Completes the upgrade with the opened parts (no-op when there was nothing to upgrade). */
  finish(parts: Parts): void;
}

/** An index entry as earlier releases wrote it. */
interface LegacyEntry {
  id: string;
  type: string;
  version: string;
  versionKey: string;
  specVersion: string;
  edge: number;
  f?: LegacyFacts;
  s?: string[];
  o?: number;
  n?: string[] | null;
}

interface LegacyFacts {
  tlp: ObjectTlp;
  rank: number;
  granular: boolean;
  confidence?: number;
  revoked: boolean;
  own: string[];
  rt?: string;
  src?: string;
  tgt?: string;
  refs?: string[];
  opinion?: number;
}

const LEGACY_ROLES: Readonly<Record<string, LinkRole>> = {
  ts: 'targets-source',
  tt: 'targets-target',
  is: 'indicates-source',
  it: 'indicates-target',
  o: 'opinion-of',
};

const NOTHING: Migration = { finish: () => {} };

/**
 * Detects the layout and converts an earlier one. Runs before the parts open their databases,
 * so that a conversion never sees half-written parts; `finish` queues the re-derivation.
 */
export function migrate(root: RootDatabase, resources: NodeResources): Migration {
  const layout = resources.setting('layout');
  if (layout === LAYOUT) return NOTHING;
  if (layout !== undefined && layout > LAYOUT) {
    throw new Error(`the store was written by a newer release (layout ${layout}); this release reads layout ${LAYOUT}`);
  }
  const meta = root.openDB<unknown, string>('meta', {});
  const legacy = meta.get('clock') !== undefined || meta.getCount() > 0;
  if (!legacy) {
    root.transactionSync(() => resources.putSetting('layout', LAYOUT));
    return NOTHING;
  }
  return {
    finish: (parts) =>
      root.transactionSync(() => {
        convertLegacy(root, meta, resources, parts);
        resources.putSetting('layout', LAYOUT);
      }),
  };
}

function convertLegacy(root: RootDatabase, meta: Database<unknown, string>, resources: NodeResources, parts: Parts): void {
  const objects = root.openDB<string, [id: string, versionKey: string]>('objects', { encoding: 'string' });
  const entries = root.openDB<LegacyEntry, [collection: string, dateAdded: Micros]>('entries', {
    sharedStructuresKey: Symbol.for('structures'),
  });
  const lists = root.openDB<VersionList, [collection: string, id: string]>('version-lists', {});
  const perVersion = root.openDB<Micros, [collection: string, id: string, versionKey: string]>('versions', {});
  const provenance = root.openDB<Micros, [id: string, versionKey: string, source: string, detail: string]>('provenance', {});
  const links = root.openDB<number, [collection: string, referenced: string, role: string, referrer: string]>('links', {});
  const sectors = root.openDB<number, [collection: string, filing: string, dateAdded: Micros]>('sectors', {});
  const summaries = root.openDB<LinkSummary, [collection: string, id: string]>('summaries', {});

  // settings, clock and counters
  const secret = meta.get('node-secret');
  if (secret instanceof Uint8Array) resources.putSetting('node-secret', secret);
  if (meta.get('policy-attributes') === 'none') resources.putSetting('policy-attributes', 'none');
  const clock = meta.get('clock');

  // version lists: kept as they are; the oldest releases had one record per version instead
  if (lists.getCount() === 0) {
    let current: { collection: string; id: string; list: Array<[string, Micros]> } | undefined;
    const flush = () => current && parts.versions.setHeld(current.collection, current.id, current.list);
    for (const { key, value } of perVersion.getRange({})) {
      const [collection, id, versionKey] = key;
      if (current?.collection !== collection || current.id !== id) {
        flush();
        current = { collection, id, list: [] };
      }
      current.list.push([versionKey, value]);
    }
    flush();
  }

  // the links each referrer's latest version made, and where the sector index filed each entry
  const madeBy = new Map<string, LinkKey[]>();
  for (const key of links.getKeys({})) {
    const [collection, referenced, role, referrer] = key;
    const renamed = LEGACY_ROLES[role];
    if (!renamed) continue; // ends (v, e) are rebuilt from the records
    const at = `${collection} ${referrer}`;
    const list = madeBy.get(at) ?? [];
    list.push([referenced, renamed]);
    madeBy.set(at, list);
  }
  const filedAt = new Map<string, string[]>();
  for (const key of sectors.getKeys({})) {
    const [collection, filing, dateAdded] = key;
    const at = `${collection} ${dateAdded}`;
    const list = filedAt.get(at) ?? [];
    list.push(filing);
    filedAt.set(at, list);
  }

  // entries, with their bodies and provenance
  const ids = new Set<string>();
  for (const { key, value: old } of entries.getRange({})) {
    const [collection, dateAdded] = key;
    const json = objects.get([old.id, old.versionKey]);
    if (json === undefined) continue;
    parts.versions.putBody(dateAdded, json);
    for (const { key: p, value: at } of provenance.getRange({ start: [old.id, old.versionKey], end: [old.id, old.versionKey, '\uffff'] })) {
      parts.versions.addProvenance(dateAdded, { source: p[2] as Provenance['source'], detail: p[3] }, at);
    }
    const facts = old.f ? renameFacts(old.f) : undefined;
    const isLatest = (old.edge & 2) !== 0;
    const made = isLatest ? madeBy.get(`${collection} ${old.id}`) : undefined;
    const ends = (old.type === 'relationship' || old.type === 'sighting') && facts?.refs ? facts.refs : undefined;
    const record: EntryRecord = {
      id: old.id,
      type: old.type,
      version: old.version,
      versionKey: old.versionKey,
      specVersion: old.specVersion,
      versionEdges: old.edge,
      body: dateAdded,
      ...(facts ? { facts } : {}),
      ...(old.s !== undefined || old.o !== undefined
        ? { linked: { sectors: old.s ?? facts?.ownSectors ?? [], ...(old.o !== undefined ? { opinion: old.o } : {}) } }
        : {}),
      ...(facts ? { filing: filedAt.get(`${collection} ${dateAdded}`) ?? [] } : {}),
      ...(made && made.length > 0 ? { links: made } : {}),
      ...(ends && ends.length > 0 ? { ends } : {}),
    };
    parts.index.put(collection, dateAdded, record);
    if (facts) {
      for (const link of made ?? []) parts.links.add(collection, link, old.id);
      for (const end of ends ?? []) parts.links.add(collection, [end, 'end-of'], old.id);
      if (facts.tlp.kind === 'unknown') parts.markings.noteUnresolved(facts.tlp.markings, collection, old.id);
    }
    ids.add(`${collection} ${old.id}`);
  }
  for (const { key, value } of summaries.getRange({})) {
    const [collection, id] = key;
    if (parts.links.hasReferrers(collection, id)) parts.links.putSummary(collection, id, Object.keys(value).length > 0 ? value : undefined);
  }
  for (const key of meta.getKeys({ start: 'count:', end: 'count;' })) {
    parts.index.addToCount(key.slice('count:'.length), (meta.get(key) as number | undefined) ?? 0);
  }
  if (typeof clock === 'number') {
    parts.index.syncClock();
    if (parts.index.lastClock() < clock) parts.index.setClock(clock);
  }

  // derive everything again by the current rules (in the background; only what changes moves)
  if (resources.setting('policy-attributes') !== 'none') {
    for (const at of ids) {
      const space = at.indexOf(' ');
      parts.queue.add(at.slice(0, space), at.slice(space + 1), {
        refacts: true,
        dirty: ['targeted', 'indicated', 'opinions'],
        rederive: true,
      });
    }
  }
  for (const db of [objects, entries, perVersion, provenance, links, sectors, summaries, meta]) db.clearSync();
}

function renameFacts(f: LegacyFacts): VersionFacts {
  return {
    tlp: f.tlp,
    rank: f.rank,
    granular: f.granular,
    ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
    revoked: f.revoked,
    ownSectors: f.own,
    ...(f.rt !== undefined ? { relationshipType: f.rt } : {}),
    ...(f.src !== undefined ? { sourceRef: f.src } : {}),
    ...(f.tgt !== undefined ? { targetRef: f.tgt } : {}),
    ...(f.refs !== undefined ? { refs: f.refs } : {}),
    ...(f.opinion !== undefined ? { opinionValue: f.opinion } : {}),
  };
}
