/**
 * Seeds for property-based and randomized tests. Each run draws a fresh seed, so the suite
 * explores new cases every time instead of replaying one fixed sample; the seed is printed so a
 * failure can be replayed exactly: RELAY_TEST_SEED=<seed> npm test -- <file>.
 */
export function runSeed(label: string): number {
  const fixed = process.env.RELAY_TEST_SEED;
  const seed = fixed !== undefined && fixed !== '' ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`RELAY_TEST_SEED must be an integer, got "${fixed}"`);
  console.log(`${label}: seed ${seed} (replay: RELAY_TEST_SEED=${seed})`);
  return seed;
}
