/**
 * API roots and collections as the authenticated member may see them. An API root the member
 * holds no grant in, and a collection it holds no grant on, are answered exactly like unknown
 * ones (same status, same body), so their existence is not revealed.
 */
import type { Member } from '../../auth/index.ts';
import { accessTo, hasAnyGrantIn, type Access } from '../../auth/index.ts';
import type { ApiRootConfig, CollectionConfig, RelayConfig } from '../../config/index.ts';
import { notFound, TaxiiError } from './errors.ts';

export interface RootIndex {
  readonly root: ApiRootConfig;
  /** by id and by alias */
  readonly collections: ReadonlyMap<string, CollectionConfig>;
}

export class Directory {
  private readonly roots = new Map<string, RootIndex>();

  constructor(readonly config: RelayConfig) {
    for (const root of config.api_roots) {
      const collections = new Map<string, CollectionConfig>();
      for (const c of root.collections) {
        collections.set(c.id, c);
        if (c.alias !== undefined) collections.set(c.alias, c);
      }
      this.roots.set(root.path, { root, collections });
    }
  }

  /** Roots the member holds any grant in, in configuration order. */
  visibleRoots(member: Member): ApiRootConfig[] {
    return this.config.api_roots.filter((r) => hasAnyGrantIn(member, r));
  }

  /** The API root, or 404 when it is unknown or the member holds no grant in it. */
  root(member: Member, path: string): RootIndex {
    const index = this.roots.get(path);
    if (!index || !hasAnyGrantIn(member, index.root)) throw notFound('There is no API root at this URL.');
    return index;
  }

  /** The collection and the member's access, or 404 when unknown or not granted at all. */
  collection(member: Member, index: RootIndex, idOrAlias: string): { collection: CollectionConfig; access: Access } {
    const collection = index.collections.get(idOrAlias);
    const access = collection ? accessTo(member, index.root, collection) : undefined;
    if (!collection || !access || (!access.read && !access.write)) {
      throw notFound('There is no collection with this id or alias in this API root.');
    }
    return { collection, access };
  }
}

export const forbidden = (description: string) => new TaxiiError(403, 'Forbidden', { description, errorCode: 'forbidden' });

export function requireRead(access: Access): void {
  if (!access.read) throw forbidden('You may not read this collection.');
}

export function requireWrite(access: Access): void {
  if (!access.write) throw forbidden('You may not add objects to this collection.');
}

/** DELETE [T §5.7]: read and write required; neither was already a 404. */
export function requireDelete(access: Access): void {
  if (!access.read || !access.write) throw forbidden('Deleting objects needs both read and write access.');
}
