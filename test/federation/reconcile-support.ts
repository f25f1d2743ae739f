/**
 * Drives a reconciliation session between two in-memory sources through the real encoder and
 * decoder (every message is JSON text, as on the wire), recording each message's size.
 */
import { expect } from 'vitest';
import type { ReconItem } from '../../src/federation/items.ts';
import { type MemoryItemSource } from '../../src/federation/item-source.ts';
import {
  answerEncoded,
  ReconcileSession,
  reconcileAsInitiator,
  type ReconcileOptions,
  type ReconcileStats,
} from '../../src/federation/reconcile.ts';

export interface PairResult {
  readonly stats: ReconcileStats;
  /** the initiator's items the responder lacks, as it found them */
  readonly initiatorFound: ReconItem[];
  /** the responder's items the initiator lacks */
  readonly responderFound: ReconItem[];
  /** encoded size of every message, both ways, in order */
  readonly messageSizes: number[];
}

export async function reconcilePair(
  initiator: MemoryItemSource,
  responder: MemoryItemSource,
  options: ReconcileOptions & { salt?: Buffer; maxRounds?: number } = {},
): Promise<PairResult> {
  const a = new ReconcileSession(initiator, options);
  const b = new ReconcileSession(responder, options);
  const messageSizes: number[] = [];
  const stats = await reconcileAsInitiator(
    a,
    async (message) => {
      messageSizes.push(Buffer.byteLength(message));
      const reply = answerEncoded(b, message);
      messageSizes.push(Buffer.byteLength(reply));
      return reply;
    },
    { ...(options.salt ? { salt: options.salt } : {}), ...(options.maxRounds ? { maxRounds: options.maxRounds } : {}) },
  );
  return { stats, initiatorFound: a.takeFound(), responderFound: b.takeFound(), messageSizes };
}

export const itemKey = (item: ReconItem): string => `${item.kind} ${item.id} ${item.version}`;

function keys(items: Iterable<ReconItem>): string[] {
  return [...items].map(itemKey).sort();
}

/** Each side found exactly its items the other lacks: no more, no fewer, none twice. */
export function expectExactDifference(a: readonly ReconItem[], b: readonly ReconItem[], result: PairResult): void {
  const inB = new Set(b.map(itemKey));
  const inA = new Set(a.map(itemKey));
  expect(keys(result.initiatorFound)).toEqual(keys(a.filter((x) => !inB.has(itemKey(x)))));
  expect(keys(result.responderFound)).toEqual(keys(b.filter((x) => !inA.has(itemKey(x)))));
}

/** A version item with a distinct, valid-looking STIX id for each number. */
export function versionItem(n: number, version = '2024-01-01T00:00:00.000000000Z'): ReconItem {
  return { kind: 'version', id: `indicator--00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, version };
}

export function tombstoneOf(item: ReconItem): ReconItem {
  return { kind: 'tombstone', id: item.id, version: item.version };
}
