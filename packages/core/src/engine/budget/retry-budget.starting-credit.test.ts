// A new budget starts with a little of its floor earned: 10 retries, but never more than the floor itself
// (minPerSecond · window in seconds), so a budget whose floor is small starts with that much and no more.
import { describe, expect, it } from 'vitest';
import type { BudgetPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { RetryBudget } from './retry-budget.js';

const policy = (p: Partial<BudgetPolicy>): BudgetPolicy => ({
  enabled: true,
  ratio: 0,
  minPerSecond: 0,
  window: 10_000,
  ...p,
});

describe('RetryBudget: the starting credit', () => {
  it('is the floor when the floor is under 10 (0.5/s over 10 s: 5)', () => {
    expect(new RetryBudget(policy({ minPerSecond: 0.5 }), createFakeClock()).available()).toBe(5);
  });

  it('follows the window in seconds (1/s over 2 s: 2)', () => {
    expect(new RetryBudget(policy({ minPerSecond: 1, window: 2_000 }), createFakeClock()).available()).toBe(
      2,
    );
  });

  it('is 10 at most', () => {
    expect(new RetryBudget(policy({ minPerSecond: 100 }), createFakeClock()).available()).toBe(10);
  });

  it('is none without a floor', () => {
    expect(new RetryBudget(policy({ minPerSecond: 0 }), createFakeClock()).available()).toBe(0);
  });
});
