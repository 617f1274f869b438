import fc from 'fast-check';

/**
 * The seed a fuzz or property run uses: `RAPPORT_FUZZ_SEED=random` (as `npm run fuzz` sets) a fresh one, a
 * number replays that seed, and otherwise `fallback` — so `npm test` is reproducible.
 */
export function fuzzSeed(fallback: number): number {
  const chosen = process.env.RAPPORT_FUZZ_SEED;
  if (chosen === 'random') return Math.floor(Math.random() * 2 ** 31);
  return Number(chosen ?? fallback) || fallback;
}

/**
 * Every property test in `npm test` runs with one fixed seed, so CI never fails on a counterexample nobody
 * can replay (a random seed found two test-precondition bugs at random in two stops). With
 * `RAPPORT_FUZZ_SEED=random` fast-check picks a seed per run and prints it on failure. Tests that pass their
 * own `seed` keep it.
 */
if (process.env.RAPPORT_FUZZ_SEED !== 'random') fc.configureGlobal({ seed: fuzzSeed(20261202) });
