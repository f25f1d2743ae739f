/** `relay outbox`: what share-back forwards upstream, pending, sent or failed (read from the store). */
import type { RelayConfig } from '../config/index.ts';
import type { OutboxEntry, OutboxState } from '../store/index.ts';
import { formatTaxiiTimestamp } from '../stix/time.ts';
import { openStore } from './store.ts';

export interface OutboxArgs {
  readonly state?: OutboxState | undefined;
  readonly member?: string | undefined;
  readonly limit: number;
  readonly json: boolean;
}

/** An entry for people and scripts (its JSON body left out: `relay outbox` lists, it does not dump). */
export function outboxRecord(e: OutboxEntry) {
  return {
    seq: e.seq,
    state: e.state,
    upstream: e.upstream,
    collection: e.collection,
    id: e.id,
    version: e.version,
    member: e.member,
    attempts: e.attempts,
    lastError: e.lastError ?? null,
    upstreamStatus: e.upstreamStatus ?? null,
    enqueuedAt: formatTaxiiTimestamp(e.enqueuedAt),
    settledAt: e.settledAt === undefined ? null : formatTaxiiTimestamp(e.settledAt),
  };
}

export async function runOutbox(config: RelayConfig, args: OutboxArgs): Promise<number> {
  const store = openStore(config);
  try {
    const counts = store.shareback.outboxCounts();
    const entries = store.shareback.listOutbox({
      limit: args.limit,
      ...(args.state !== undefined ? { state: args.state } : {}),
      ...(args.member !== undefined ? { member: args.member } : {}),
    });
    if (args.json) {
      const lines = [JSON.stringify({ counts }), ...entries.map((e) => JSON.stringify(outboxRecord(e)))];
      console.log(lines.join('\n'));
      return 0;
    }
    const lines = [`outbox: ${counts.pending} pending, ${counts.sent} sent, ${counts.failed} failed`];
    if (entries.length === 0) lines.push('  (no entries match)');
    for (const e of entries.map(outboxRecord)) {
      lines.push(
        `  #${e.seq} ${e.state.padEnd(7)} ${e.upstream}/${e.collection} ${e.id} ${e.version || '(no version)'} member=${e.member} attempts=${e.attempts}` +
          `${e.upstreamStatus ? ` status=${e.upstreamStatus}` : ''}`,
      );
      if (e.lastError)
        lines.push(`      ${e.state === 'failed' ? 'refused' : e.state === 'sent' ? 'upstream said' : 'last error'}: ${e.lastError}`);
    }
    console.log(lines.join('\n'));
    return 0;
  } finally {
    await store.close();
  }
}
