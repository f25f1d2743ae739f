/** Discovery [T §4.1], API root information [T §4.2] and status [T §4.3]. */
import type { Hono } from 'hono';
import { nowMicros } from '../../../stix/time.ts';
import type { Directory } from '../access.ts';
import type { ServerContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { TAXII_CONTENT_TYPE } from '../media.ts';
import { taxii } from '../respond.ts';
import { visibleStatus } from '../status.ts';

export function registerDiscoveryRoutes(app: Hono, ctx: ServerContext, directory: Directory): void {
  const { config } = ctx;

  app.get('/taxii2', (c) => {
    const roots = directory.visibleRoots(c.get('member'));
    const paths = roots.map((r) => `/${r.path}/`);
    const defaultRoot = roots.find((r) => r.default);
    return taxii(c, {
      title: config.node.title,
      ...(config.node.description !== undefined ? { description: config.node.description } : {}),
      ...(config.node.contact !== undefined ? { contact: config.node.contact } : {}),
      ...(defaultRoot ? { default: `/${defaultRoot.path}/` } : {}),
      ...(paths.length > 0 ? { api_roots: paths } : {}),
    });
  });

  app.get('/:root', (c) => {
    const { root } = directory.root(c.get('member'), c.req.param('root'));
    return taxii(c, {
      title: root.title,
      ...(root.description !== undefined ? { description: root.description } : {}),
      versions: [TAXII_CONTENT_TYPE],
      max_content_length: config.taxii.max_content_length,
    });
  });

  app.get('/:root/status/:statusId', (c) => {
    const member = c.get('member');
    const { root } = directory.root(member, c.req.param('root'));
    const id = c.req.param('statusId');
    const stored = id.length <= 64 ? ctx.store.resources.getStatus(id) : undefined;
    const status = visibleStatus(stored, root.path, member.id, nowMicros(), config.taxii.status_retention_hours);
    if (!status) throw notFound('There is no status resource with this id.');
    return taxii(c, status);
  });
}
