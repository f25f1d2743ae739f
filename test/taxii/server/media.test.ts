import { describe, expect, it } from 'vitest';
import { isAcceptable, isTaxiiContentType, parseAccept, parseMediaType } from '../../../src/taxii/server/media.ts';

describe('parseMediaType', () => {
  it('lower-cases type and parameter names, trims spaces, unquotes values and reads q', () => {
    const m = parseMediaType(' Application/TAXII+json ; Version = "2.1" ; q=0.4 ');
    expect(m).not.toBeNull();
    expect(m!.type).toBe('application/taxii+json');
    expect(m!.params.get('version')).toBe('2.1');
    expect(m!.q).toBe(0.4);
  });

  it('rejects malformed media types', () => {
    for (const bad of ['', 'taxii', 'application/', 'application/taxii+json;version', 'a/b;q=2', 'a/b;q=x']) {
      expect(parseMediaType(bad), bad).toBeNull();
    }
  });

  it('splits Accept on commas outside quotes and drops malformed items', () => {
    const ranges = parseAccept('text/html;x="a,b", garbage, application/taxii+json');
    expect(ranges.map((r) => r.type)).toEqual(['text/html', 'application/taxii+json']);
  });
});

describe('isAcceptable', () => {
  it.each([
    [undefined],
    [''],
    ['application/taxii+json'],
    ['application/taxii+json;version=2.1'],
    ['application/taxii+json; Version=2.1'],
    ['application/taxii+json;version="2.1"'],
    ['application/xml, application/taxii+json;q=0.1'],
    ['*/*'],
    ['application/*;q=0.5'],
    ['text/plain;q=1, */*;q=0.1'],
  ])('accepts %s', (accept) => {
    expect(isAcceptable(accept)).toBe(true);
  });

  it.each([
    ['application/json'],
    ['text/*'],
    ['application/vnd.oasis.taxii+json'],
    ['application/vnd.oasis.taxii+json; version=2.0'],
    ['application/taxii+json;version=2.0'],
    ['application/taxii+json;version=2.10'],
    ['application/taxii+json;q=0'],
    ['*/*;q=0'],
    ['application/stix+json;version=2.1'],
    ['not a media type'],
  ])('refuses %s', (accept) => {
    expect(isAcceptable(accept)).toBe(false);
  });

  it('accepts application/stix+json only where the endpoint defines it', () => {
    expect(isAcceptable('application/stix+json;version=2.1', { stix: true })).toBe(true);
    expect(isAcceptable('application/stix+json', { stix: true })).toBe(true);
    expect(isAcceptable('application/stix+json;version=2.0', { stix: true })).toBe(false);
    expect(isAcceptable('application/stix+json;version=2.1', { stix: false })).toBe(false);
  });
});

describe('isTaxiiContentType', () => {
  it.each([
    ['application/taxii+json', true],
    ['application/taxii+json;version=2.1', true],
    ['application/taxii+json; version=2.1; charset=utf-8', true],
    ['APPLICATION/TAXII+JSON;VERSION=2.1', true],
    ['application/taxii+json;version=2.0', false],
    ['application/vnd.oasis.taxii+json', false],
    ['application/json', false],
    ['*/*', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (contentType, expected) => {
    expect(isTaxiiContentType(contentType)).toBe(expected);
  });
});
