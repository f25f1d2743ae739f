/** Bounded polling for tests: what other parts do in the background is waited for, never slept on. */

/** Waits (bounded) until `check` holds; fails naming `what` otherwise. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 60_000, intervalMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
