// The delays at the edges: a base of 0 never waits however many retries (3^n overflows to Infinity, and 0 · ∞ is
// NaN, not 0); a server hint that is unreadable (NaN) or below the delay changes nothing; Infinity from a custom
// delay is garbage like NaN.
import { describe, expect, it } from 'vitest';
import type { BackoffPolicy } from '../../policy/resolved.js';
import { computeDelay, delayBounds, retryDelay } from './compute-delay.js';
import { decorrelatedBounds } from './decorrelated.js';

const policy = (p: Partial<BackoffPolicy>): BackoffPolicy => ({
  type: 'exponential',
  base: 100,
  factor: 2,
  max: 10_000,
  jitter: 'none',
  ...p,
});

describe('decorrelated with a base of 0', () => {
  it('never waits, even after more retries than 3^n can count', () => {
    const b = policy({ type: 'decorrelated', base: 0, max: 5000 });
    expect(decorrelatedBounds(b, 1)).toEqual({ min: 0, max: 0 });
    expect(decorrelatedBounds(b, 1000)).toEqual({ min: 0, max: 0 });
    expect(delayBounds(b, 1000)).toEqual({ min: 0, max: 0 });
    expect(computeDelay(b, 1000, 0, () => 0.9)).toBe(0);
  });

  it('a positive base past that many retries is capped at max, not NaN', () => {
    expect(decorrelatedBounds(policy({ type: 'decorrelated', base: 1, max: 5000 }), 1000)).toEqual({
      min: 1,
      max: 5000,
    });
  });
});

describe('retryDelay: server hints and garbage', () => {
  const b = policy({ type: 'fixed', base: 100 });

  it('an unreadable (NaN) hint leaves the delay as it is', () => {
    expect(retryDelay(b, undefined, 1, undefined, Math.random, Number.NaN)).toBe(100);
  });

  it('a hint of 0 or below the delay leaves it as it is; a hint above a 0 delay is waited', () => {
    expect(retryDelay(b, undefined, 1, undefined, Math.random, 0)).toBe(100);
    expect(retryDelay(b, undefined, 1, undefined, Math.random, 99)).toBe(100);
    expect(retryDelay(b, () => 0, 1, undefined, Math.random, 1)).toBe(1);
    expect(retryDelay(b, () => 0, 1, undefined, Math.random, undefined)).toBe(0);
  });

  it('never a negative wait: a negative custom delay under a negative (past) hint waits 0', () => {
    expect(retryDelay(b, () => -5, 1, undefined, Math.random, -100)).toBe(0);
    expect(retryDelay(b, undefined, 1, undefined, Math.random, -100)).toBe(100);
  });

  it('a custom delay of Infinity waits 0, and a hint still applies', () => {
    expect(retryDelay(b, () => Number.POSITIVE_INFINITY, 1, undefined, Math.random, undefined)).toBe(0);
    expect(retryDelay(b, () => Number.POSITIVE_INFINITY, 1, undefined, Math.random, 250)).toBe(250);
  });

  it('a custom delay is asked with the retry number, and its value kept as it is', () => {
    const asked: number[] = [];
    const delay = (n: number): number => {
      asked.push(n);
      return 12.5;
    };
    expect(retryDelay(b, delay, 4, 999, () => 0.5, undefined)).toBe(12.5);
    expect(asked).toEqual([4]);
  });
});
