/**
 * `relay probe`: checks a TAXII 2.1 server before an operator subscribes to it. Each named
 * check makes its own requests (so one fault does not hide the next) and passes, fails, or is
 * skipped when it cannot apply (say, a collection too small to page). Nothing is retried: the
 * report shows the server as it answered.
 */
import { parseTaxiiTimestamp } from '../stix/time.ts';
import {
  TaxiiClient,
  TaxiiClientError,
  checkEnvelope,
  checkTaxiiMediaType,
  findCollection,
  join,
  parseApiRoot,
  type ClientOptions,
  type ObjectsPage,
  type ObjectsQuery,
  type RawResponse,
  type RemoteCollection,
} from '../taxii/client/index.ts';
import { versionKeyOf } from './cursor.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface ProbeCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface ProbeOptions {
  readonly url: string;
  readonly apiRoot?: string;
  readonly collection?: string;
  readonly client: ClientOptions;
}

const TAXII_21 = 'application/taxii+json;version=2.1';

class CheckFailed extends Error {}
class CheckSkipped extends Error {}
const fail = (message: string): never => {
  throw new CheckFailed(message);
};
const skip = (message: string): never => {
  throw new CheckSkipped(message);
};

export async function probe(options: ProbeOptions): Promise<ProbeCheck[]> {
  const client = new TaxiiClient(options.client);
  const checks: ProbeCheck[] = [];
  const run = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, status: 'pass', detail: await body() });
      return true;
    } catch (error) {
      if (error instanceof CheckSkipped) checks.push({ name, status: 'skip', detail: error.message });
      else checks.push({ name, status: 'fail', detail: describe(error) });
      return false;
    }
  };
  const notRun = (names: string[], why: string) => {
    for (const name of names) checks.push({ name, status: 'fail', detail: `not run: ${why}` });
  };

  try {
    let first: RawResponse | undefined;
    const connected = await run('connect', async () => {
      first = await client.raw(options.url);
      return `${/^http:/i.test(options.url) ? 'plain HTTP (unencrypted)' : 'HTTPS'} answered ${first.status}`;
    });
    if (!connected || !first) {
      notRun(
        [
          'discovery',
          'api-root',
          'collections',
          'objects',
          'date-headers',
          'limit',
          'paging-next',
          'paging-added-after',
          'version-filter',
          'manifest',
          'error-resource',
        ],
        'no connection',
      );
      return checks;
    }
    const response = first;
    let apiRootUrl: string | undefined;

    await run('discovery', async () => {
      const body = client.expectTaxiiJson(response);
      if (Array.isArray(body.versions)) {
        apiRootUrl = withSlash(options.url);
        return skip('the URL is an API root, not the discovery endpoint');
      }
      if (typeof body.title !== 'string') fail("no 'title': not a discovery resource");
      const roots = Array.isArray(body.api_roots) ? (body.api_roots as unknown[]).filter((r): r is string => typeof r === 'string') : [];
      if (typeof body.default === 'string' && !roots.includes(body.default)) fail(`'default' ${body.default} is not one of api_roots`);
      const absolute = roots.map((r) => withSlash(new URL(r, options.url).href));
      const hint = options.apiRoot;
      apiRootUrl =
        (hint !== undefined
          ? absolute.find((a) => a === withSlash(new URL(hint, options.url).href) || a.endsWith(`/${hint.replace(/\//g, '')}/`))
          : undefined) ?? (typeof body.default === 'string' ? withSlash(new URL(body.default, options.url).href) : absolute[0]);
      if (!apiRootUrl) fail('no API root listed for us');
      return `"${body.title}", ${roots.length} API root(s)${typeof body.default === 'string' ? `, default ${body.default}` : ''}`;
    });

    const rootOk = await run('api-root', async () => {
      if (!apiRootUrl) return fail('no API root to check');
      const raw = await client.raw(apiRootUrl);
      const root = parseApiRoot(client.expectTaxiiJson(raw), raw);
      if (!root.versions.some((v) => v.replace(/\s/g, '') === TAXII_21)) fail(`versions ${JSON.stringify(root.versions)} lack ${TAXII_21}`);
      return `${apiRootUrl} "${root.title}", max_content_length ${root.max_content_length}`;
    });

    let collection: RemoteCollection | undefined;
    const collectionsOk =
      rootOk &&
      (await run('collections', async () => {
        const list = await client.collections(apiRootUrl as string);
        for (const c of list) {
          if (typeof c.can_read !== 'boolean' || typeof c.can_write !== 'boolean')
            fail(`collection ${c.id} lacks can_read/can_write booleans`);
        }
        const readable = list.filter((c) => c.can_read);
        collection = options.collection ? findCollection(list, options.collection) : readable[0];
        if (options.collection && !collection)
          fail(`collection "${options.collection}" is not listed (listed: ${list.map((c) => c.title).join(', ') || 'none'})`);
        const chosen = collection ?? fail(`none of ${list.length} collection(s) is readable with these credentials`);
        if (!chosen.can_read) fail(`collection "${chosen.title}" has can_read false for us`);
        return `${list.length} collection(s), ${readable.length} readable; probing "${chosen.title}" (${chosen.id})`;
      }));
    if (!collectionsOk || !collection) {
      notRun(
        ['objects', 'date-headers', 'limit', 'paging-next', 'paging-added-after', 'version-filter', 'manifest', 'error-resource'],
        'no readable collection',
      );
      return checks;
    }
    const root = apiRootUrl as string;
    const id = collection.id;
    const get = async (query: ObjectsQuery): Promise<{ raw: RawResponse; page: ObjectsPage }> => {
      const raw = await client.raw(client.objectsUrl(root, id, query));
      return { raw, page: client.parseObjectsPage(raw) };
    };

    await run('objects', async () => {
      const { page } = await get({ limit: 2 });
      if (page.objects.length === 0) skip('the collection is empty for us: nothing to page through');
      const bad = page.objects.filter((o) => versionKeyOf(o) === undefined).length;
      if (bad > 0) fail(`${bad} of ${page.objects.length} objects have no id`);
      return `envelope with ${page.objects.length} object(s), Content-Type ${TAXII_21}, more=${page.more}`;
    });

    await run('date-headers', async () => {
      const { page } = await get({ limit: 2 });
      if (page.objects.length === 0) skip('empty page: the headers are optional');
      const { dateAddedFirst: firstH, dateAddedLast: lastH } = page;
      if (!firstH || !lastH) fail('X-TAXII-Date-Added-First/-Last missing on a non-empty page (clients cannot page with added_after)');
      const f = parseTaxiiTimestamp(firstH as string);
      const l = parseTaxiiTimestamp(lastH as string);
      if (f === null || l === null) fail(`not timestamps: ${firstH} / ${lastH}`);
      if ((f as number) > (l as number)) fail(`First ${firstH} is after Last ${lastH}`);
      const precise = /\.\d{6}Z$/.test(lastH as string) ? '' : ' (not microsecond precision)';
      return `First ${firstH}, Last ${lastH}${precise}`;
    });

    await run('limit', async () => {
      const { page } = await get({ limit: 1 });
      if (page.objects.length > 1) fail(`limit=1 returned ${page.objects.length} objects`);
      if (page.objects.length === 1 && !page.more) skip('only one object: limit not observable');
      return 'limit=1 returned 1 object with more=true';
    });

    await run('paging-next', async () => {
      const { page: p1 } = await get({ limit: 2 });
      if (!p1.more) skip('fewer than 3 objects: nothing to page');
      if (!p1.next) return "more=true without 'next': clients page with added_after (allowed)";
      const { page: p2 } = await get({ limit: 2, next: p1.next });
      if (p2.objects.length === 0) fail("the page after 'next' is empty although more=true");
      const seen = new Set(p1.objects.map(versionKeyOf));
      const repeated = p2.objects.filter((o) => seen.has(versionKeyOf(o))).length;
      if (repeated === p2.objects.length) fail("server ignores 'next': it answered the first page again");
      if (repeated > 0) fail(`'next' repeated ${repeated} object(s) of the previous page`);
      const session = p2.next !== undefined && p2.next === p1.next ? ' (one token for the whole paging session, as medallion does)' : '';
      return `'next' continued with ${p2.objects.length} new object(s)${session}`;
    });

    await run('paging-added-after', async () => {
      const { page: p1 } = await get({ limit: 2 });
      if (!p1.more) skip('fewer than 3 objects: nothing to page');
      if (!p1.dateAddedLast) fail('no X-TAXII-Date-Added-Last to continue from');
      const { page: p2 } = await get({ limit: 2, addedAfter: p1.dateAddedLast as string });
      if (p2.objects.length === 0) fail('added_after=<Date-Added-Last> returned nothing although more=true');
      const boundary = versionKeyOf(p1.objects[p1.objects.length - 1]);
      if (p2.objects.some((o) => versionKeyOf(o) === boundary)) {
        fail('added_after is inclusive: the boundary object was repeated (clients must de-duplicate)');
      }
      if (p2.dateAddedFirst && (parseTaxiiTimestamp(p2.dateAddedFirst) ?? 0) <= (parseTaxiiTimestamp(p1.dateAddedLast as string) ?? 0)) {
        fail(`the next page starts at ${p2.dateAddedFirst}, not after ${p1.dateAddedLast}`);
      }
      return `added_after=${p1.dateAddedLast} continued without repeating`;
    });

    await run('version-filter', async () => {
      const counts: string[] = [];
      for (const v of ['all', 'first', 'last']) {
        const { page } = await get({ limit: 50, matchVersion: v });
        counts.push(`${v}: ${page.objects.length}${page.more ? '+' : ''}`);
        if (v === 'all') {
          const ids = new Set(page.objects.map((o) => (o as { id?: string }).id));
          if (ids.size < page.objects.length) counts.push('several versions per object served');
        }
      }
      return `match[version] all/first/last accepted (${counts.join(', ')})`;
    });

    await run('manifest', async () => {
      const raw = await client.raw(client.objectsUrl(root, id, { limit: 2 }, 'manifest'));
      const body = client.expectTaxiiJson(raw);
      const problem = checkEnvelope(body, 'objects');
      if (problem) fail(problem);
      const records = (body.objects as Array<Record<string, unknown>> | undefined) ?? [];
      for (const r of records) {
        if (typeof r.id !== 'string' || typeof r.version !== 'string' || typeof r.date_added !== 'string')
          fail('a record lacks id, version or date_added');
        if (parseTaxiiTimestamp(r.date_added as string) === null) fail(`date_added ${String(r.date_added)} is not a timestamp`);
      }
      return `${records.length} record(s) with id, version, date_added`;
    });

    await run('error-resource', async () => {
      const raw = await client.raw(join(root, 'collections/00000000-0000-4000-8000-00000000dead/objects/'));
      if (raw.status < 400) fail(`an unknown collection answered ${raw.status}`);
      const media = checkTaxiiMediaType(raw.headers['content-type']);
      if (media) fail(`error ${raw.status}: ${media}`);
      let title: unknown;
      try {
        title = (JSON.parse(raw.text) as { title?: unknown }).title;
      } catch {
        fail(`error ${raw.status} body is not JSON`);
      }
      if (typeof title !== 'string') fail(`error ${raw.status} body has no 'title'`);
      return `unknown collection: ${raw.status} with a TAXII error ("${title as string}")`;
    });
    return checks;
  } finally {
    await client.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof CheckFailed) return error.message;
  if (error instanceof TaxiiClientError) return `${error.name}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

export function formatProbe(url: string, checks: readonly ProbeCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = [`TAXII 2.1 probe of ${url}`];
  for (const c of checks) lines.push(`  ${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const skipped = checks.filter((c) => c.status === 'skip').length;
  lines.push(`${checks.length} checks: ${checks.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
  return lines.join('\n');
}
