import { describe, expect, it } from 'vitest';
import { formatConfigPath, isConfigError, resolveConfig, type ConfigIssue } from '@reconnect/core';

function issuesOf(config: unknown): ConfigIssue[] {
  try {
    resolveConfig(config, { file: 'reconnect.config.yaml', env: {} });
  } catch (error) {
    if (isConfigError(error)) return [...error.issues];
    throw error;
  }
  return [];
}

describe('cross-field issues name the place the value is written', () => {
  it('a value from a preset: the target policy path, naming the preset and the other origin', () => {
    const [issue, ...rest] = issuesOf({
      version: 1,
      targets: {
        cache: { driver: 'redis', policy: { extends: 'preset:redis', healthCheck: { interval: '2s' } } },
      },
    });
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({
      file: 'reconnect.config.yaml',
      kind: 'timeout_not_below_interval',
      expected: 'timeout < interval',
    });
    expect(formatConfigPath(issue?.path ?? [])).toBe('targets.cache.policy.healthCheck.timeout');
    expect(issue?.message).toContain('from preset:redis');
    expect(issue?.message).toContain('healthCheck.interval (2s, from target)');
  });

  it('a value from the built-in defaults says so', () => {
    const [issue] = issuesOf({
      version: 1,
      policies: { slow: { reconnect: { backoff: { base: '1m' } } } },
      targets: { cache: { driver: 'redis', policy: 'slow' } },
    });
    expect(formatConfigPath(issue?.path ?? [])).toBe('targets.cache.policy.reconnect.backoff.max');
    expect(issue?.message).toContain('from the built-in defaults');
    expect(issue?.message).toContain('from policies.slow');
    expect(issue?.expected).toBe('max ≥ base');
  });

  it('a value from defaults is reported under defaults', () => {
    const issues = issuesOf({
      version: 1,
      defaults: { retry: { attemptTimeout: '30s' } },
      targets: { a: { driver: 'mysql' } },
    });
    expect(issues.map((i) => `${formatConfigPath(i.path)} ${i.kind}`)).toEqual([
      'defaults.retry.attemptTimeout attempt_timeout_above_deadline',
    ]);
  });
});

describe('rules of a disabled section do not run', () => {
  it.each([
    ['healthCheck', { healthCheck: { enabled: false, interval: '1s', timeout: '2s' } }],
    ['healthCheck interval 0', { healthCheck: { enabled: false, interval: 0, timeout: 0 } }],
    ['circuitBreaker', { circuitBreaker: { enabled: false, openFor: 0 } }],
  ])('%s', (_name, policy) => {
    expect(issuesOf({ version: 1, targets: { a: { driver: 'redis', policy } } })).toEqual([]);
  });
});

describe('durations where 0 is meaningless must be > 0, unless their section is disabled', () => {
  it.each([
    ['retry.budget.window', { retry: { budget: { enabled: false, window: 0 } } }],
    ['circuitBreaker.window', { circuitBreaker: { enabled: false, window: 0 } }],
    ['healthCheck.timeout', { healthCheck: { enabled: false, timeout: 0 } }],
  ])('%s: 0 is fine when disabled', (_name, policy) => {
    expect(issuesOf({ version: 1, targets: { a: { driver: 'redis', policy } } })).toEqual([]);
  });

  it('0 stays meaningful for attemptTimeout and deadline (no limit)', () => {
    const policy = { retry: { attemptTimeout: 0, deadline: 0 } };
    expect(issuesOf({ version: 1, targets: { a: { driver: 'redis', policy } } })).toEqual([]);
  });
});
