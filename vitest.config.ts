import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@reconnect/source'] },
  ssr: { resolve: { conditions: ['@reconnect/source'], externalConditions: ['@reconnect/source'] } },
  test: {
    include: [
      'test/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Shares one temp root between workers and fails the run if any throwaway server or directory leaks.
    globalSetup: ['packages/testkit/src/vitest-global-setup.ts'],
  },
});
