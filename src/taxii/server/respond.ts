/** Successful TAXII responses: text bodies, or streamed pieces, with the TAXII Content-Type. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TAXII_CONTENT_TYPE } from './media.ts';

export function taxii(
  c: Context,
  body: string | object | ReadableStream<Uint8Array>,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Response {
  const payload = typeof body === 'string' || body instanceof ReadableStream ? body : JSON.stringify(body);
  return c.body(payload, status, { ...headers, 'Content-Type': TAXII_CONTENT_TYPE });
}

/** Text produced piece by piece (e.g. envelope.ts EnvelopeChunks). */
export interface Pieces {
  /** the next piece, at least `minChars` long unless it is the last; null after the last */
  next(minChars: number): string | null;
  readonly finished: boolean;
}

/** How a streamed body ended: every piece written, the connection gone, a stalled reader, or an error producing a piece. */
export type StreamOutcome =
  | { readonly kind: 'complete' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'stalled' }
  | { readonly kind: 'failed'; readonly error: unknown };

export interface StreamOptions {
  /** characters per piece (a piece is produced, encoded and written at a time) */
  readonly pieceChars: number;
  /** runs the production of a piece when the event loop has time for it (slicer.ts) */
  readonly schedule: <T>(work: () => T) => Promise<T>;
  /** a reader that takes nothing for this long is cut off (`onStall`) */
  readonly stallMs: number;
  /** closes the connection of a stalled reader */
  readonly onStall: () => void;
  /** called once, when the body is complete or will not be */
  readonly onEnd: (outcome: StreamOutcome) => void;
  /** aborts when the connection closes before the response finished */
  readonly signal?: AbortSignal;
}

/**
 * A response body that produces `pieces` only as fast as the connection takes them (a
 * ReadableStream with no buffer of its own: a piece is produced when the writer asks for one,
 * which it does after the previous one was accepted by the socket), each in its turn of
 * `schedule`, so connections, handshakes and other pages proceed meanwhile. A slow reader
 * therefore holds one piece, not a whole rendered page. `first` is sent first (already
 * produced).
 */
export function streamPieces(first: string, pieces: Pieces, options: StreamOptions): ReadableStream<Uint8Array> {
  let ended = false;
  const stall = setTimeout(() => {
    if (ended) return;
    options.onStall();
    end({ kind: 'stalled' });
  }, options.stallMs);
  stall.unref();
  // the writer may never get to cancel the stream (a connection closed before it started)
  const onAbort = () => end({ kind: 'closed' });
  const end = (outcome: StreamOutcome) => {
    if (ended) return;
    ended = true;
    clearTimeout(stall);
    options.signal?.removeEventListener('abort', onAbort);
    options.onEnd(outcome);
  };
  if (options.signal?.aborted) end({ kind: 'closed' });
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  let pending: string | null = first;
  const produce = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (ended) {
      controller.error(new Error('the response ended before its body was complete'));
      return;
    }
    try {
      const piece = pending ?? pieces.next(options.pieceChars);
      pending = null;
      if (piece !== null) controller.enqueue(Buffer.from(piece));
      if (pieces.finished) {
        controller.close();
        end({ kind: 'complete' });
      }
    } catch (error) {
      controller.error(error);
      end({ kind: 'failed', error });
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        stall.refresh();
        // the first piece is ready; every later one waits for its slice of the event loop
        return pending !== null ? produce(controller) : options.schedule(() => produce(controller));
      },
      cancel() {
        end({ kind: 'closed' });
      },
    },
    { highWaterMark: 0 },
  );
}
