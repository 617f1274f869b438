import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // builds web/dist when it is missing or older than web/src (the browser tests serve it)
    globalSetup: ['test/global-setup.ts'],
    // one fixed fast-check seed unless RAPPORT_FUZZ_SEED=random (test/fast-check-seed.ts)
    setupFiles: ['test/fast-check-seed.ts'],
  },
});
