import { describe, expect, it } from 'vitest';
import type { BudgetPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { RetryBudget } from './retry-budget.js';

const policy = (p: Partial<BudgetPolicy> = {}): BudgetPolicy => ({
  enabled: true,
  ratio: 0.2,
  minPerSecond: 0,
  window: 10_000,
  ...p,
});

describe('RetryBudget', () => {
  it('counts a deposit in the slice of the clock reading it is handed (the executor saves a read)', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 1, minPerSecond: 0, window: 10_000 }), clock);
    expect(budget.clock).toBe(clock);
    clock.advance(9_500);
    budget.deposit(0); // taken at 0: ages out when the window has moved 10 s past 0, not past 9.5 s
    expect(budget.available()).toBe(1);
    clock.advance(500);
    expect(budget.available()).toBe(0);
  });

  it('allows retries up to ratio · operations in the window', () => {
    const budget = new RetryBudget(policy({ ratio: 0.2 }), createFakeClock());
    for (let i = 0; i < 50; i++) budget.deposit();
    let retries = 0;
    while (budget.tryWithdraw() && retries < 1000) retries++;
    expect(retries).toBe(10);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('keeps a floor of minPerSecond · window for a target that succeeds (10/s over 10 s = 100 at most)', () => {
    const budget = new RetryBudget(policy({ ratio: 0.2, minPerSecond: 10 }), createFakeClock());
    for (let i = 0; i < 500; i++) budget.succeeded();
    let retries = 0;
    while (budget.tryWithdraw() && retries < 1000) retries++;
    expect(retries).toBe(100);
  });

  it('a new budget starts with a little of its floor (10 retries), gone after a window', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0, minPerSecond: 10 }), clock);
    expect(budget.available()).toBe(10);
    clock.advance(10_000);
    expect(budget.available()).toBe(0);
    expect(new RetryBudget(policy({ ratio: 0, minPerSecond: 0.5 }), clock).available()).toBe(5);
  });

  it('the floor never exceeds the successes in the window: a quiet target earns a retry per success', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0.2, minPerSecond: 10 }), clock);
    clock.advance(10_000); // past the starting credit
    budget.deposit();
    budget.succeeded();
    budget.deposit();
    budget.succeeded();
    budget.deposit();
    let retries = 0;
    while (budget.tryWithdraw() && retries < 1000) retries++;
    expect(retries).toBe(2); // 2 successes + 3 · 0.2 = 2.6
  });

  it('a total outage earns no floor: retries stop at ratio · operations, at any rate (no fleet amplification)', () => {
    for (const perSecond of [0.1, 1, 10, 100, 1000]) {
      const clock = createFakeClock();
      const budget = new RetryBudget(policy({ ratio: 0.1, minPerSecond: 10, window: 10_000 }), clock);
      clock.advance(10_000); // an established target: its starting credit is gone
      // A minute of operations that all fail, each wanting 3 retries (the default maxRetries).
      let operations = 0;
      let retries = 0;
      for (let t = 10_000; t < 70_000; t += 1000 / perSecond) {
        clock.advance(t - clock.now());
        budget.deposit();
        operations++;
        for (let r = 0; r < 3 && budget.tryWithdraw(); r++) retries++;
      }
      expect((operations + retries) / operations, `${perSecond} op/s`).toBeLessThanOrEqual(1.1);
    }
  });

  it('forgets deposits and withdrawals older than the window', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0.5 }), clock);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.available()).toBe(5);
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);

    clock.advance(5_000);
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.available()).toBe(2); // (10 + 4) · 0.5 − 5

    clock.advance(5_000); // the first 10 deposits and 5 withdrawals age out
    expect(budget.available()).toBe(2); // 4 · 0.5
    clock.advance(5_000);
    expect(budget.available()).toBe(0);
  });

  it('forgets a slice skipped over by a jump of a window and a half (not only whole windows)', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0.5, minPerSecond: 0, window: 10_000 }), clock);
    for (let i = 0; i < 100; i++) budget.deposit(); // slice 0
    clock.advance(3_000);
    for (let i = 0; i < 10; i++) budget.deposit(); // slice 3
    expect(budget.available()).toBe(55);
    // 15.5 s: slice 15 lands in slice 5's cell; slices 0 and 3 are more than a window old and were skipped over.
    clock.advance(12_500);
    expect(budget.available()).toBe(0);
    // 12.9 s after slice 3 began is still more than a window: nothing comes back on a later read either.
    clock.advance(400);
    expect(budget.available()).toBe(0);
  });

  it('keeps a slice that is less than a window old after a jump that skips cells', () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(policy({ ratio: 0.5, minPerSecond: 0, window: 10_000 }), clock);
    clock.advance(7_000);
    for (let i = 0; i < 10; i++) budget.deposit(); // slice 7
    clock.advance(9_500); // 16.5 s: slice 16; slice 7 is 9 slices back, still inside the window
    expect(budget.available()).toBe(5);
    clock.advance(1_000); // 17.5 s: slice 17; slice 7 is now a window old
    expect(budget.available()).toBe(0);
  });

  it('survives long idle gaps and a clock far from zero', () => {
    const clock = createFakeClock(1e12);
    const budget = new RetryBudget(policy({ ratio: 1 }), clock);
    budget.deposit();
    clock.advance(1e9);
    budget.deposit();
    expect(budget.available()).toBe(1);
  });
});
