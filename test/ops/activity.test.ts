/** The console's chart data: audit records counted per source and member into hour and day buckets. */
import { describe, expect, it } from 'vitest';
import { ActivityRangeError, bucketActivity } from '../../src/ops/activity.ts';

const HOUR = 3_600_000_000;
const T = Date.UTC(2026, 4, 1) * 1000; // 2026-05-01T00:00:00Z in µs

const received = (at: number, source: string, detail: string, stored: number) => ({
  at,
  collection: 'c',
  source,
  detail,
  stored,
  duplicate: 0,
});
const delivered = (at: number, member: string, count: number) => ({
  at,
  member,
  apiRoot: 'isac',
  collection: 'c',
  count,
  firstAdded: 1,
  lastAdded: 2,
  tlp: {},
  sectors: {},
});

describe('activity buckets', () => {
  it('counts stored versions per upstream or source and objects served per member, hour by hour', () => {
    const a = bucketActivity(
      {
        received: [
          received(T + 10, 'upstream', 'hub/indicators', 5),
          received(T + HOUR + 1, 'upstream', 'hub/reports', 2),
          received(T + HOUR + 2, 'upstream', 'cisa/feed', 1),
          received(T + 2 * HOUR, 'taxii', 'alice', 3),
          received(T + 3 * HOUR, 'upstream', 'hub/late', 100), // at `until`: outside
        ],
        delivered: [delivered(T + 5, 'bob', 50), delivered(T + 2 * HOUR + 7, 'bob', 20), delivered(T + HOUR, 'carol', 1)],
      },
      { since: T + 30 * 60_000_000, until: T + 3 * HOUR, bucket: 'hour' },
    );
    // since is aligned down to its bucket's start: 00:00, 01:00, 02:00
    expect(a.starts).toEqual([T, T + HOUR, T + 2 * HOUR]);
    expect(a.inbound).toEqual([
      { name: 'upstream hub', total: 7, counts: [5, 2, 0] },
      { name: 'taxii', total: 3, counts: [0, 0, 3] },
      { name: 'upstream cisa', total: 1, counts: [0, 1, 0] },
    ]);
    expect(a.outbound).toEqual([
      { name: 'bob', total: 70, counts: [50, 0, 20] },
      { name: 'carol', total: 1, counts: [0, 1, 0] },
    ]);
  });

  it('refuses more buckets than one answer holds', () => {
    expect(() => bucketActivity({ received: [], delivered: [] }, { since: T, until: T + 1000 * HOUR, bucket: 'hour' })).toThrow(
      ActivityRangeError,
    );
    expect(bucketActivity({ received: [], delivered: [] }, { since: T, until: T + 1000 * HOUR, bucket: 'day' }).starts).toHaveLength(42);
  });
});
