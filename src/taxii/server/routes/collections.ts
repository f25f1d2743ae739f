/** Collections [T §5.1] and one collection [T §5.2], with per-member can_read / can_write. */
import type { Hono } from 'hono';
import type { Access } from '../../../auth/index.ts';
import { accessTo } from '../../../auth/index.ts';
import type { CollectionConfig } from '../../../config/index.ts';
import type { Directory } from '../access.ts';
import { taxii } from '../respond.ts';

export function collectionResource(collection: CollectionConfig, access: Access): Record<string, unknown> {
  return {
    id: collection.id,
    title: collection.title,
    ...(collection.description !== undefined ? { description: collection.description } : {}),
    ...(collection.alias !== undefined ? { alias: collection.alias } : {}),
    can_read: access.read,
    can_write: access.write,
    media_types: collection.media_types,
  };
}

export function registerCollectionRoutes(app: Hono, directory: Directory): void {
  app.get('/:root/collections', (c) => {
    const member = c.get('member');
    const { root } = directory.root(member, c.req.param('root'));
    const collections: Record<string, unknown>[] = [];
    for (const collection of root.collections) {
      const access = accessTo(member, root, collection);
      if (access.read || access.write) collections.push(collectionResource(collection, access));
    }
    return taxii(c, collections.length > 0 ? { collections } : {});
  });

  app.get('/:root/collections/:collection', (c) => {
    const member = c.get('member');
    const index = directory.root(member, c.req.param('root'));
    const { collection, access } = directory.collection(member, index, c.req.param('collection'));
    return taxii(c, collectionResource(collection, access));
  });
}
