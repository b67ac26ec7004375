// `npm run mutate`: mutation testing of the safety-critical modules (docs/testing.md says how and when).
// Not part of `npm test`: it runs the fast, server-free tests of vitest.mutate.config.mjs once per mutant.
// MUTATE=engine,redis (the groups below) narrows a run; `npm run mutate -- --mutate <file>` narrows it further.

/** The modules whose rules users rely on, by group. */
export const groups = {
  engine: [
    'packages/core/src/engine/retry-decision.ts',
    'packages/core/src/engine/retry-executor.ts',
    'packages/core/src/engine/budget/retry-budget.ts',
    'packages/core/src/engine/breaker/breaker-state.ts',
    'packages/core/src/engine/breaker/circuit-breaker.ts',
    'packages/core/src/engine/backoff/*.ts',
    '!packages/core/src/engine/backoff/index.ts',
    '!packages/core/src/engine/backoff/*.test.ts',
  ],
  lifecycle: [
    'packages/core/src/lifecycle/target/source.ts',
    'packages/core/src/lifecycle/target/health.ts',
    'packages/core/src/lifecycle/health/health-checker.ts',
    'packages/core/src/lifecycle/nodes/node-pool.ts',
  ],
  policy: ['packages/core/src/policy/interpolate.ts', 'packages/core/src/policy/redact.ts'],
  redis: ['packages/driver-redis/src/classify.ts', 'packages/driver-redis/src/idempotency.ts'],
  mysql: ['packages/driver-mysql/src/classify.ts'],
  elasticsearch: [
    'packages/driver-elasticsearch/src/classify.ts',
    'packages/driver-elasticsearch/src/idempotency.ts',
  ],
};

const chosen = (process.env.MUTATE ?? Object.keys(groups).join(',')).split(',').map((g) => g.trim());
for (const g of chosen)
  if (!(g in groups)) throw new Error(`MUTATE: no group "${g}" (${Object.keys(groups).join(', ')})`);

export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.mjs', related: false },
  mutate: chosen.flatMap((g) => groups[g]),
  // The machine is shared: one test process at a time.
  concurrency: 1,
  coverageAnalysis: 'perTest',
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'json'],
  // One report per set of groups: scripts/mutation-report.mjs merges them into docs/mutation-report.md.
  jsonReporter: { fileName: `reports/mutation/${chosen.join('+')}.json` },
  // One sandbox folder per set of groups, so runs of different groups can go on side by side.
  tempDirName: `.stryker-tmp/${chosen.join('+')}`,
  // Other groups' sandboxes (.stryker-tmp/<groups>/) are not copied into this one.
  ignorePatterns: ['bench', 'reports', 'coverage', '.scratch', '.stryker-tmp', '**/dist', '**/*.tsbuildinfo'],
  cleanTempDir: true,
};
