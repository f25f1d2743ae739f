/**
 * JetStream set-up at start (the gossip stream and this node's consumer, the lease bucket),
 * retried, bounded: a cluster that has just started may still be electing its JetStream leader.
 * When it never answers, the error says what a bare "503" means for an operator.
 */

export interface SetUpRetry {
  /** tries in all (default 30: about 28 s) */
  readonly attempts?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What JetStream's silence means, added to a 503 (no responders to the JetStream API). */
export const JETSTREAM_UNAVAILABLE =
  'JetStream did not answer (503): it is not enabled on the NATS servers, or they have not formed their cluster and elected a JetStream leader; the servers’ logs say why (for example TLS errors on their routes)';

/**
 * Runs `setUp` until it succeeds, up to `attempts` times with a growing pause (200 ms … 1 s);
 * then throws `fail(reason, cause)` with the last error's message (explained when it was a 503).
 */
export async function retryJetStreamSetUp<T>(
  setUp: () => Promise<T>,
  fail: (reason: string, cause: unknown) => Error,
  options: SetUpRetry = {},
): Promise<T> {
  const attempts = options.attempts ?? 30;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await setUp();
    } catch (error) {
      lastError = error;
      if (attempt + 1 < attempts) await sleep(Math.min(200 * (attempt + 1), 1000));
    }
  }
  throw fail(reasonOf(lastError), lastError);
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code === '503' || message === '503' ? `${JETSTREAM_UNAVAILABLE} [${message}]` : message;
}
