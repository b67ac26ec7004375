import { describe, expect, it } from 'vitest';
import { checkPolicyConsistency } from './consistency.js';
import { resolvePolicy } from './resolve.js';

describe('checkPolicyConsistency', () => {
  const ok = resolvePolicy();

  it('accepts the built-in defaults', () => {
    expect(checkPolicyConsistency(ok)).toEqual([]);
  });

  it('names both fields, their values and where each came from', () => {
    const bad = { ...ok, healthCheck: { ...ok.healthCheck, timeout: 10_000 } };
    const [issue] = checkPolicyConsistency(bad, {
      'healthCheck.timeout': 'target',
      'healthCheck.interval': 'preset:redis',
    });
    expect(issue).toMatchObject({ path: ['healthCheck', 'timeout'], kind: 'timeout_not_below_interval' });
    expect(issue?.message).toBe(
      'healthCheck.timeout (10s, from target) must be < healthCheck.interval (10s, from preset:redis)',
    );
  });

  it('checks backoff caps, attempt timeout against deadline and dead-time cap', () => {
    const bad = {
      ...ok,
      retry: { ...ok.retry, attemptTimeout: 20_000, backoff: { ...ok.retry.backoff, max: 1 } },
      pool: { ...ok.pool, deadTimeoutMax: 1 },
    };
    expect(checkPolicyConsistency(bad).map((i) => i.path.join('.'))).toEqual([
      'retry.backoff.max',
      'retry.attemptTimeout',
      'pool.deadTimeoutMax',
    ]);
  });

  it("wants the adaptive limit's windows > 0, and only when the limit is adaptive", () => {
    const zero = { ...ok.concurrency, window: 0, baselineWindow: 0 };
    const adaptive = { ...ok, concurrency: { ...zero, limit: 'adaptive' as const } };
    expect(checkPolicyConsistency(adaptive).map((i) => [i.path.join('.'), i.kind])).toEqual([
      ['concurrency.window', 'too_small'],
      ['concurrency.baselineWindow', 'too_small'],
    ]);
    expect(checkPolicyConsistency({ ...ok, concurrency: { ...zero, limit: 8 } })).toEqual([]);
  });
});
