import { describe, expect, it } from 'vitest';
import {
  builtinDefaults,
  defineConfig,
  definePolicy,
  isConfigError,
  loadConfig,
  resolvePolicy,
  resolvePolicyWithProvenance,
} from '@reconnect/core';

describe('resolvePolicy', () => {
  it('with no input gives the built-in defaults in milliseconds', () => {
    const p = resolvePolicy();
    expect(p.retry.backoff).toEqual({
      type: 'exponential',
      base: 100,
      factor: 2,
      max: 10_000,
      jitter: 'full',
    });
    expect(p.retry.budget.ratio).toBe(0.1); // ≤ 1.1× traffic in a total outage (issue #26)
    expect(p.healthCheck.jitter).toBe(0.1);
    expect(p.reconnect.maxRetries).toBe(Number.POSITIVE_INFINITY);
    expect(p.pool.discovery.interval).toBe(false);
  });

  it('merges a partial policy over the defaults, following extends to a preset', () => {
    const p = resolvePolicyWithProvenance(
      definePolicy({ extends: 'preset:redis', retry: { maxRetries: 1 } }),
    );
    expect(p.policy.retry.maxRetries).toBe(1);
    expect(p.policy.healthCheck.interval).toBe(5000);
    expect(p.provenance['healthCheck.interval']).toBe('preset:redis');
    expect(p.provenance['retry.maxRetries']).toBe('target');
    expect(p.layers).toEqual(['default', 'preset:redis', 'target']);
  });

  it('is idempotent: a resolved policy resolves to itself', () => {
    const once = resolvePolicy({ healthCheck: { interval: '2s', timeout: '500ms' } });
    expect(resolvePolicy(once)).toEqual(once);
  });

  it('accepts the built-in defaults object as input', () => {
    expect(resolvePolicy(builtinDefaults)).toEqual(resolvePolicy());
  });

  it('throws a ConfigError with every problem', () => {
    let error: unknown;
    try {
      resolvePolicy({
        retry: { maxRetries: -1, backoff: { type: 'exponentail' as 'fixed' } },
        pool: { deadTime: 1 } as object,
      });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    if (!isConfigError(error)) return;
    expect(error.issues.map((i) => `${i.path.join('.')} ${i.kind}`).sort()).toEqual([
      'pool.deadTime unrecognized_keys',
      'retry.backoff.type invalid_value',
      'retry.maxRetries too_small',
    ]);
    expect(error.message).toContain('did you mean "exponential"?');
    expect(error.message).toContain('did you mean "deadTimeout"?');
  });

  it('defineConfig types code-defined functions and loadConfig keeps them', async () => {
    const config = defineConfig({
      version: 1,
      targets: {
        a: {
          driver: 'redis',
          policy: { retry: { retryIf: (_error, ctx) => ctx.attempt < 2, delay: (n) => n * 10 } },
          pool: { selector: (nodes) => nodes[0] },
        },
      },
    });
    const resolved = await loadConfig({ config });
    const policy = resolved.targets['a']!.policy;
    expect(policy.retry.delay?.(3)).toBe(30);
    expect(typeof policy.pool.selector).toBe('function');
    expect(resolved.targets['a']!.provenance['pool.selector']).toBe('target');
  });
});
