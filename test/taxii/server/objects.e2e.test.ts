/**
 * End to end over HTTPS: get objects, manifest, one object, versions and delete, with every
 * filter, paging with `next`, and the X-TAXII-Date-Added headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, startTestNode, type TestNode } from '../../support/node.ts';
import { TAXII_TIMESTAMP, UNVERSIONED, indicator, ipv4, malware, marking, ts } from './fixtures.ts';

let t: TestNode;
const ind1 = indicator().id; // three versions, ingested v0, v2, v1
const ind2 = indicator().id; // two versions, the newest revoked
const mal = malware();
const md = marking();
const sco = ipv4('203.0.113.9');
const V = (v: number) => ts(Date.parse('2024-01-01T00:00:00.000Z') + v * 1000);
const SHARED = `/isac/collections/${COLLECTIONS.shared}`;
const BIG = 250; // more than max_page_size (200)

function ingest(collection: string, objects: unknown[]) {
  const report = t.node.ingestor.ingest(collection, objects, { source: 'import', detail: 'test' });
  expect(report.rejected).toBe(0);
}

beforeAll(async () => {
  t = await startTestNode();
  ingest(COLLECTIONS.shared, [indicator(ind1, 0)]);
  ingest(COLLECTIONS.shared, [indicator(ind1, 2)]);
  ingest(COLLECTIONS.shared, [indicator(ind1, 1), mal, md, sco]);
  ingest(COLLECTIONS.shared, [indicator(ind2, 0), indicator(ind2, 1, { revoked: true })]);
  ingest(
    COLLECTIONS.secret,
    Array.from({ length: BIG }, () => ipv4()),
  );
});
afterAll(async () => {
  await t?.close();
});

const versionsOf = (objects: any[]) => objects.map((o) => `${o.id}@${o.modified ?? o.created ?? UNVERSIONED}`);

describe('get objects', () => {
  it('returns the newest version of every object, oldest date_added first', async () => {
    const r = await t.get(`${SHARED}/objects/`);
    expect(r.status).toBe(200);
    expect(r.body.more).toBe(false);
    expect(r.body.next).toBeUndefined();
    expect(versionsOf(r.body.objects)).toEqual([
      `${ind1}@${V(2)}`,
      `${mal.id}@${mal.modified}`,
      `${md.id}@${md.created}`,
      `${sco.id}@${UNVERSIONED}`,
      `${ind2}@${V(1)}`,
    ]);
  });

  it('serves the revoked version as the newest one', async () => {
    const r = await t.get(`${SHARED}/objects/?match[id]=${ind2}`);
    expect(r.body.objects).toHaveLength(1);
    expect(r.body.objects[0]).toMatchObject({ id: ind2, revoked: true, modified: V(1) });
  });

  it('serves the stored JSON as received', async () => {
    const r = await t.get(`${SHARED}/objects/?match[id]=${md.id}`);
    expect(r.body.objects).toEqual([md]);
  });

  it('sets X-TAXII-Date-Added headers to the first and last date_added, with six digits', async () => {
    const r = await t.get(`${SHARED}/objects/?match[version]=all`);
    const manifest = await t.get(`${SHARED}/manifest/?match[version]=all`);
    const first = r.headers.get('x-taxii-date-added-first');
    const last = r.headers.get('x-taxii-date-added-last');
    expect(first).toMatch(TAXII_TIMESTAMP);
    expect(last).toMatch(TAXII_TIMESTAMP);
    expect(first).toBe(manifest.body.objects[0].date_added);
    expect(last).toBe(manifest.body.objects.at(-1).date_added);
    expect(manifest.headers.get('x-taxii-date-added-first')).toBe(first);
    expect(first! < last!).toBe(true);
  });

  describe('match[version]', () => {
    const ids = async (query: string) =>
      versionsOf((await t.get(`${SHARED}/objects/?match[id]=${ind1},${ind2}&${query}`)).body.objects ?? []);

    it('all: every version in date_added order', async () => {
      expect(await ids('match[version]=all')).toEqual([
        `${ind1}@${V(0)}`,
        `${ind1}@${V(2)}`,
        `${ind1}@${V(1)}`,
        `${ind2}@${V(0)}`,
        `${ind2}@${V(1)}`,
      ]);
    });
    it('first: the oldest version as an instant', async () => {
      expect(await ids('match[version]=first')).toEqual([`${ind1}@${V(0)}`, `${ind2}@${V(0)}`]);
    });
    it('first,last: both ends', async () => {
      expect(await ids('match[version]=first,last')).toEqual([`${ind1}@${V(0)}`, `${ind1}@${V(2)}`, `${ind2}@${V(0)}`, `${ind2}@${V(1)}`]);
    });
    it('a timestamp, compared as an instant', async () => {
      const micro = V(1).replace('Z', '000Z'); // 2024-01-01T00:00:01.000000Z
      expect(await ids(`match[version]=${micro}`)).toEqual([`${ind1}@${V(1)}`, `${ind2}@${V(1)}`]);
    });
    it('first plus a timestamp', async () => {
      expect(await ids(`match[version]=first,${V(2)}`)).toEqual([`${ind1}@${V(0)}`, `${ind1}@${V(2)}`, `${ind2}@${V(0)}`]);
    });
    it('a timestamp no version has: nothing', async () => {
      expect(await ids('match[version]=2030-01-01T00:00:00.000Z')).toEqual([]);
    });
    it.each([
      ['all combined with last', 'match[version]=all,last'],
      ['a repeated keyword', 'match[version]=last,last'],
      ['a repeated instant', `match[version]=${V(1)},${V(1).replace('.000Z', 'Z')}`],
      ['a malformed timestamp', 'match[version]=2024-13-01T00:00:00Z'],
      ['an unknown keyword', 'match[version]=newest'],
      ['an empty value', 'match[version]='],
    ])('refuses %s with 400', async (_name, query) => {
      const r = await t.get(`${SHARED}/objects/?${query}`);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ http_status: '400' });
    });
  });

  it('match[type] keeps only the listed types', async () => {
    const r = await t.get(`${SHARED}/objects/?match[type]=malware,ipv4-addr`);
    expect(r.body.objects.map((o: any) => o.id)).toEqual([mal.id, sco.id]);
  });

  it('match[id] with several ids (OR) combined with match[type] (AND)', async () => {
    const r = await t.get(`${SHARED}/objects/?match[id]=${mal.id},${ind1}&match[type]=indicator`);
    expect(versionsOf(r.body.objects)).toEqual([`${ind1}@${V(2)}`]);
  });

  it('match[spec_version]: 2.1 keeps everything, 2.0 nothing; malformed values are 400', async () => {
    expect((await t.get(`${SHARED}/objects/?match[spec_version]=2.0,2.1`)).body.objects).toHaveLength(5);
    const none = await t.get(`${SHARED}/objects/?match[spec_version]=2.0`);
    expect(none.body).toEqual({ more: false });
    expect((await t.get(`${SHARED}/objects/?match[spec_version]=latest`)).status).toBe(400);
  });

  it('ignores unknown parameters and unknown match fields', async () => {
    const r = await t.get(`${SHARED}/objects/?foo=bar&match[color]=red&match[color]=blue`);
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(5);
  });

  it('added_after is exclusive', async () => {
    const manifest = (await t.get(`${SHARED}/manifest/?match[version]=all`)).body.objects;
    const r = await t.get(`${SHARED}/objects/?match[version]=all&added_after=${manifest[2].date_added}`);
    expect(r.body.objects.map((o: any) => o.id)).toEqual(manifest.slice(3).map((m: any) => m.id));
    expect(r.headers.get('x-taxii-date-added-first')).toBe(manifest[3].date_added);
    const after = await t.get(`${SHARED}/objects/?added_after=${manifest.at(-1).date_added}`);
    expect(after.body).toEqual({ more: false });
    expect(after.headers.get('x-taxii-date-added-first')).toBeNull();
  });

  it('added_after accepts any RFC 3339 form and refuses the rest with 400', async () => {
    expect((await t.get(`${SHARED}/objects/?added_after=2000-01-01T00:00:00Z`)).body.objects).toHaveLength(5);
    expect((await t.get(`${SHARED}/objects/?added_after=2000-01-01T01:00:00%2B01:00`)).body.objects).toHaveLength(5);
    expect((await t.get(`${SHARED}/objects/?added_after=yesterday`)).status).toBe(400);
    expect((await t.get(`${SHARED}/objects/?added_after=2000-01-01T00:00:00Z&added_after=2001-01-01T00:00:00Z`)).status).toBe(400);
  });

  it.each(['0', '-1', 'ten', '1.5', ''])('refuses limit=%s with 400', async (limit) => {
    const r = await t.get(`${SHARED}/objects/?limit=${limit}`);
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('invalid-limit');
  });

  it('an empty collection gives an empty envelope without X-TAXII headers', async () => {
    for (const path of ['objects/', 'manifest/', 'objects/?match[version]=all&limit=1']) {
      const r = await t.get(`/isac/collections/empty/${path}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ more: false });
      expect(r.headers.get('x-taxii-date-added-first')).toBeNull();
      expect(r.headers.get('x-taxii-date-added-last')).toBeNull();
    }
  });
});

describe('paging', () => {
  it('follows next through every version exactly once', async () => {
    const seen: string[] = [];
    let query = `${SHARED}/objects/?match[version]=all&limit=3`;
    let pages = 0;
    for (;;) {
      const r = await t.get(query);
      expect(r.status).toBe(200);
      pages++;
      seen.push(...versionsOf(r.body.objects ?? []));
      expect(r.body.objects.length).toBeLessThanOrEqual(3);
      if (!r.body.more) break;
      expect(typeof r.body.next).toBe('string');
      query = `${SHARED}/objects/?match[version]=all&limit=3&next=${encodeURIComponent(r.body.next)}`;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  it('clamps a limit above the server maximum and pages the rest', async () => {
    const first = await t.get(`/isac/collections/secret/objects/?limit=100000`);
    expect(first.status).toBe(200);
    expect(first.body.objects).toHaveLength(200);
    expect(first.body.more).toBe(true);
    const second = await t.get(`/isac/collections/secret/objects/?limit=100000&next=${encodeURIComponent(first.body.next)}`);
    expect(second.body.objects).toHaveLength(BIG - 200);
    expect(second.body.more).toBe(false);
    expect(second.body.next).toBeUndefined();
    const ids = new Set([...first.body.objects, ...second.body.objects].map((o: any) => o.id));
    expect(ids.size).toBe(BIG);
  });

  it('uses default_page_size without limit', async () => {
    const r = await t.get('/isac/collections/secret/manifest/');
    expect(r.body.objects).toHaveLength(50);
    expect(r.body.more).toBe(true);
  });

  it('a next token may be used with another limit', async () => {
    const first = await t.get(`${SHARED}/objects/?match[version]=all&limit=2`);
    const second = await t.get(`${SHARED}/objects/?match[version]=all&limit=6&next=${encodeURIComponent(first.body.next)}`);
    expect(second.status).toBe(200);
    expect(second.body.objects).toHaveLength(6);
  });

  it('combines next and added_after by resuming after the later of the two', async () => {
    const manifest = (await t.get(`${SHARED}/manifest/?match[version]=all`)).body.objects;
    const q = `match[version]=all&limit=2&added_after=${manifest[4].date_added}`;
    const first = await t.get(`${SHARED}/objects/?${q}`);
    expect(first.body.objects.map((o: any) => o.id)).toEqual([manifest[5].id, manifest[6].id]);
    const second = await t.get(`${SHARED}/objects/?${q}&next=${encodeURIComponent(first.body.next)}`);
    expect(second.body.objects.map((o: any) => o.id)).toEqual([manifest[7].id]);
  });

  describe('refuses with 400', () => {
    let token: string;
    beforeAll(async () => {
      token = (await t.get(`${SHARED}/objects/?match[version]=all&limit=2`)).body.next;
      expect(typeof token).toBe('string');
    });

    it('an unknown or garbage next', async () => {
      for (const next of ['abc', 'not a token!', 'A'.repeat(55), 'x'.repeat(2000)]) {
        const r = await t.get(`${SHARED}/objects/?match[version]=all&limit=2&next=${encodeURIComponent(next)}`);
        expect(r.status, next.slice(0, 10)).toBe(400);
      }
    });
    it('a tampered next', async () => {
      const flipped = token.slice(0, 5) + (token[5] === 'A' ? 'B' : 'A') + token.slice(6);
      const r = await t.get(`${SHARED}/objects/?match[version]=all&limit=2&next=${encodeURIComponent(flipped)}`);
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe('invalid-next');
    });
    it('a next token replayed by another member', async () => {
      const r = await t.get(`${SHARED}/objects/?match[version]=all&limit=2&next=${encodeURIComponent(token)}`, 'bob');
      expect(r.status).toBe(400);
    });
    it('a next token with different filters, endpoint or collection', async () => {
      for (const path of [
        `${SHARED}/objects/?match[version]=last&limit=2`,
        `${SHARED}/objects/?limit=2`,
        `${SHARED}/objects/?match[version]=all&match[type]=indicator&limit=2`,
        `${SHARED}/manifest/?match[version]=all&limit=2`,
        `/isac/collections/secret/objects/?match[version]=all&limit=2`,
      ]) {
        const r = await t.get(`${path}&next=${encodeURIComponent(token)}`);
        expect(r.status, path).toBe(400);
      }
    });
    it('and the same token still works for its own query', async () => {
      const r = await t.get(`${SHARED}/objects/?match[version]=all&limit=2&next=${encodeURIComponent(token)}`);
      expect(r.status).toBe(200);
    });
  });
});

describe('manifest', () => {
  it('has one record per version with date_added, version and media type', async () => {
    const r = await t.get(`${SHARED}/manifest/?match[id]=${ind1},${md.id},${sco.id}&match[version]=all`);
    expect(r.status).toBe(200);
    const records = r.body.objects;
    expect(records.map((m: any) => [m.id, m.version])).toEqual([
      [ind1, V(0)],
      [ind1, V(2)],
      [ind1, V(1)],
      [md.id, md.created],
      [sco.id, UNVERSIONED],
    ]);
    for (const m of records) {
      expect(Object.keys(m).sort()).toEqual(['date_added', 'id', 'media_type', 'version']);
      expect(m.date_added).toMatch(TAXII_TIMESTAMP);
      expect(m.media_type).toBe('application/stix+json;version=2.1');
    }
  });

  it('evaluates match[type] against the object', async () => {
    const r = await t.get(`${SHARED}/manifest/?match[type]=indicator`);
    expect(r.body.objects.map((m: any) => [m.id, m.version])).toEqual([
      [ind1, V(2)],
      [ind2, V(1)],
    ]);
  });

  it('pages with next like the objects endpoint', async () => {
    const first = await t.get(`${SHARED}/manifest/?match[version]=all&limit=5`);
    expect(first.body.more).toBe(true);
    const second = await t.get(`${SHARED}/manifest/?match[version]=all&limit=5&next=${encodeURIComponent(first.body.next)}`);
    expect(second.body.objects).toHaveLength(3);
    expect(second.body.more).toBe(false);
  });
});

describe('one object', () => {
  it('returns the newest version by default, and every version with match[version]=all', async () => {
    const last = await t.get(`${SHARED}/objects/${ind1}/`);
    expect(versionsOf(last.body.objects)).toEqual([`${ind1}@${V(2)}`]);
    expect(last.headers.get('x-taxii-date-added-first')).toMatch(TAXII_TIMESTAMP);
    const all = await t.get(`${SHARED}/objects/${ind1}/?match[version]=all`);
    expect(versionsOf(all.body.objects)).toEqual([`${ind1}@${V(0)}`, `${ind1}@${V(2)}`, `${ind1}@${V(1)}`]);
    const first = await t.get(`${SHARED}/objects/${ind1}?match[version]=first`);
    expect(versionsOf(first.body.objects)).toEqual([`${ind1}@${V(0)}`]);
  });

  it('pages versions with limit and next', async () => {
    const a = await t.get(`${SHARED}/objects/${ind1}/?match[version]=all&limit=2`);
    expect(a.body.objects).toHaveLength(2);
    expect(a.body.more).toBe(true);
    const b = await t.get(`${SHARED}/objects/${ind1}/?match[version]=all&limit=2&next=${encodeURIComponent(a.body.next)}`);
    expect(versionsOf(b.body.objects)).toEqual([`${ind1}@${V(1)}`]);
    expect(b.body.more).toBe(false);
    // the token is bound to the object
    const other = await t.get(`${SHARED}/objects/${ind2}/?match[version]=all&limit=2&next=${encodeURIComponent(a.body.next)}`);
    expect(other.status).toBe(400);
  });

  it('answers an unknown object with 404', async () => {
    const r = await t.get(`${SHARED}/objects/indicator--00000000-0000-4000-8000-000000000000/`);
    expect(r.status).toBe(404);
    expect(r.body.http_status).toBe('404');
    const elsewhere = await t.get(`/isac/collections/empty/objects/${ind1}/`);
    expect(elsewhere.status).toBe(404);
  });
});

describe('versions', () => {
  it('lists every version oldest to newest, with X-TAXII headers', async () => {
    const r = await t.get(`${SHARED}/objects/${ind1}/versions/`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ more: false, versions: [V(0), V(1), V(2)] });
    expect(r.headers.get('x-taxii-date-added-first')).toMatch(TAXII_TIMESTAMP);
    expect(r.headers.get('x-taxii-date-added-last')).toMatch(TAXII_TIMESTAMP);
  });

  it('gives the unversioned sentinel for an SCO and created for a marking definition', async () => {
    expect((await t.get(`${SHARED}/objects/${sco.id}/versions/`)).body.versions).toEqual([UNVERSIONED]);
    expect((await t.get(`${SHARED}/objects/${md.id}/versions/`)).body.versions).toEqual([md.created]);
  });

  it('pages with limit and added_after', async () => {
    const a = await t.get(`${SHARED}/objects/${ind1}/versions/?limit=2`);
    expect(a.body.more).toBe(true);
    expect(a.body.versions).toEqual([V(0), V(2)]);
    const b = await t.get(`${SHARED}/objects/${ind1}/versions/?added_after=${a.headers.get('x-taxii-date-added-last')}`);
    expect(b.body).toEqual({ more: false, versions: [V(1)] });
  });

  it('answers an unknown object with 404', async () => {
    const r = await t.get(`${SHARED}/objects/malware--00000000-0000-4000-8000-000000000000/versions/`);
    expect(r.status).toBe(404);
  });
});

describe('delete', () => {
  const INBOX = `/isac/collections/inbox`;
  const del = (path: string) =>
    t.request(path, { method: 'DELETE', member: 'alice', headers: { accept: 'application/taxii+json;version=2.1' } });

  it('removes the versions named by match[version], then all of them; afterwards GET is 404', async () => {
    const id = indicator().id;
    ingest(COLLECTIONS.inbox, [indicator(id, 0), indicator(id, 1), indicator(id, 2)]);
    const one = await del(`${INBOX}/objects/${id}/?match[version]=${V(1)}`);
    expect(one.status).toBe(200);
    expect(await one.text()).toBe('');
    expect(one.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    expect((await t.get(`${INBOX}/objects/${id}/versions/`)).body.versions).toEqual([V(0), V(2)]);

    const rest = await del(`${INBOX}/objects/${id}/`);
    expect(rest.status).toBe(200);
    expect((await t.get(`${INBOX}/objects/${id}/`)).status).toBe(404);
    expect((await t.get(`${INBOX}/objects/${id}/versions/`)).status).toBe(404);
    const listing = await t.get(`${INBOX}/objects/?match[version]=all`);
    expect((listing.body.objects ?? []).some((o: any) => o.id === id)).toBe(false);
    const manifest = await t.get(`${INBOX}/manifest/?match[version]=all`);
    expect((manifest.body.objects ?? []).some((m: any) => m.id === id)).toBe(false);
    expect((await del(`${INBOX}/objects/${id}/`)).status).toBe(404);
  });

  it('deletes only the newest version with match[version]=last', async () => {
    const id = indicator().id;
    ingest(COLLECTIONS.inbox, [indicator(id, 0), indicator(id, 5)]);
    expect((await del(`${INBOX}/objects/${id}/?match[version]=last`)).status).toBe(200);
    expect((await t.get(`${INBOX}/objects/${id}/`)).body.objects[0].modified).toBe(V(0));
  });

  it('answers 404 when no version matches and 400 for a bad filter', async () => {
    const id = indicator().id;
    ingest(COLLECTIONS.inbox, [indicator(id, 0)]);
    expect((await del(`${INBOX}/objects/${id}/?match[version]=2030-01-01T00:00:00.000Z`)).status).toBe(404);
    expect((await del(`${INBOX}/objects/${id}/?match[version]=all,first`)).status).toBe(400);
    expect((await t.get(`${INBOX}/objects/${id}/`)).status).toBe(200);
  });
});
