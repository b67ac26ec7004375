// A budget on the executor's own clock is handed the reading the executor took at the operation's start, for the
// deposit and for the success alike (one clock read saved on every operation): a success is counted in the slice
// the operation started in, and ages out with it.
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../time/fake-clock.js';
import { budgetPolicy, classify, FakeSource, retryPolicy, track } from '../../test/engine/helpers.js';
import { RetryBudget } from './budget/retry-budget.js';
import { RetryExecutor } from './retry-executor.js';

describe('RetryExecutor: a budget on the same clock', () => {
  it("counts a success in the slice of the operation's start, not of its end", async () => {
    const clock = createFakeClock();
    // No ratio: only the floor earned by successes (1/s over 10 s, 10 at most) allows retries.
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 1, window: 10_000 }), clock);
    const executor = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy: retryPolicy(),
      classify,
      source: new FakeSource(),
      clock,
      budget,
    });
    clock.advance(19_500); // the starting credit has aged out
    expect(budget.available()).toBe(0);
    // Starts at 19.5 s (slice 19), succeeds at 20.5 s (slice 20).
    const result = track(
      executor.execute(() => new Promise<string>((resolve) => clock.setTimeout(() => resolve('ok'), 1000))),
    );
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(budget.available()).toBe(1);
    // Slice 19 leaves the window at 29 s; slice 20 would stay until 30 s.
    clock.advance(8_499);
    expect(budget.available()).toBe(1);
    clock.advance(1);
    expect(budget.available()).toBe(0);
  });
});
