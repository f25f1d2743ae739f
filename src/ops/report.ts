/**
 * The figures ISAC audits count, from the audit trail (store/audit.ts) of one period: objects
 * received per upstream and source, objects delivered per member, sector and TLP, share-back
 * producers and volumes, review outcomes, and the participants active (members that polled or
 * shared). Pure: records in, a report out; rendering as a table, JSON or CSV.
 */
import type { AuditEvent, DeliveredRecord, ReceivedRecord, Timed } from '../store/index.ts';

export interface AuditRecords {
  readonly received: ReadonlyArray<Timed<ReceivedRecord>>;
  readonly delivered: ReadonlyArray<Timed<DeliveredRecord>>;
  readonly events: ReadonlyArray<Timed<AuditEvent>>;
}

export interface Report {
  readonly since: string;
  readonly until: string;
  readonly received: {
    readonly total: number;
    /** stored versions per source kind (upstream, taxii, import, shareback, peer) */
    readonly bySource: Readonly<Record<string, number>>;
    readonly byUpstream: ReadonlyArray<{ readonly upstream: string; readonly stored: number; readonly duplicate: number }>;
  };
  readonly delivered: {
    readonly total: number;
    readonly byMember: ReadonlyArray<{ readonly member: string; readonly objects: number; readonly pages: number }>;
    readonly bySector: Readonly<Record<string, number>>;
    readonly byTlp: Readonly<Record<string, number>>;
  };
  readonly shareback: {
    readonly producers: ReadonlyArray<{
      readonly member: string;
      readonly submissions: number;
      readonly objects: number;
      readonly redistributed: number;
      readonly forwarded: number;
      readonly reviews: number;
    }>;
    /** review items settled in the period, per outcome (approved, rejected, superseded, failed) */
    readonly reviews: Readonly<Record<string, number>>;
  };
  readonly participants: {
    /** members that polled objects or shared in the period */
    readonly active: number;
    readonly polling: readonly string[];
    readonly sharing: readonly string[];
  };
}

const add = (into: Record<string, number>, key: string, n: number) => {
  into[key] = (into[key] ?? 0) + n;
};

const sorted = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));

const numberIn = (detail: AuditEvent['detail'], key: string): number => {
  const v = detail?.[key];
  return typeof v === 'number' ? v : 0;
};

/** The upstream's name from a provenance detail "upstream/remote collection". */
const upstreamOf = (detail: string) => detail.split('/')[0] ?? detail;

export function buildReport(records: AuditRecords, period: { readonly since: string; readonly until: string }): Report {
  const bySource: Record<string, number> = {};
  const upstreams = new Map<string, { stored: number; duplicate: number }>();
  let received = 0;
  for (const r of records.received) {
    received += r.stored;
    add(bySource, r.source, r.stored);
    if (r.source !== 'upstream') continue;
    const name = upstreamOf(r.detail);
    const u = upstreams.get(name) ?? { stored: 0, duplicate: 0 };
    u.stored += r.stored;
    u.duplicate += r.duplicate;
    upstreams.set(name, u);
  }

  const members = new Map<string, { objects: number; pages: number }>();
  const bySector: Record<string, number> = {};
  const byTlp: Record<string, number> = {};
  let delivered = 0;
  for (const d of records.delivered) {
    delivered += d.count;
    const m = members.get(d.member) ?? { objects: 0, pages: 0 };
    m.objects += d.count;
    m.pages += 1;
    members.set(d.member, m);
    for (const [s, n] of Object.entries(d.sectors)) add(bySector, s, n);
    for (const [t, n] of Object.entries(d.tlp)) add(byTlp, t, n);
  }

  const producers = new Map<string, { submissions: number; objects: number; redistributed: number; forwarded: number; reviews: number }>();
  const reviews: Record<string, number> = {};
  for (const e of records.events) {
    if (e.action === 'shareback.submission') {
      const p = producers.get(e.actor) ?? { submissions: 0, objects: 0, redistributed: 0, forwarded: 0, reviews: 0 };
      p.submissions += 1;
      p.objects += numberIn(e.detail, 'objects');
      p.redistributed += numberIn(e.detail, 'redistributed');
      p.forwarded += numberIn(e.detail, 'forwarded');
      p.reviews += numberIn(e.detail, 'reviews');
      producers.set(e.actor, p);
    } else if (e.action.startsWith('review.') && e.action !== 'review.decided') {
      add(reviews, e.action.slice('review.'.length), 1);
    }
  }

  const polling = [...members.keys()].sort();
  const sharing = [...producers.keys()].sort();
  return {
    since: period.since,
    until: period.until,
    received: {
      total: received,
      bySource: sorted(bySource),
      byUpstream: [...upstreams]
        .map(([upstream, u]) => ({ upstream, ...u }))
        .sort((a, b) => b.stored - a.stored || a.upstream.localeCompare(b.upstream)),
    },
    delivered: {
      total: delivered,
      byMember: [...members]
        .map(([member, m]) => ({ member, ...m }))
        .sort((a, b) => b.objects - a.objects || a.member.localeCompare(b.member)),
      bySector: sorted(bySector),
      byTlp: sorted(byTlp),
    },
    shareback: {
      producers: [...producers]
        .map(([member, p]) => ({ member, ...p }))
        .sort((a, b) => b.objects - a.objects || a.member.localeCompare(b.member)),
      reviews: sorted(reviews),
    },
    participants: { active: new Set([...polling, ...sharing]).size, polling, sharing },
  };
}

/** One row per figure: section, key, metric, value (a spreadsheet pivots it as it likes). */
export function reportRows(report: Report): Array<[section: string, key: string, metric: string, value: number]> {
  const rows: Array<[string, string, string, number]> = [];
  rows.push(['received', 'total', 'stored', report.received.total]);
  for (const [source, n] of Object.entries(report.received.bySource)) rows.push(['received', source, 'stored', n]);
  for (const u of report.received.byUpstream) {
    rows.push(['received-upstream', u.upstream, 'stored', u.stored], ['received-upstream', u.upstream, 'duplicate', u.duplicate]);
  }
  rows.push(['delivered', 'total', 'objects', report.delivered.total]);
  for (const m of report.delivered.byMember)
    rows.push(['delivered-member', m.member, 'objects', m.objects], ['delivered-member', m.member, 'pages', m.pages]);
  for (const [s, n] of Object.entries(report.delivered.bySector)) rows.push(['delivered-sector', s, 'objects', n]);
  for (const [t, n] of Object.entries(report.delivered.byTlp)) rows.push(['delivered-tlp', t, 'objects', n]);
  for (const p of report.shareback.producers) {
    for (const metric of ['submissions', 'objects', 'redistributed', 'forwarded', 'reviews'] as const)
      rows.push(['shareback-producer', p.member, metric, p[metric]]);
  }
  for (const [outcome, n] of Object.entries(report.shareback.reviews)) rows.push(['shareback-reviews', outcome, 'items', n]);
  rows.push(['participants', 'active', 'members', report.participants.active]);
  rows.push(['participants', 'polling', 'members', report.participants.polling.length]);
  rows.push(['participants', 'sharing', 'members', report.participants.sharing.length]);
  return rows;
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(report: Report): string {
  const lines = [['section', 'key', 'metric', 'value'], ...reportRows(report)].map((row) => row.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function reportTable(report: Report): string {
  const out: string[] = [`relay report ${report.since} .. ${report.until}`, ''];
  const section = (title: string, rows: Array<[string, number | string]>) => {
    out.push(title);
    if (rows.length === 0) out.push('  (none)');
    const width = Math.max(0, ...rows.map(([k]) => k.length));
    for (const [k, v] of rows) out.push(`  ${k.padEnd(width)}  ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`);
    out.push('');
  };
  section(`received: ${report.received.total.toLocaleString('en-US')} versions stored`, Object.entries(report.received.bySource));
  section(
    'received per upstream (stored / duplicate)',
    report.received.byUpstream.map((u) => [u.upstream, `${u.stored.toLocaleString('en-US')} / ${u.duplicate.toLocaleString('en-US')}`]),
  );
  section(
    `delivered: ${report.delivered.total.toLocaleString('en-US')} objects, per member (objects in pages)`,
    report.delivered.byMember.map((m) => [m.member, `${m.objects.toLocaleString('en-US')} in ${m.pages.toLocaleString('en-US')}`]),
  );
  section('delivered per sector', Object.entries(report.delivered.bySector));
  section('delivered per TLP', Object.entries(report.delivered.byTlp));
  section(
    'share-back producers (submissions, objects, redistributed, forwarded, reviews)',
    report.shareback.producers.map((p) => [p.member, `${p.submissions}, ${p.objects}, ${p.redistributed}, ${p.forwarded}, ${p.reviews}`]),
  );
  section('share-back reviews settled', Object.entries(report.shareback.reviews));
  section(`participants active: ${report.participants.active}`, [
    ['polling', report.participants.polling.join(', ') || '(none)'],
    ['sharing', report.participants.sharing.join(', ') || '(none)'],
  ]);
  return out.join('\n');
}
