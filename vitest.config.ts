import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once for the CLI tests (test/cli), which run the built command.
    globalSetup: ['test/helpers/cli-global-setup.ts'],
    // Tests create network namespaces and real sockets; two workers match the machine's two cores.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
