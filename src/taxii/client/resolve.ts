/**
 * Finding the API root and collection a subscription names. A subscription's URL may be the
 * server's discovery URL or an API root URL; its collection may be named by id, alias or title.
 */
import { TaxiiProtocolError } from './errors.ts';
import type { ApiRoot, RemoteCollection, TaxiiClient } from './client.ts';

export interface ResolvedApiRoot {
  readonly url: string;
  readonly apiRoot: ApiRoot;
}

/**
 * `url` is a discovery URL or an API root URL. When it is discovery, `hint` picks the API root
 * (an absolute URL, a path such as "/public/", a last path segment such as "public", or a
 * title); without a hint the discovery `default`, or the only API root, is used.
 */
export async function resolveApiRoot(client: TaxiiClient, url: string, hint?: string): Promise<ResolvedApiRoot> {
  const { response, body } = await client.getJson(url);
  if (Array.isArray(body.versions)) {
    return { url: withSlash(response.url), apiRoot: await client.apiRoot(withSlash(url)) };
  }
  if (typeof body.title !== 'string') {
    throw new TaxiiProtocolError('resource', 'neither a discovery resource nor an API root', url, response.text.slice(0, 2048));
  }
  const roots = (Array.isArray(body.api_roots) ? body.api_roots : []).filter((r): r is string => typeof r === 'string');
  const absolute = roots.map((r) => withSlash(new URL(r, url).href));
  let chosen: string | undefined;
  if (hint !== undefined) {
    const h = hint.trim();
    const candidates = [withSlash(new URL(h, url).href), withSlash(new URL(`/${h.replace(/^\/+/, '')}`, url).href)];
    chosen = absolute.find((a) => candidates.includes(a)) ?? absolute.find((a) => lastSegment(a) === h.replace(/\//g, ''));
    if (!chosen) {
      for (const a of absolute) {
        try {
          if ((await client.apiRoot(a)).title === h) chosen = a;
        } catch {
          // an API root we may not read is simply not the one
        }
        if (chosen) break;
      }
    }
    if (!chosen && /^https?:\/\//i.test(h)) chosen = withSlash(h); // may be unlisted for us (the client refuses http:// unless allowed)
    if (!chosen) {
      throw new TaxiiProtocolError(
        'resource',
        `API root "${hint}" is not listed by discovery (listed: ${absolute.join(', ') || 'none'})`,
        url,
      );
    }
  } else if (typeof body.default === 'string') {
    chosen = withSlash(new URL(body.default, url).href);
  } else if (absolute.length === 1) {
    chosen = absolute[0];
  } else {
    throw new TaxiiProtocolError(
      'resource',
      `discovery lists ${absolute.length} API roots and no default; set api_root (one of: ${absolute.join(', ') || 'none'})`,
      url,
    );
  }
  return { url: chosen as string, apiRoot: await client.apiRoot(chosen as string) };
}

/** Finds a collection by id, then alias, then (unique) title. */
export function findCollection(collections: readonly RemoteCollection[], name: string): RemoteCollection | undefined {
  return (
    collections.find((c) => c.id === name) ??
    collections.find((c) => c.alias === name) ??
    (collections.filter((c) => c.title === name).length === 1 ? collections.find((c) => c.title === name) : undefined)
  );
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

function lastSegment(u: string): string {
  const parts = new URL(u).pathname.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}
