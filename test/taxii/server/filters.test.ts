import { describe, expect, it } from 'vitest';
import { TaxiiError } from '../../../src/taxii/server/errors.ts';
import { MAX_MATCH_VALUES, canonicalQuery, parseQuery, type Endpoint } from '../../../src/taxii/server/filters.ts';

const settings = { defaultPageSize: 50, maxPageSize: 200 };
const parse = (query: string, endpoint: Endpoint = 'objects') => parseQuery(new URLSearchParams(query), endpoint, settings);

function refused(query: string, endpoint: Endpoint = 'objects'): TaxiiError {
  try {
    parse(query, endpoint);
  } catch (error) {
    expect(error).toBeInstanceOf(TaxiiError);
    expect((error as TaxiiError).status).toBe(400);
    return error as TaxiiError;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('defaults', () => {
  it('objects: default page size, last version, no other filters', () => {
    expect(parse('')).toEqual({
      addedAfter: null,
      limit: 50,
      next: null,
      ids: null,
      types: null,
      versions: { all: false, first: false, last: true, keys: new Set() },
      specVersions: { kind: 'latest' },
    });
  });

  it('delete and versions: every version', () => {
    expect(parse('', 'delete').versions).toEqual({ all: true });
    expect(parse('', 'versions').versions).toEqual({ all: true });
  });

  it('spec_version: the latest held per object on the read endpoints, any on delete', () => {
    for (const endpoint of ['objects', 'manifest', 'object', 'versions'] as const) {
      expect(parse('', endpoint).specVersions).toEqual({ kind: 'latest' });
    }
    expect(parse('', 'delete').specVersions).toEqual({ kind: 'any' });
    expect(parse('match[spec_version]=2.0', 'delete').specVersions).toEqual({ kind: 'listed', values: new Set(['2.0']) });
  });
});

describe('limit', () => {
  it('clamps values above the maximum, even absurd ones', () => {
    expect(parse('limit=7').limit).toBe(7);
    expect(parse('limit=201').limit).toBe(200);
    expect(parse('limit=99999999999999999999999').limit).toBe(200);
  });
  it.each(['0', '-1', '1.5', 'abc', '', '1e3', '0x10'])('refuses %s', (value) => {
    expect(refused(`limit=${value}`).errorCode).toBe('invalid-limit');
  });
});

describe('added_after', () => {
  it('parses RFC 3339 into microseconds, leniently', () => {
    expect(parse('added_after=1970-01-01T00:00:01Z').addedAfter).toBe(1_000_000);
    expect(parse('added_after=1970-01-01T00:00:00.000001Z').addedAfter).toBe(1);
    expect(parse('added_after=1970-01-01T01:00:00.5%2B01:00').addedAfter).toBe(500_000);
    // an unencoded '+' decodes to a space
    expect(parse('added_after=1970-01-01T01:00:00.5+01:00').addedAfter).toBe(500_000);
  });
  it('refuses garbage and repeats', () => {
    refused('added_after=now');
    refused('added_after=2024-02-30T00:00:00Z');
    expect(refused('added_after=2024-01-01T00:00:00Z&added_after=2024-01-01T00:00:00Z').errorCode).toBe('duplicate-parameter');
  });
});

describe('match[version]', () => {
  it('reads keywords and instants', () => {
    const v = parse('match[version]=first,2024-01-01T00:00:00.1Z,last').versions;
    expect(v).toEqual({ all: false, first: true, last: true, keys: new Set(['2024-01-01T00:00:00.100000000Z']) });
  });
  it('treats equal instants written differently as a repeat', () => {
    refused('match[version]=2024-01-01T00:00:00Z,2024-01-01T00:00:00.000Z');
  });
  it.each(['all,first', 'last,all', 'all,all', 'first,first', 'latest', '2024-01-01T00:00:00+01:00', 'first,,last', ''])(
    'refuses %s',
    (value) => {
      refused(`match[version]=${value}`);
    },
  );
  it('is ignored where the endpoint does not take it', () => {
    expect(parse('match[version]=bogus', 'versions').versions).toEqual({ all: true });
  });
});

describe('match[id], match[type], match[spec_version]', () => {
  it('reads comma-separated values', () => {
    const q = parse('match[id]=a--1,b--2&match[type]=indicator,malware&match[spec_version]=2.0,2.1');
    expect(q.ids).toEqual(new Set(['a--1', 'b--2']));
    expect(q.types).toEqual(new Set(['indicator', 'malware']));
    expect(q.specVersions).toEqual({ kind: 'listed', values: new Set(['2.0', '2.1']) });
  });
  it('refuses repeats, empty values, malformed spec versions and too many values', () => {
    refused('match[type]=indicator&match[type]=malware');
    refused('match[id]=');
    refused('match[spec_version]=2');
    const many = Array.from({ length: MAX_MATCH_VALUES + 1 }, (_, i) => `t${i}`).join(',');
    expect(refused(`match[type]=${many}`).errorCode).toBe('too-many-values');
  });
  it('ignores filters the endpoint does not define and unknown parameters', () => {
    const q = parse('match[id]=x&match[type]=y&match[type]=z&foo=1&foo=2&match[color]=red', 'object');
    expect(q.ids).toBeNull();
    expect(q.types).toBeNull();
  });
});

describe('canonicalQuery', () => {
  it('is the same for the same selection written differently, ignoring limit and next', () => {
    const a = canonicalQuery(parse('match[type]=malware,indicator&limit=5&match[version]=last,first'));
    const b = canonicalQuery(parse('match[version]=first,last&match[type]=indicator,malware&next=abc'));
    expect(a).toBe(b);
  });
  it('differs when the selection differs', () => {
    const base = canonicalQuery(parse('match[type]=indicator'));
    for (const other of [
      'match[type]=malware',
      'match[type]=indicator&match[version]=all',
      'match[type]=indicator&added_after=2024-01-01T00:00:00Z',
      'match[type]=indicator&match[spec_version]=2.1',
      'match[type]=indicator&match[id]=indicator--1',
      '',
    ]) {
      expect(canonicalQuery(parse(other)), other).not.toBe(base);
    }
  });
});
