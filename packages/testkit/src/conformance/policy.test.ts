import { resolvePolicy } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { conformanceBounds, conformancePolicy, mergePolicies } from './policy.js';

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

  it('detection = threshold × interval × (1 + jitter) + timeout + slack; recovery = backoff cap + interval + slack', () => {
    const policy = resolvePolicy(
      mergePolicies(conformancePolicy, {
        healthCheck: { interval: 1000, timeout: 300, jitter: 0.1, failureThreshold: 3 },
      }),
    );
    expect(conformanceBounds(policy, 100)).toEqual({
      detectionMs: 3700,
      recoveryMs: 1500,
      deadlineSlackMs: 100,
    });
    expect(conformanceBounds(resolvePolicy(conformancePolicy), 500)).toMatchObject({
      detectionMs: 1050,
      recoveryMs: 1100,
    });
  });
});
