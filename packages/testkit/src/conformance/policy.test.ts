import { resolvePolicy, worstCaseDetectionMs } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { conformanceBounds, conformancePolicy, defaultDetectionSlackMs, mergePolicies } from './policy.js';

describe('mergePolicies', () => {
  it('merges nested objects, later layers win, arrays are replaced', () => {
    const merged = mergePolicies(
      { retry: { maxRetries: 1, retryOn: { errors: ['connection'] } }, healthCheck: { interval: 100 } },
      undefined,
      { retry: { retryOn: { errors: ['timeout'] } }, healthCheck: { timeout: 50 } },
    );
    expect(merged).toEqual({
      retry: { maxRetries: 1, retryOn: { errors: ['timeout'] } },
      healthCheck: { interval: 100, timeout: 50 },
    });
  });

  it('does not mutate its inputs', () => {
    const a = { healthCheck: { interval: 100 } };
    mergePolicies(a, { healthCheck: { interval: 5 } });
    expect(a).toEqual({ healthCheck: { interval: 100 } });
  });
});

describe('conformancePolicy and bounds', () => {
  it('is a valid policy', () => {
    expect(() => resolvePolicy(conformancePolicy)).not.toThrow();
  });

  it("detection = the core's worstCaseDetectionMs + detection slack; recovery = backoff cap + interval + slack", () => {
    const policy = resolvePolicy(
      mergePolicies(conformancePolicy, {
        healthCheck: { interval: 1000, timeout: 300, jitter: 0.1, failureThreshold: 3 },
      }),
    );
    // interval · (1 + jitter) + failureThreshold · timeout = 1100 + 900
    expect(worstCaseDetectionMs(policy.healthCheck)).toBe(2000);
    expect(conformanceBounds(policy, 100, 50)).toEqual({
      detectionMs: 2050,
      recoveryMs: 1500,
      deadlineSlackMs: 100,
    });
    expect(conformanceBounds(policy, 100).detectionMs).toBe(2000 + defaultDetectionSlackMs);
    expect(conformanceBounds(resolvePolicy(conformancePolicy), 500)).toMatchObject({
      recoveryMs: 400 + 250 + 500,
    });
  });

  it('with the suite policy, the detection bound is at most interval + timeout + 250 ms (issue 5)', () => {
    const policy = resolvePolicy(conformancePolicy);
    const { interval, timeout } = policy.healthCheck;
    expect(conformanceBounds(policy, 500).detectionMs).toBeLessThanOrEqual(interval + timeout + 250);
  });
});
