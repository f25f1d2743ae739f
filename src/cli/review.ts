/**
 * `relay review list|show|approve|reject`: the share-back review queue from the shell, over the
 * node's store (beside a running node or without one). The same desk and views as the admin
 * HTTP API (shareback/desk.ts, views.ts): `--json` prints exactly what the API answers. A
 * verdict is recorded here and applied by the node's share-back processor within its poll
 * interval. Unknown ids and items already decided are errors (exit 2).
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { RelayConfig } from '../config/index.ts';
import { decideReview, InvalidEditError, listReviews, ReviewClosedError, showReview, UnknownReviewError } from '../shareback/desk.ts';
import { REVIEW_STATES, type ReviewDetailView, type ReviewView } from '../shareback/views.ts';
import type { ReviewState } from '../store/index.ts';
import { CliError } from './errors.ts';
import { openStore } from './store.ts';

const write = (line: string) => process.stdout.write(`${line}\n`);

export interface ReviewListOptions {
  readonly state: string | undefined;
  readonly member: string | undefined;
  readonly json: boolean;
}

export async function runReviewList(config: RelayConfig, options: ReviewListOptions): Promise<number> {
  const states = parseStates(options.state);
  const store = openStore(config);
  try {
    const reviews = listReviews(store, { states, member: options.member });
    if (options.json) {
      write(JSON.stringify({ reviews }));
      return 0;
    }
    for (const r of reviews) write(summaryLine(r));
    write(`${reviews.length} review item${reviews.length === 1 ? '' : 's'}${states ? ` (${states.join(', ')})` : ''}`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function runReviewShow(config: RelayConfig, id: string, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const view = desk(() => showReview(store, id));
    if (json) write(JSON.stringify(view));
    else for (const line of detailLines(view)) write(line);
    return 0;
  } finally {
    await store.close();
  }
}

export interface ReviewDecisionOptions {
  readonly note: string | undefined;
  /** approve only: a file holding the edited STIX object */
  readonly edited?: string | undefined;
  readonly by: string | undefined;
  readonly json: boolean;
}

export async function runReviewDecide(
  config: RelayConfig,
  id: string,
  verdict: 'approve' | 'reject',
  options: ReviewDecisionOptions,
): Promise<number> {
  const edited = options.edited === undefined ? undefined : readEdited(options.edited);
  const by = options.by ?? defaultReviewer();
  const store = openStore(config);
  try {
    const view = desk(() => decideReview(store, id, verdict, { by, note: options.note, edited }));
    if (options.json) write(JSON.stringify(view));
    else write(`${view.id} ${verdict === 'approve' ? 'approved' : 'rejected'} by ${by}; a running node applies it within a few seconds`);
    return 0;
  } finally {
    await store.close();
  }
}

/** `cli:<OS user>`, so the record says who decided from the shell. */
function defaultReviewer(): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME;
  }
  return `cli:${user || 'unknown'}`;
}

function readEdited(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `not valid JSON: ${error.message}` : (error as Error).message;
    throw new CliError(`relay review approve: --edited ${file}: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`relay review approve: --edited ${file}: expected one STIX object (the whole edited object)`);
  }
  return parsed as Record<string, unknown>;
}

function parseStates(value: string | undefined): ReviewState[] | undefined {
  if (value === undefined) return undefined;
  const words = value.split(',').map((w) => w.trim());
  const unknown = words.find((w) => !(REVIEW_STATES as readonly string[]).includes(w));
  if (unknown !== undefined) throw new CliError(`relay review list: --state "${unknown}": expected some of ${REVIEW_STATES.join(', ')}`);
  return words as ReviewState[];
}

/** The desk's errors as operator errors: they name the id and what to do. */
function desk<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof UnknownReviewError) throw new CliError(`relay review: ${error.message} (see relay review list)`);
    if (error instanceof ReviewClosedError) throw new CliError(`relay review: ${error.message}`);
    if (error instanceof InvalidEditError) throw new CliError(`relay review approve: ${error.message}`);
    throw error;
  }
}

function summaryLine(r: ReviewView): string {
  const kinds = [...new Set(r.findings.map((f) => f.kind))].join(',') || '-';
  return [r.id, r.state, r.member, r.object.id, r.decision, kinds, r.opened_at].join('  ');
}

function detailLines(r: ReviewDetailView): string[] {
  const lines = [
    `review ${r.id}: ${r.state}`,
    `member:    ${r.member} (inbox ${r.inbox} in ${r.api_root}, status ${r.status_id})`,
    `object:    ${r.object.id} version ${r.object.version}`,
    `decision:  ${r.decision === 'hold' ? `held whole: ${r.because ?? ''}` : `released without ${r.withheld.join(', ')}`}`,
    `opened:    ${r.opened_at}`,
  ];
  if (r.verdict)
    lines.push(`verdict:   ${r.verdict.verdict} by ${r.verdict.by} at ${r.verdict.at}${r.verdict.note ? `: ${r.verdict.note}` : ''}`);
  if (r.outcome !== undefined) lines.push(`outcome:   ${r.outcome}`);
  lines.push('findings:');
  for (const f of r.findings)
    lines.push(`  ${f.path}  ${f.kind}  [${f.start}, ${f.end})${f.text !== undefined ? `  ${JSON.stringify(f.text)}` : ''}`);
  lines.push('submitted:', r.submitted ? JSON.stringify(r.submitted, null, 2) : '  (no longer in the inbox)');
  return lines;
}
