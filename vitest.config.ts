import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@reconnect/source'] },
  ssr: { resolve: { conditions: ['@reconnect/source'], externalConditions: ['@reconnect/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: [],
  },
});
