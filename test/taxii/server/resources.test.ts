/** Unit tests for the resource builders: envelope, manifest, versions, status, envelope input. */
import { describe, expect, it } from 'vitest';
import type { IngestReport } from '../../../src/ingest/index.ts';
import type { IndexEntry } from '../../../src/store/index.ts';
import { type TaxiiError } from '../../../src/taxii/server/errors.ts';
import { dateAddedHeaders, envelopeText } from '../../../src/taxii/server/envelope.ts';
import { manifestText } from '../../../src/taxii/server/manifest.ts';
import { envelopeObjects } from '../../../src/taxii/server/routes/objects.ts';
import { DUPLICATE_MESSAGE, statusFromReport, visibleStatus } from '../../../src/taxii/server/status.ts';
import { versionsText } from '../../../src/taxii/server/versions.ts';

const entry = (dateAdded: number, id: string, version: string, versionKey = version): IndexEntry => ({
  collection: 'c',
  dateAdded,
  body: dateAdded,
  id,
  type: id.split('--')[0] as string,
  version,
  versionKey,
  specVersion: '2.1',
  isFirst: true,
  isLast: true,
  attributes: { type: id.split('--')[0] as string, tlp: { kind: 'unmarked' }, sectors: [], revoked: false, granular: false },
});

describe('envelopeText', () => {
  it('concatenates stored JSON text unchanged', () => {
    const bodies: Record<string, string> = { 'a--1': '{"id":"a--1",  "x":1}', 'b--2': '{"id":"b--2"}' };
    const text = envelopeText([entry(1, 'a--1', 'v'), entry(2, 'b--2', 'v')], true, 'tok', (e) => bodies[e.id]);
    expect(text).toBe('{"more":true,"next":"tok","objects":[{"id":"a--1",  "x":1},{"id":"b--2"}]}');
    expect(JSON.parse(text).objects).toHaveLength(2);
  });

  it('omits objects when empty and next when there is no more', () => {
    expect(envelopeText([], false, undefined, () => undefined)).toBe('{"more":false}');
    expect(JSON.parse(envelopeText([], true, 'n', () => undefined))).toEqual({ more: true, next: 'n' });
  });
});

describe('dateAddedHeaders', () => {
  it('gives the earliest and latest date_added with six fractional digits', () => {
    expect(dateAddedHeaders([entry(1_700_000_000_000_005, 'a--1', 'v'), entry(1_700_000_000_123_456, 'b--1', 'v')])).toEqual({
      'X-TAXII-Date-Added-First': '2023-11-14T22:13:20.000005Z',
      'X-TAXII-Date-Added-Last': '2023-11-14T22:13:20.123456Z',
    });
    expect(dateAddedHeaders([])).toEqual({});
  });
});

describe('manifestText', () => {
  it('writes one record per version, escaping strings', () => {
    const m = JSON.parse(manifestText([entry(1, 'x-a--"q"', '2024-01-01T00:00:00Z')], false, undefined));
    expect(m).toEqual({
      more: false,
      objects: [
        {
          id: 'x-a--"q"',
          date_added: '1970-01-01T00:00:00.000001Z',
          version: '2024-01-01T00:00:00Z',
          media_type: 'application/stix+json;version=2.1',
        },
      ],
    });
  });
});

describe('versionsText', () => {
  it('sorts the page by version instant, not by date_added', () => {
    const page = [entry(1, 'a--1', '2024-01-01T00:00:02.000Z', 'k2'), entry(2, 'a--1', '2024-01-01T00:00:01.000Z', 'k1')];
    expect(JSON.parse(versionsText(page, false, undefined))).toEqual({
      more: false,
      versions: ['2024-01-01T00:00:01.000Z', '2024-01-01T00:00:02.000Z'],
    });
  });
});

describe('statusFromReport', () => {
  const report: IngestReport = {
    stored: 1,
    duplicate: 1,
    rejected: 2,
    outcomes: [
      { kind: 'stored', id: 'indicator--1', version: 'v1', dateAdded: 1 },
      { kind: 'rejected', reason: 'not a JSON object' },
      { kind: 'duplicate', id: 'indicator--2', version: 'v2', dateAdded: 2 },
      { kind: 'rejected', id: 'x'.repeat(1000), version: 'v3', reason: 'bad' },
    ],
  };

  it('counts duplicates as successes and lists failures with placeholders for missing ids', () => {
    const s = statusFromReport('id-1', 1_000_000, report);
    expect(s).toEqual({
      id: 'id-1',
      status: 'complete',
      request_timestamp: '1970-01-01T00:00:01.000000Z',
      total_count: 4,
      success_count: 2,
      successes: [
        { id: 'indicator--1', version: 'v1' },
        { id: 'indicator--2', version: 'v2', message: DUPLICATE_MESSAGE },
      ],
      failure_count: 2,
      failures: [
        { id: '(object 1 without a valid id)', version: '', message: 'not a JSON object' },
        { id: `${'x'.repeat(256)}…`, version: 'v3', message: 'bad' },
      ],
      pending_count: 0,
    });
  });

  it('omits empty lists', () => {
    const s = statusFromReport('id-2', 0, { outcomes: [report.outcomes[0]!] });
    expect('failures' in s).toBe(false);
    expect('pendings' in s).toBe(false);
  });
});

describe('visibleStatus', () => {
  const hour = 3_600_000_000;
  const stored = {
    ...statusFromReport('s', 0, { outcomes: [] }),
    api_root: 'isac',
    member: 'bob',
    received_at: 10 * hour,
  };

  it('shows the status to its owner in its root, without the owner fields', () => {
    const s = visibleStatus(stored, 'isac', 'bob', 11 * hour, 24);
    expect(s).not.toBeNull();
    expect(Object.keys(s!)).not.toContain('member');
    expect(Object.keys(s!)).not.toContain('api_root');
    expect(Object.keys(s!)).not.toContain('received_at');
  });

  it('hides it from other members, other roots, and after the retention period', () => {
    expect(visibleStatus(stored, 'isac', 'alice', 11 * hour, 24)).toBeNull();
    expect(visibleStatus(stored, 'other', 'bob', 11 * hour, 24)).toBeNull();
    expect(visibleStatus(stored, 'isac', 'bob', 34 * hour + 1, 24)).toBeNull();
    expect(visibleStatus(stored, 'isac', 'bob', 34 * hour, 24)).not.toBeNull();
    expect(visibleStatus(undefined, 'isac', 'bob', 0, 24)).toBeNull();
  });
});

describe('envelopeObjects', () => {
  const status = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return (error as TaxiiError).status;
    }
    return 'accepted';
  };
  it('takes the objects list of an envelope', () => {
    expect(envelopeObjects({ objects: [1, 2], more: false }, 10)).toEqual([1, 2]);
  });
  it('refuses non-envelopes, empty lists and too many objects with 422', () => {
    for (const doc of [null, 3, 'x', [], {}, { objects: 'x' }, { objects: [] }]) expect(status(() => envelopeObjects(doc, 10))).toBe(422);
    expect(status(() => envelopeObjects({ objects: new Array(11).fill({}) }, 10))).toBe(422);
    expect(status(() => envelopeObjects({ objects: new Array(10).fill({}) }, 10))).toBe('accepted');
  });
});
