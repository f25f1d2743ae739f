/**
 * match[spec_version] with match[version] (specversions.ts), on index entries: which versions
 * of an object each combination selects, and that version lists are read only when the index
 * flags cannot answer.
 */
import { describe, expect, it } from 'vitest';
import { stixTimestampKey } from '../../../src/stix/time.ts';
import type { IndexEntry } from '../../../src/store/index.ts';
import { parseQuery, type Endpoint } from '../../../src/taxii/server/filters.ts';
import { listVersionOrder } from '../../../src/taxii/server/select.ts';
import { versionTest, type SpecScope, type VersionOrder } from '../../../src/taxii/server/specversions.ts';

const BOTH: SpecScope = { served: new Set(['2.0', '2.1']), mixed: true };

/** An object's versions, oldest first, as the store lists them: [spec version, year] pairs. */
function object(id: string, versions: Array<[string, string]>): IndexEntry[] {
  return versions.map(([specVersion, year], i) => ({
    collection: 'c',
    dateAdded: i + 1,
    body: i + 1,
    id,
    type: id.slice(0, id.indexOf('--')),
    version: year,
    versionKey: stixTimestampKey(at(year)) as string,
    specVersion,
    isFirst: i === 0,
    isLast: i === versions.length - 1,
    attributes: {
      type: 'malware',
      tlp: { kind: 'none' },
      sectors: [],
      revoked: false,
      granular: false,
    } as unknown as IndexEntry['attributes'],
  }));
}

/** "2017" → 2017-01-01T00:00:00.000Z; "2017b" one second later */
function at(year: string): string {
  return `${year.slice(0, 4)}-01-01T00:00:0${year.endsWith('b') ? 1 : 0}.000Z`;
}

// medallion's malware: a STIX 2.1 version, then a newer STIX 2.0 one
const mixed = object('malware--1', [
  ['2.1', '2017'],
  ['2.1', '2017b'],
  ['2.0', '2018'],
]);
const only20 = object('malware--2', [
  ['2.0', '2016'],
  ['2.0', '2019'],
]);
const only21 = object('malware--3', [
  ['2.1', '2020'],
  ['2.1', '2021'],
]);
const ALL_OBJECTS = [mixed, only20, only21];

/** The versions a query selects, through the flags with version lists read on demand (the scan path). */
function select(query: string, scope: SpecScope = BOTH, endpoint: Endpoint = 'objects') {
  const q = parseQuery(new URLSearchParams(query), endpoint, { defaultPageSize: 10, maxPageSize: 10 });
  const lists = new Map(ALL_OBJECTS.map((l) => [l[0]?.id as string, l]));
  let reads = 0;
  const order: VersionOrder = {
    isFirst: (e) => e.isFirst,
    isLast: (e) => e.isLast,
    versionsOf: (id) => (reads++, lists.get(id) ?? []),
  };
  const test = versionTest(q, scope, order);
  const viaFlags = ALL_OBJECTS.flatMap((l) => l.filter(test).map((e) => `${e.id}@${e.version}`));
  // the id path: complete version lists
  const idTest = versionTest(q, scope, listVersionOrder(lists));
  const viaLists = ALL_OBJECTS.flatMap((l) => l.filter(idTest).map((e) => `${e.id}@${e.version}`));
  expect(viaFlags).toEqual(viaLists);
  return { selected: viaFlags, reads };
}

describe('an object held in STIX 2.1 and 2.0 (the 2.0 version newest)', () => {
  it('default: the latest spec version held (2.1), its newest version', () => {
    expect(select('').selected).toEqual(['malware--1@2017b', 'malware--2@2019', 'malware--3@2021']);
  });
  it('2.0: the newest 2.0 version; objects without one give nothing', () => {
    expect(select('match[spec_version]=2.0').selected).toEqual(['malware--1@2018', 'malware--2@2019']);
  });
  it('2.1: the newest 2.1 version, though a newer 2.0 one exists', () => {
    expect(select('match[spec_version]=2.1').selected).toEqual(['malware--1@2017b', 'malware--3@2021']);
  });
  it('2.0,2.1: the newest of all', () => {
    expect(select('match[spec_version]=2.0,2.1').selected).toEqual(['malware--1@2018', 'malware--2@2019', 'malware--3@2021']);
  });
  it('first is taken among the requested spec versions too', () => {
    expect(select('match[version]=first').selected).toEqual(['malware--1@2017', 'malware--2@2016', 'malware--3@2020']);
    expect(select('match[version]=first&match[spec_version]=2.0').selected).toEqual(['malware--1@2018', 'malware--2@2016']);
    expect(select('match[version]=first,last&match[spec_version]=2.1').selected).toEqual([
      'malware--1@2017',
      'malware--1@2017b',
      'malware--3@2020',
      'malware--3@2021',
    ]);
  });
  it('all: every version of the latest spec version held, or of the listed ones', () => {
    expect(select('match[version]=all').selected).toEqual([
      'malware--1@2017',
      'malware--1@2017b',
      'malware--2@2016',
      'malware--2@2019',
      'malware--3@2020',
      'malware--3@2021',
    ]);
    expect(select('match[version]=all&match[spec_version]=2.0').selected).toEqual([
      'malware--1@2018',
      'malware--2@2016',
      'malware--2@2019',
    ]);
  });
  it('a timestamp selects that version only if its spec version is requested', () => {
    expect(select(`match[version]=${at('2018')}`).selected).toEqual([]);
    expect(select(`match[version]=${at('2018')}&match[spec_version]=2.0`).selected).toEqual(['malware--1@2018']);
  });
  it('DELETE without match[spec_version]: any spec version', () => {
    expect(select('', BOTH, 'delete').selected).toEqual(ALL_OBJECTS.flat().map((e) => `${e.id}@${e.version}`));
    expect(select('match[spec_version]=2.0', BOTH, 'delete').selected).toEqual(['malware--1@2018', 'malware--2@2016', 'malware--2@2019']);
  });
});

describe('what a collection serves', () => {
  it('a collection (a view) serving 2.1 only never shows 2.0 versions, and takes last among its 2.1 ones', () => {
    const view: SpecScope = { served: new Set(['2.1']), mixed: true };
    expect(select('', view).selected).toEqual(['malware--1@2017b', 'malware--3@2021']);
    expect(select('match[spec_version]=2.0', view).selected).toEqual([]);
    expect(select('match[spec_version]=2.0,2.1&match[version]=all', view).selected).toEqual([
      'malware--1@2017',
      'malware--1@2017b',
      'malware--3@2020',
      'malware--3@2021',
    ]);
  });
});

describe('reads', () => {
  it('none where the index cannot mix spec versions (a collection that accepts one)', () => {
    const one: SpecScope = { served: new Set(['2.1']), mixed: false };
    const q = parseQuery(new URLSearchParams(''), 'objects', { defaultPageSize: 10, maxPageSize: 10 });
    const order: VersionOrder = {
      isFirst: (e) => e.isFirst,
      isLast: (e) => e.isLast,
      versionsOf: () => {
        throw new Error('read a version list');
      },
    };
    expect(only21.filter(versionTest(q, one, order)).map((e) => e.version)).toEqual(['2021']);
  });

  it('where they may mix: only for entries the flags cannot decide (2.0 entries, and 2.1 ones not newest)', () => {
    // default query: the 2.0 entries (malware--1 2018, malware--2 both) and the 2.1 ones that are
    // not their object's newest (malware--1 2017, 2017b; malware--3 2020: newer ones might all be 2.0)
    expect(select('').reads).toBe(6);
    // 2.0,2.1 with last: the entries that are not the newest overall
    expect(select('match[spec_version]=2.0,2.1').reads).toBe(4);
    // all of the listed versions: the flags are not needed
    expect(select('match[spec_version]=2.0,2.1&match[version]=all').reads).toBe(0);
  });
});
