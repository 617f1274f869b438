import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time, not vitest's default of one per core less one (a single worker on CI's two
    // cores). Most files wait on something else most of the time (Chromium, PostgreSQL, Dovecot, child
    // processes): on this 2-core machine the suite took 1,326 s with one worker and 976 s with two.
    // RAPPORT_TEST_WORKERS overrides it (1 to rule out interference while chasing a flaky test).
    maxWorkers: Number(process.env.RAPPORT_TEST_WORKERS ?? 2),
    // expect.poll waits up to 10 s (vitest's default is 1 s): a page that renders in 300 ms alone can take
    // over a second while the other file in flight loads the machine (a browser test failed on exactly that)
    expect: { poll: { timeout: 10_000 } },
    // builds web/dist when it is missing or older than web/src (the browser tests serve it)
    globalSetup: ['test/global-setup.ts'],
    // one fixed fast-check seed unless RAPPORT_FUZZ_SEED=random (test/fast-check-seed.ts)
    setupFiles: ['test/fast-check-seed.ts'],
  },
});
