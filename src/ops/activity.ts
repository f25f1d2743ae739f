/**
 * Objects in and out over time, for the admin console's chart: the audit trail's received
 * records (per batch) counted per source — `upstream <name>` for upstreams, else the source kind
 * (taxii, import, shareback, peer) — and its delivered records (per page) counted per member, in
 * hour or day buckets. Pure: records in, series out; every series has one count per bucket.
 */
import type { DeliveredRecord, ReceivedRecord, Timed } from '../store/index.ts';
import type { Micros } from '../stix/time.ts';

export type ActivityBucket = 'hour' | 'day';

export const BUCKET_MICROS: Readonly<Record<ActivityBucket, Micros>> = { hour: 3_600_000_000, day: 86_400_000_000 };

/** At most this many buckets in one answer (a year of days, a month of hours). */
export const MAX_BUCKETS = 750;

export interface ActivitySeries {
  readonly name: string;
  readonly total: number;
  /** one count per bucket, in the order of `starts` */
  readonly counts: readonly number[];
}

export interface Activity {
  readonly bucket: ActivityBucket;
  /** each bucket's start (µs since the epoch, aligned to the bucket in UTC) */
  readonly starts: readonly Micros[];
  /** stored versions per source */
  readonly inbound: readonly ActivitySeries[];
  /** objects served per member */
  readonly outbound: readonly ActivitySeries[];
}

/** Too many buckets for one answer: a shorter period or a coarser bucket. */
export class ActivityRangeError extends Error {
  override readonly name = 'ActivityRangeError';
}

/** The series a received batch counts under: the upstream's name, or the source kind. */
export function inboundSeries(record: ReceivedRecord): string {
  return record.source === 'upstream' ? `upstream ${record.detail.split('/')[0] ?? record.detail}` : record.source;
}

export function bucketActivity(
  records: { readonly received: ReadonlyArray<Timed<ReceivedRecord>>; readonly delivered: ReadonlyArray<Timed<DeliveredRecord>> },
  period: { readonly since: Micros; readonly until: Micros; readonly bucket: ActivityBucket },
): Activity {
  const size = BUCKET_MICROS[period.bucket];
  const first = Math.floor(period.since / size) * size;
  const count = Math.max(1, Math.ceil((period.until - first) / size));
  if (count > MAX_BUCKETS) {
    throw new ActivityRangeError(
      `${count} ${period.bucket} buckets asked for; at most ${MAX_BUCKETS}: choose a later since or day buckets`,
    );
  }
  const starts = Array.from({ length: count }, (_, i) => first + i * size);
  const tally = (rows: Iterable<{ at: Micros; name: string; n: number }>): ActivitySeries[] => {
    const series = new Map<string, number[]>();
    for (const { at, name, n } of rows) {
      const i = Math.floor((at - first) / size);
      if (i < 0 || i >= count) continue;
      const counts = series.get(name) ?? new Array<number>(count).fill(0);
      counts[i] = (counts[i] ?? 0) + n;
      series.set(name, counts);
    }
    return [...series]
      .map(([name, counts]) => ({ name, total: counts.reduce((a, b) => a + b, 0), counts }))
      .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  };
  return {
    bucket: period.bucket,
    starts,
    inbound: tally(records.received.map((r) => ({ at: r.at, name: inboundSeries(r), n: r.stored }))),
    outbound: tally(records.delivered.map((d) => ({ at: d.at, name: d.member, n: d.count }))),
  };
}
