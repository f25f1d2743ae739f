/** Operations: what the node reports about itself (audit figures) and keeps of it (retention). */
export { buildReport, reportCsv, reportTable, type Report } from './report.ts';
export { AuditRetention } from './retention.ts';
export { RelayMetrics, type MetricSources } from './metrics.ts';
