/**
 * Every way a collection's objects are read: by members granted it directly, and by members
 * granted a view of it (the view's filter ANDed with the member's policy). For reports of what
 * reaches nobody (`relay import`), and for noticing when a member may receive more than before.
 */
import type { CollectionConfig, RelayConfig } from '../config/index.ts';
import { memberProfile, viewProfile } from '../policy/index.ts';
import type { Reader } from '../policy/reach.ts';
import { accessTo } from './grants.ts';

export interface CollectionReader {
  readonly member: string;
  /** the collection whose objects are read (a view's source) */
  readonly collection: string;
  readonly reader: Reader;
}

/** Every member's readers of every collection holding objects. */
export function collectionReaders(config: RelayConfig): CollectionReader[] {
  const out: CollectionReader[] = [];
  for (const root of config.api_roots) {
    for (const own of root.collections) {
      if (own.kind === 'view') continue;
      const views = root.collections.filter(
        (c): c is Extract<CollectionConfig, { kind: 'view' }> =>
          c.kind === 'view' && (c.source === own.id || (own.alias !== undefined && c.source === own.alias)),
      );
      for (const memberConfig of config.members) {
        const member = { id: memberConfig.id, name: memberConfig.name, config: memberConfig };
        const profile = memberProfile(memberConfig);
        if (accessTo(member, root, own).read) out.push({ member: member.id, collection: own.id, reader: { profile } });
        for (const view of views) {
          if (accessTo(member, root, view).read) {
            out.push({ member: member.id, collection: own.id, reader: { profile, viewFilter: viewProfile(view.id, view.filter) } });
          }
        }
      }
    }
  }
  return out;
}

/** The readers of one collection. */
export function readersOf(config: RelayConfig, collectionId: string): Reader[] {
  return collectionReaders(config)
    .filter((r) => r.collection === collectionId)
    .map((r) => r.reader);
}

/** What each configured member reads, per collection (for noticing at start that a member may receive more). */
export function readersByMember(config: RelayConfig): Array<{ member: string; readers: Array<{ collection: string; reader: Reader }> }> {
  const all = collectionReaders(config);
  return config.members.map((m) => ({
    member: m.id,
    readers: all.filter((r) => r.member === m.id).map(({ collection, reader }) => ({ collection, reader })),
  }));
}
