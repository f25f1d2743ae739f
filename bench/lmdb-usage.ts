/**
 * Where a store's bytes go, per sub-database: record writes (puts and removes the store asks
 * LMDB for) counted while a run lasts, and pages each sub-database holds afterwards
 * (`getStats()`: branch, leaf and overflow pages × page size).
 *
 * LMDB copies every page a transaction touches, so the bytes a run writes to storage
 * (/proc/self/io) are more than the pages held at the end; the kernel does not say which
 * sub-database a written page belonged to. Writes per object and bytes held per object per
 * sub-database are what can be attributed; the physical total stays one figure.
 *
 * The sub-databases are found on the store's parts (each part owns its own); their methods are
 * wrapped on the instance, which adds a counter increment per write.
 */
import type { Store } from '../src/store/index.ts';
import { round } from './context.ts';

interface LmdbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  entryCount: number;
  /** of the whole environment: the highest page in use */
  lastPageNumber: number;
}

interface SubDatabase {
  name: string;
  getStats(): LmdbStats;
  [method: string]: unknown;
}

const WRITE_METHODS = ['put', 'putSync', 'remove', 'removeSync'] as const;

function isSubDatabase(value: unknown): value is SubDatabase {
  const v = value as Partial<SubDatabase> | null;
  return (
    v !== null && typeof v === 'object' && typeof v.getStats === 'function' && typeof v.putSync === 'function' && typeof v.name === 'string'
  );
}

/** Every sub-database the store's parts hold, by name. */
function subDatabases(store: Store): Map<string, SubDatabase> {
  const found = new Map<string, SubDatabase>();
  for (const part of Object.values(store)) {
    if (part === null || typeof part !== 'object') continue;
    for (const value of Object.values(part as Record<string, unknown>)) if (isSubDatabase(value)) found.set(value.name, value);
  }
  return found;
}

export interface SubDatabaseUsage {
  /** puts and removes per object ingested */
  readonly writesPerObject: number;
  /** pages held at the end × page size ÷ objects ingested */
  readonly heldBytesPerObject: number;
  readonly entries: number;
}

export class StoreUsage {
  private readonly writes = new Map<string, number>();
  private readonly dbs: Map<string, SubDatabase>;

  /** Starts counting writes on the store's sub-databases. */
  constructor(store: Store) {
    this.dbs = subDatabases(store);
    for (const [name, db] of this.dbs) {
      this.writes.set(name, 0);
      for (const method of WRITE_METHODS) {
        const original = db[method];
        if (typeof original !== 'function') continue;
        db[method] = (...args: unknown[]) => {
          this.writes.set(name, (this.writes.get(name) ?? 0) + 1);
          return (original as (...a: unknown[]) => unknown).apply(db, args);
        };
      }
    }
  }

  /** Bytes of the environment's pages in use (the file may be larger: LMDB grows it ahead). */
  fileBytes(): number {
    const [db] = this.dbs.values();
    if (!db) return 0;
    const s = db.getStats();
    return (s.lastPageNumber + 1) * s.pageSize;
  }

  /** Per sub-database (those written or holding pages), for `objects` objects ingested; call before the store closes. */
  perObject(objects: number): Record<string, SubDatabaseUsage> {
    const out: Record<string, SubDatabaseUsage> = {};
    for (const [name, db] of [...this.dbs].sort(([a], [b]) => a.localeCompare(b))) {
      const s = db.getStats();
      const pages = s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
      const writes = this.writes.get(name) ?? 0;
      if (writes === 0 && pages === 0) continue;
      out[name] = {
        writesPerObject: round(writes / objects, 2),
        heldBytesPerObject: round((pages * s.pageSize) / objects),
        entries: s.entryCount,
      };
    }
    return out;
  }
}

/** One line: `name writes/object, held B/object` for the sub-databases that hold or write most. */
export function usageLine(usage: Record<string, SubDatabaseUsage>): string {
  return Object.entries(usage)
    .sort(([, a], [, b]) => b.heldBytesPerObject - a.heldBytesPerObject || b.writesPerObject - a.writesPerObject)
    .map(([name, u]) => `${name} ${u.writesPerObject} writes, ${u.heldBytesPerObject.toLocaleString('en-US')} B held`)
    .join('; ');
}
