import { describe, expect, it } from 'vitest';
import { delayBounds, presetNames, presets, resolvePolicy, worstCaseDetectionMs } from '@reconnect/core';
import { extendablePolicySchema } from '../../src/policy/schema.js';

describe('presets', () => {
  it('are the six documented ones', () => {
    expect([...presetNames].sort()).toEqual(
      ['conservative', 'elasticsearch', 'fast-failover', 'mysql', 'no-retry', 'redis'].sort(),
    );
  });

  it.each(presetNames)('%s parses with the policy schema, resolves, and cites its sources', (name) => {
    const preset = presets[name]!;
    expect(preset.name).toBe(name);
    const parsed = extendablePolicySchema.safeParse(preset.policy);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(() => resolvePolicy(preset.policy as never)).not.toThrow();
    expect(preset.sources.length).toBeGreaterThan(0);
    expect(preset.description.length).toBeGreaterThan(10);
  });

  it('every store preset spreads reconnects with full jitter (a fleet must not reconnect as one wall)', () => {
    for (const name of ['mysql', 'redis', 'elasticsearch']) {
      expect(resolvePolicy({ extends: `preset:${name}` }).reconnect.backoff.jitter, name).toBe('full');
    }
  });

  it('mysql carries the seed table: 10 reconnects within 1s, 2s, 4s… (full jitter), SELECT 1 every 10s with 3s timeout', () => {
    const p = resolvePolicy({ extends: 'preset:mysql' });
    expect(p.reconnect.maxRetries).toBe(10);
    // The seed's schedule is the envelope; full jitter spreads a fleet's reconnects inside it (issue #26).
    expect([1, 2, 3].map((n) => delayBounds(p.reconnect.backoff, n))).toEqual([
      { min: 0, max: 1000 },
      { min: 0, max: 2000 },
      { min: 0, max: 4000 },
    ]);
    expect(p.healthCheck).toMatchObject({
      enabled: true,
      interval: 10_000,
      timeout: 3000,
      query: 'SELECT 1',
    });
  });

  it('redis carries the seed table: 5 reconnects, PING every 5s with 2s timeout', () => {
    const p = resolvePolicy({ extends: 'preset:redis' });
    expect(p.reconnect.maxRetries).toBe(5);
    expect(p.healthCheck).toMatchObject({ interval: 5000, timeout: 2000, query: 'PING' });
  });

  it('elasticsearch carries the seed table and the transport defaults', () => {
    const p = resolvePolicy({ extends: 'preset:elasticsearch' });
    expect(p.reconnect.maxRetries).toBe(15);
    expect(p.healthCheck).toMatchObject({
      interval: 15_000,
      timeout: 5000,
      query: 'GET _cluster/health?local=true',
    });
    expect(p.pool).toMatchObject({
      nodeFailureThreshold: 3,
      deadTimeout: 60_000,
      deadTimeoutCutoff: 5,
      resurrect: 'ping',
    });
    // 60 s · 2^min(n−1, 5) tops out at 32 minutes.
    expect(p.pool.deadTimeoutMax).toBe(60_000 * 2 ** 5);
    expect(p.retry.maxRetries).toBe(3);
    expect(p.retry.retryOn.statusCodes).toEqual([502, 503, 504]);
    // elastic-transport-js: c = min(4, 2^attempt)/2 s, wait c + random·c → 1–2 s, 2–4 s, 2–4 s.
    expect([1, 2, 3].map((n) => delayBounds(p.retry.backoff, n))).toEqual([
      { min: 1000, max: 2000 },
      { min: 2000, max: 4000 },
      { min: 2000, max: 4000 },
    ]);
  });

  it('fast-failover detects a dead server within a second', () => {
    const p = resolvePolicy({ extends: 'preset:fast-failover' });
    // The health checker's own bound: interval·(1+jitter) + failureThreshold·timeout.
    const worstDetection = worstCaseDetectionMs(p.healthCheck);
    expect(worstDetection).toBe(630);
    expect(worstDetection).toBeLessThan(1000);
    expect(p.pool.deadTimeout).toBeLessThanOrEqual(1000);
    expect(delayBounds(p.reconnect.backoff, 1).max).toBeLessThan(1000);
  });

  it('no-retry never retries an operation', () => {
    expect(resolvePolicy({ extends: 'preset:no-retry' }).retry.maxRetries).toBe(0);
  });
});
