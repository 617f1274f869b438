import fc from 'fast-check';

/**
 * Every property test in `npm test` runs with one fixed seed, so a run is reproducible and CI never fails on
 * a counterexample nobody can replay (a random seed found two test-precondition bugs at random in two
 * stops). `RAPPORT_FUZZ_SEED=random` (as `npm run fuzz` sets) explores with a fresh seed, printed by
 * fast-check on failure; a number replays that seed. Tests that pass their own `seed` keep it.
 */
const chosen = process.env.RAPPORT_FUZZ_SEED;
if (chosen !== 'random') fc.configureGlobal({ seed: Number(chosen ?? 20261202) || 20261202 });
