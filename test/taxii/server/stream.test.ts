/**
 * Streamed envelopes: the pieces of EnvelopeChunks are exactly today's envelope text, and
 * streamPieces produces them only as the reader asks, one per event-loop turn, and cuts off a
 * reader that stops taking them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../../src/store/index.ts';
import { EnvelopeChunks, envelopeText, pagingMembers } from '../../../src/taxii/server/envelope.ts';
import { streamPieces, type StreamOutcome } from '../../../src/taxii/server/respond.ts';
import { WorkSlicer } from '../../../src/taxii/server/slicer.ts';

const slicer = new WorkSlicer(8);
/** options every stream here shares: one-character pieces, produced in the slicer's turns */
const base = { pieceChars: 1, schedule: <T>(work: () => T) => slicer.run(work) };

const entry = (dateAdded: number): IndexEntry => ({
  collection: 'c',
  dateAdded,
  body: dateAdded,
  id: `indicator--${dateAdded}`,
  type: 'indicator',
  version: 'v',
  versionKey: 'v',
  specVersion: '2.1',
  isFirst: true,
  isLast: true,
  attributes: { type: 'indicator', tlp: { kind: 'unmarked' }, sectors: [], revoked: false, granular: false },
});

/** The envelope as it was built before pages were streamed: the reference for byte identity. */
function referenceEnvelope(bodies: ReadonlyArray<string | undefined>, more: boolean, next: string | undefined): string {
  const objects = bodies.filter((b): b is string => b !== undefined).join(',');
  const head = pagingMembers(more, next);
  return objects === '' ? `{${head}}` : `{${head},"objects":[${objects}]}`;
}

const body = fc.option(
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify({ id: 'x--1', s })),
  { nil: undefined, freq: 5 },
);

describe('EnvelopeChunks', () => {
  it('yields pieces that join to the envelope text, for any piece size and skipped bodies', () => {
    fc.assert(
      fc.property(
        fc.array(body, { maxLength: 30 }),
        fc.boolean(),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        fc.integer({ min: 1, max: 200 }),
        (bodies, more, next, minChars) => {
          const entries = bodies.map((_, i) => entry(i + 1));
          const bodyOf = (e: IndexEntry) => bodies[e.dateAdded - 1];
          const chunks = new EnvelopeChunks(entries, more, next, bodyOf);
          const pieces: string[] = [];
          for (let piece = chunks.next(minChars); piece !== null; piece = chunks.next(minChars)) {
            pieces.push(piece);
            expect(pieces.length).toBeLessThanOrEqual(bodies.length + 1);
          }
          expect(chunks.finished).toBe(true);
          const expected = referenceEnvelope(bodies, more, next);
          expect(pieces.join('')).toBe(expected);
          expect(envelopeText(entries, more, next, bodyOf)).toBe(expected);
          // every piece but the last is at least minChars long
          for (const p of pieces.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(minChars);
        },
      ),
    );
  });
});

/** Pieces "p0", "p1", … counted as they are produced. */
function countingPieces(n: number) {
  let produced = 0;
  return {
    get produced() {
      return produced;
    },
    get finished() {
      return produced >= n;
    },
    next() {
      return produced >= n ? null : `p${produced++}`;
    },
  };
}

const decoder = new TextDecoder();

describe('streamPieces', () => {
  it('produces a piece only when the reader asks, one event-loop turn apart', async () => {
    const pieces = countingPieces(5);
    pieces.next(); // the first piece, produced before the stream (as the route does)
    const outcomes: StreamOutcome[] = [];
    const stream = streamPieces('p0', pieces, { ...base, stallMs: 60_000, onStall: () => {}, onEnd: (o) => outcomes.push(o) });
    const reader = stream.getReader();
    let turns = 0;
    let ticking = true;
    const tick = () => {
      if (!ticking) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const received: string[] = [];
    for (let i = 0; i < 10; i++) {
      const producedBefore = pieces.produced;
      const { done, value } = await reader.read();
      if (done) break;
      received.push(decoder.decode(value));
      // nothing is produced ahead of the reader
      expect(pieces.produced).toBeLessThanOrEqual(producedBefore + 1);
    }
    ticking = false;
    expect(received).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    // each piece after the first waited for its own turn of the event loop
    expect(turns).toBeGreaterThanOrEqual(4);
    expect(outcomes).toEqual([{ kind: 'complete' }]);
  });

  it('cuts off a reader that stops taking pieces, and ends once', async () => {
    const pieces = countingPieces(100);
    pieces.next();
    let stalled = 0;
    const outcomes: StreamOutcome[] = [];
    const ended = new Promise<void>((resolve) => {
      const stream = streamPieces('p0', pieces, {
        ...base,
        stallMs: 20,
        onStall: () => stalled++,
        onEnd: (o) => {
          outcomes.push(o);
          resolve();
        },
      });
      void stream.getReader().read(); // takes the first piece, then nothing
    });
    await ended;
    expect(stalled).toBe(1);
    expect(outcomes).toEqual([{ kind: 'stalled' }]);
    expect(pieces.produced).toBeLessThan(100);
  });

  it('ends as closed when the connection closes, and when the reader cancels', async () => {
    const closed = new AbortController();
    const outcomes: StreamOutcome[] = [];
    const a = countingPieces(10);
    a.next();
    streamPieces('p0', a, { ...base, stallMs: 60_000, onStall: () => {}, onEnd: (o) => outcomes.push(o), signal: closed.signal });
    closed.abort();
    const b = countingPieces(10);
    b.next();
    const stream = streamPieces('p0', b, { ...base, stallMs: 60_000, onStall: () => {}, onEnd: (o) => outcomes.push(o) });
    await stream.cancel();
    expect(outcomes).toEqual([{ kind: 'closed' }, { kind: 'closed' }]);
  });

  it('ends as failed when producing a piece throws, and errors the stream', async () => {
    const outcomes: StreamOutcome[] = [];
    const failing = {
      finished: false,
      next(): string | null {
        throw new Error('store read failed');
      },
    };
    const reader = streamPieces('p0', failing, {
      ...base,
      stallMs: 60_000,
      onStall: () => {},
      onEnd: (o) => outcomes.push(o),
    }).getReader();
    expect(decoder.decode((await reader.read()).value)).toBe('p0');
    await expect(reader.read()).rejects.toThrow('store read failed');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.kind).toBe('failed');
  });
});
