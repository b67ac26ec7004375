import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { runDriverConformance, startRedis, type ConformanceReport } from '../src/index.js';
import { abortable, simpleRedisDriver, type SimpleRedisOptions } from './fixtures/simple-redis-driver.js';

// The suite run against a minimal driver: every scenario must pass, and the report must hold numbers.
let finished: ConformanceReport | undefined;

runDriverConformance<SimpleRedisOptions, Redis>({
  driver: simpleRedisDriver,
  server: () => startRedis({ password: 'conformance-secret' }),
  options: (endpoint) => ({ ...endpoint, password: 'conformance-secret' }),
  badAuthOptions: (endpoint) => ({ ...endpoint, password: 'wrong' }),
  operations: {
    idempotentRead: (redis, ctx) => abortable(redis.get('conformance:key'), ctx.signal),
    nonIdempotentWrite: (redis, ctx) => abortable(redis.incr('conformance:writes'), ctx.signal),
    countWrites: async (redis) => Number((await redis.get('conformance:writes')) ?? 0),
    setup: async (redis) => {
      await redis.set('conformance:key', 'value');
    },
  },
  onReport: (report) => {
    finished = report;
    expect(report.results.map((r) => [r.scenario, r.status])).toEqual([
      ['crash-restart', 'passed'],
      ['hang', 'passed'],
      ['blackhole', 'passed'],
      ['reset', 'passed'],
      ['unknown-outcome', 'passed'],
      ['auth', 'passed'],
      ['stop', 'passed'],
    ]);
    for (const r of report.results.slice(0, 4)) {
      expect(r.detectionMs).toBeGreaterThanOrEqual(0);
      expect(r.recoveryMs).toBeGreaterThanOrEqual(0);
    }
    expect(finished).toBeDefined();
  },
});
