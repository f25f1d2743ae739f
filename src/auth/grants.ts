/** Per-member collection grants from config (by collection id or alias). */
import type { ApiRootConfig, CollectionConfig } from '../config/index.ts';
import type { Member } from './authenticator.ts';

export interface Access {
  readonly read: boolean;
  readonly write: boolean;
}

export const NO_ACCESS: Access = { read: false, write: false };

export function accessTo(member: Member, root: ApiRootConfig, collection: CollectionConfig): Access {
  let read = false;
  let write = false;
  for (const g of member.config.grants) {
    if (g.api_root !== root.path) continue;
    if (g.collection !== collection.id && g.collection !== collection.alias) continue;
    read ||= g.read;
    write ||= g.write;
  }
  // A view is read-only (it holds nothing of its own); an inbox is write-only for members.
  if (collection.kind === 'view') write = false;
  if (collection.kind === 'inbox') read = false;
  return { read, write };
}

/** Whether the member holds any grant in this API root (otherwise the root is invisible). */
export function hasAnyGrantIn(member: Member, root: ApiRootConfig): boolean {
  return member.config.grants.some((g) => g.api_root === root.path && (g.read || g.write));
}
