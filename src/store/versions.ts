/**
 * Object versions: their JSON text, each object's versions per collection, and where each came
 * from. Sole owner of these databases:
 *
 *   bodies         bodyRef                               -> the version's JSON text
 *   version-lists  [collection, id]                      -> [[versionKey, dateAdded], …] oldest first
 *   body-provenance [bodyRef, source, detail]            -> first seen (µs)
 *
 * A body is keyed by the date_added its version was first given in its collection: strictly
 * increasing, so storing bodies appends to the end of the B-tree instead of scattering writes
 * across it (the write amplification that random `[id, version]` keys cost: see the README's
 * performance notes). The same version in two collections is two bodies. Provenance is keyed
 * by body for the same reason: a new version's records append.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Micros } from '../stix/time.ts';
import type { BodyRef, Provenance } from './types.ts';

/** An object's versions in one collection, oldest first. */
export type VersionList = ReadonlyArray<readonly [versionKey: string, dateAdded: Micros]>;

type VersionListKey = [collection: string, id: string];
type ProvenanceKey = [body: BodyRef, source: string, detail: string];

/** sorts after every string in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';

const byVersionKey = (a: readonly [string, Micros], b: readonly [string, Micros]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export class ObjectVersions {
  private readonly bodies: Database<string, BodyRef>;
  private readonly lists: Database<VersionList, VersionListKey>;
  private readonly provenance: Database<Micros, ProvenanceKey>;

  constructor(root: RootDatabase) {
    this.bodies = root.openDB<string, BodyRef>('bodies', { encoding: 'string' });
    this.lists = root.openDB<VersionList, VersionListKey>('version-lists', {});
    this.provenance = root.openDB<Micros, ProvenanceKey>('body-provenance', {});
  }

  body(ref: BodyRef): string | undefined {
    return this.bodies.get(ref);
  }

  hasBody(ref: BodyRef): boolean {
    return this.bodies.doesExist(ref);
  }

  putBody(ref: BodyRef, json: string): void {
    this.bodies.putSync(ref, json);
  }

  removeBody(ref: BodyRef): void {
    this.bodies.removeSync(ref);
    for (const key of [...this.provenance.getKeys({ start: [ref], end: [ref, HIGH] })]) this.provenance.removeSync(key);
  }

  bodyCount(): number {
    return this.bodies.getCount();
  }

  /** Every body reference (for checks). */
  *bodyRefs(): Generator<BodyRef> {
    yield* this.bodies.getKeys({});
  }

  /** An object's versions in a collection, oldest first (empty when it has none). */
  held(collection: string, id: string): VersionList {
    return this.lists.get([collection, id]) ?? [];
  }

  setHeld(collection: string, id: string, list: VersionList): void {
    if (list.length === 0) this.lists.removeSync([collection, id]);
    else this.lists.putSync([collection, id], [...list].sort(byVersionKey));
  }

  /** Every object's version list, collection by collection. */
  *allHeld(): Generator<{ collection: string; id: string; list: VersionList }> {
    for (const { key, value } of this.lists.getRange({})) yield { collection: key[0], id: key[1], list: value };
  }

  /** Every object id of one collection (in id order; for re-derivation jobs that walk a collection). */
  *idsIn(collection: string, after = ''): Generator<string> {
    for (const [, id] of this.lists.getKeys({ start: [collection, after], end: [collection, HIGH] })) if (id !== after) yield id;
  }

  /** Records that `provenance` delivered this body (once per source and detail); true when new. */
  addProvenance(ref: BodyRef, provenance: Provenance, at: Micros): boolean {
    const key: ProvenanceKey = [ref, provenance.source, provenance.detail];
    if (this.provenance.doesExist(key)) return false;
    this.provenance.putSync(key, at);
    return true;
  }

  provenanceOf(ref: BodyRef): Array<{ source: string; detail: string; at: Micros }> {
    const out: Array<{ source: string; detail: string; at: Micros }> = [];
    for (const { key, value } of this.provenance.getRange({ start: [ref], end: [ref, HIGH] })) {
      out.push({ source: key[1], detail: key[2], at: value });
    }
    return out;
  }
}
