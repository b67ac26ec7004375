// Each count lives exactly one window: what was recorded in a slice is still there a millisecond before the same
// ring cell comes round again, and gone when it does — deposits, withdrawals and successes alike.
import { describe, expect, it } from 'vitest';
import type { BudgetPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { RetryBudget } from './retry-budget.js';

const policy = (p: Partial<BudgetPolicy> = {}): BudgetPolicy => ({
  enabled: true,
  ratio: 0.5,
  minPerSecond: 0,
  window: 10_000,
  ...p,
});

describe('RetryBudget: a window, to the millisecond', () => {
  it('deposits', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy(), clock);
    budget.deposit();
    budget.deposit();
    clock.advance(9_999);
    expect(budget.available()).toBe(1);
    clock.advance(1);
    expect(budget.available()).toBe(0);
  });

  it('withdrawals', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy(), clock);
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    clock.advance(5_000);
    for (let i = 0; i < 4; i++) budget.deposit();
    clock.advance(4_999);
    expect(budget.available()).toBe(3);
    clock.advance(1);
    // The first four deposits and the withdrawal are gone together: the later four remain.
    expect(budget.available()).toBe(2);
  });

  it('successes (the floor they earn)', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0, minPerSecond: 1 }), clock);
    // The starting credit (10) is in the first cell too: both go at the end of the first window.
    budget.succeeded();
    clock.advance(9_999);
    expect(budget.available()).toBe(10);
    clock.advance(1);
    expect(budget.available()).toBe(0);
    budget.succeeded();
    clock.advance(9_999);
    expect(budget.available()).toBe(1);
    clock.advance(1);
    expect(budget.available()).toBe(0);
  });

  it('a cell reused after several windows holds only the new slice', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy(), clock);
    for (let i = 0; i < 6; i++) budget.deposit();
    clock.advance(30_000);
    budget.deposit();
    budget.deposit();
    expect(budget.available()).toBe(1);
  });
});
