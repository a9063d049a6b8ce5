import { defineConfig } from 'vitest/config';

// Integration tests start real containers, registries and shims: they run one file at a
// time so that two cgroup-limited workloads never compete for the two cores of a CI box.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The precompiled validators are build output (gitignored): generate them first.
    globalSetup: ['test/support/generate-validators.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
