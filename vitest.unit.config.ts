import { defineConfig } from 'vitest/config';

// The fast lane (`npm run test:unit`): the unit tests and the contract suites run against
// in-process implementations (MemoryStore, LevelStore in a temp dir, MemoryRuntime, the
// embedded broker) — no containers, no root, no registry. Files run in parallel, two worker
// processes that keep their module cache between files (nothing of ours holds module-level
// state). The full suite, README's and CI's, is vitest.config.ts: one file at a time.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/broker-embedded.test.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
