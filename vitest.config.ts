import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests (parallel), and interop tests against real
// BIRD 2 / FRR / GoBGP in network namespaces (serial: they start daemons and
// share the two CPU cores; each file creates and removes its own namespaces).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/interop/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
