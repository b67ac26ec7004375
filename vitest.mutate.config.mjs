// The tests `npm run mutate` runs against each mutant (see docs/testing.md): the fast, server-free tests of the
// safety-critical modules. Workspace packages resolve to this directory's sources, so inside Stryker's sandbox a
// test that imports `@reconnect/core` sees the mutated copy, not the original through node_modules' symlink.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const source = {
  '@reconnect/core': here('./packages/core/src/index.ts'),
  '@reconnect/policies': here('./packages/policies/src/index.ts'),
  '@reconnect/testkit': here('./packages/testkit/src/index.ts'),
};

export default defineConfig({
  resolve: { alias: source, conditions: ['@reconnect/source'] },
  ssr: { resolve: { conditions: ['@reconnect/source'], externalConditions: ['@reconnect/source'] } },
  test: {
    include: [
      'packages/core/src/**/*.test.ts',
      'packages/core/test/engine/**/*.test.ts',
      'packages/core/test/lifecycle/**/*.test.ts',
      'packages/core/test/policy/**/*.test.ts',
      'packages/driver-redis/src/**/*.test.ts',
      'packages/driver-mysql/src/**/*.test.ts',
      'packages/driver-elasticsearch/src/**/*.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
