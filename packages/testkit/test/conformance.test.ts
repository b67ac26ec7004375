import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import { runDriverConformance, scenarioNames, startRedis, type ConformanceReport } from '../src/index.js';
import { abortable, simpleRedisDriver, type SimpleRedisOptions } from './fixtures/simple-redis-driver.js';

// The suite run against a minimal driver: every scenario must pass, and the report must hold numbers.

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
  onReport: (report: ConformanceReport) => {
    expect(report.driver).toBe(simpleRedisDriver.name);
    expect(report.server).toMatch(/^redis on 127\.0\.0\.1:\d+$/);
    // The suite's scenarios, pinned here once (drivers' own tests reuse `scenarioNames`).
    expect(scenarioNames).toEqual([
      'crash-restart',
      'hang',
      'blackhole',
      'reset',
      'unknown-outcome',
      'auth',
      'stop',
    ]);
    expect(report.results.map((r) => [r.scenario, r.status])).toEqual(
      scenarioNames.map((name) => [name, 'passed']),
    );
    for (const r of report.results.slice(0, 4)) {
      expect(r.detectionMs).toBeGreaterThanOrEqual(0);
      expect(r.recoveryMs).toBeGreaterThanOrEqual(0);
      // Each measured time is quoted with the bound it was checked against.
      expect(r.detectionMs).toBeLessThanOrEqual(r.detectionBoundMs ?? -1);
      expect(r.recoveryMs).toBeLessThanOrEqual(r.recoveryBoundMs ?? -1);
    }
    const notes = Object.fromEntries(report.results.map((r) => [r.scenario, r.notes]));
    expect(notes['unknown-outcome']).toMatch(/^outcome unknown; ran 1× on the server/);
    expect(notes['stop']).toMatch(/, 0 left open; 0 timer\(s\) pending$/);
  },
});
