import { describe, expect, it } from 'vitest';
import { builtinDefaults, resolvePolicy } from '@reconnect/core';
import { formatValue, leaves } from '../src/format.js';

describe('formatValue reads units from the schema', () => {
  it('prints durations and fractions of the policy in units, other numbers as they are', () => {
    expect(formatValue('retry.backoff.base', 100)).toBe('100ms');
    expect(formatValue('pool.discovery.interval', 30_000)).toBe('30s');
    expect(formatValue('healthCheck.jitter', 0.1)).toBe('10%');
    expect(formatValue('retry.budget.minPerSecond', 10)).toBe('10');
    expect(formatValue('pool.deadTimeoutCutoff', 5)).toBe('5');
    expect(formatValue('retry.backoff.factor', 2)).toBe('2');
  });

  it('has a unit for every duration written as text in the built-in defaults', () => {
    const p = resolvePolicy(builtinDefaults);
    for (const [path, v] of leaves(p)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const shown = formatValue(path, v);
      if (/(Timeout|timeout|interval|window|openFor|deadline|base|max|Gap)$/i.test(path))
        expect(shown, path).toMatch(/(ms|s|m|h|∞)$/);
    }
  });
});
