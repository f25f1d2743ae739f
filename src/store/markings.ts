/**
 * What the node knows about marking definitions, and which stored objects wait for one.
 *
 *   statement-markings   markingId                       -> 1  statement marking definitions
 *                                                             (copyright, terms of use) the node
 *                                                             has been given: they restrict nobody
 *   unresolved-markings  [markingId, collection, id]     -> 1  objects stored while that marking
 *                                                             could not be resolved (their TLP is
 *                                                             unknown, so nobody receives them)
 *
 * A definition may arrive after the objects that carry it (ATT&CK bundles list theirs last;
 * upstream pages split them): when it does, the objects waiting for it are found here and
 * derived again. Sole owner of these two databases; the store's write transaction spans them.
 */
import type { Database, RootDatabase } from 'lmdb';

type UnresolvedKey = [markingId: string, collection: string, id: string];

export class MarkingRegistry {
  private readonly statementDb: Database<1, string>;
  private readonly unresolvedDb: Database<1, UnresolvedKey>;

  constructor(root: RootDatabase) {
    this.statementDb = root.openDB<1, string>('statement-markings', {});
    this.unresolvedDb = root.openDB<1, UnresolvedKey>('unresolved-markings', {});
  }

  /** The statement marking definitions known (read at each ingest: another process may add some). */
  statements(): Set<string> {
    return new Set(this.statementDb.getKeys({}));
  }

  isStatement(markingId: string): boolean {
    return this.statementDb.doesExist(markingId);
  }

  /** Records a statement definition (inside a write transaction); true when it was not known. */
  addStatement(markingId: string): boolean {
    if (this.statementDb.doesExist(markingId)) return false;
    this.statementDb.putSync(markingId, 1);
    return true;
  }

  /** Notes that an object in a collection carries markings the node could not resolve. */
  noteUnresolved(markings: readonly string[], collection: string, id: string): void {
    for (const m of markings) {
      const key: UnresolvedKey = [m, collection, id];
      if (!this.unresolvedDb.doesExist(key)) this.unresolvedDb.putSync(key, 1);
    }
  }

  /** The objects noted as waiting for a marking, and forgets them (inside a write transaction). */
  takeWaiting(markingId: string): Array<{ collection: string; id: string }> {
    const keys = [...this.unresolvedDb.getKeys({ start: [markingId], end: [markingId, HIGH] })];
    for (const key of keys) this.unresolvedDb.removeSync(key);
    return keys.map(([, collection, id]) => ({ collection, id }));
  }

  /** Whether an object is noted as waiting for a marking (for `check`). */
  isWaiting(markingId: string, collection: string, id: string): boolean {
    return this.unresolvedDb.doesExist([markingId, collection, id]);
  }
}

/** sorts after every string in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';
