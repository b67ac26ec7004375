// The details of a give-up and of what the executor asks: the source's own "why unavailable" replaces only a
// deadline error with nothing sent; a BreakerOpenError says when trial calls resume (rounded up, from now), and
// nothing when the breaker is half-open and full; retryIf's elapsedMs counts from the operation's start; a budget
// on a clock of its own reads that clock; a closed breaker costs no question to the source; and a source that
// throws where it is asked whether it is connected, or a clock that throws when a timer is set (bugs), gets its
// error back as it is.
import { describe, expect, it } from 'vitest';
import {
  BreakerOpenError,
  NotConnectedError,
  isDeadlineExceededError,
  isRetriesExhaustedError,
} from '../errors.js';
import type { Clock } from '../time/clock.js';
import { createFakeClock, type FakeClock } from '../time/fake-clock.js';
import {
  breakerPolicy,
  budgetPolicy,
  classify,
  FakeDriverError,
  FakeSource,
  flush,
  retryPolicy,
  track,
  testExecutor,
} from '../../test/engine/helpers.js';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { RetryBudget } from './budget/retry-budget.js';
import { RetryExecutor, type RetryExecutorOptions } from './retry-executor.js';

const executor = (
  clock: FakeClock,
  over: Partial<RetryExecutorOptions<string>> = {},
): RetryExecutor<string> => testExecutor({ clock, ...over }).executor;

/** A source that knows why no client comes (a target that never connected). */
class NeverConnected extends FakeSource {
  readonly why = new Error('never connected: ECONNREFUSED');
  unavailable(): Error {
    return this.why;
  }
}

describe("RetryExecutor: the source's unavailable()", () => {
  it('replaces the deadline error when nothing was sent', async () => {
    const clock = createFakeClock();
    const source = new NeverConnected();
    source.acquireErrors = Array.from({ length: 10 }, () => new NotConnectedError());
    const run = executor(clock, { source, policy: retryPolicy({ deadline: 250, maxRetries: 10 }) });
    const result = track(run.execute(() => 'ok'));
    await clock.advanceAsync(300);
    expect(result.error).toBe(source.why);
  });

  it('not another give-up with nothing sent (retries exhausted)', async () => {
    const clock = createFakeClock();
    const source = new NeverConnected();
    source.acquireErrors = Array.from({ length: 10 }, () => new NotConnectedError());
    const run = executor(clock, { source, policy: retryPolicy({ maxRetries: 1 }) });
    const result = track(run.execute(() => 'ok'));
    await clock.advanceAsync(1000);
    expect(isRetriesExhaustedError(result.error)).toBe(true);
  });

  it('not a deadline after an attempt that may have been sent', async () => {
    const clock = createFakeClock();
    const source = new NeverConnected();
    const run = executor(clock, { source, policy: retryPolicy({ deadline: 50 }) });
    const result = track(
      run.execute(() => Promise.reject(new FakeDriverError('connection')), { idempotent: true }),
    );
    await clock.advanceAsync(100);
    expect(isDeadlineExceededError(result.error)).toBe(true);
  });
});

describe('RetryExecutor: a BreakerOpenError says when trial calls resume', () => {
  it('the rest of openFor from now, rounded up', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 1000 }), clock);
    breaker.failure();
    clock.advance(399.5);
    const error = await executor(clock, { breaker })
      .execute(() => 'ok')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect((error as Error).message).toBe('Circuit breaker of target "db" is open (trial calls in 601 ms)');
  });

  it('no time when half-open with every trial slot taken', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(
      breakerPolicy({ failureThreshold: 1, openFor: 1000, halfOpenMaxCalls: 1 }),
      clock,
    );
    breaker.failure();
    clock.advance(1000);
    const run = executor(clock, { breaker });
    const trial = track(run.execute(() => new Promise<string>(() => {}), { idempotent: true }));
    await flush();
    expect(breaker.state).toBe('half-open');
    const error = await run.execute(() => 'ok').catch((e: unknown) => e);
    expect((error as Error).message).toBe('Circuit breaker of target "db" is open');
    expect(trial.done).toBe(false);
  });
});

describe('RetryExecutor: what retryIf and the budget are told', () => {
  it("retryIf's elapsedMs counts from the operation's start, whatever the clock read before", async () => {
    const clock = createFakeClock();
    clock.advance(5000);
    const elapsed: number[] = [];
    const run = executor(clock, {
      policy: retryPolicy({
        retryIf: (_e, ctx) => {
          elapsed.push(ctx.elapsedMs);
          return false;
        },
      }),
    });
    const result = track(
      run.execute(
        () =>
          new Promise<string>((_resolve, reject) => {
            clock.setTimeout(() => reject(new FakeDriverError('connection')), 30);
          }),
        { idempotent: true },
      ),
    );
    await clock.advanceAsync(30);
    await flush();
    expect(result.done).toBe(true);
    expect(elapsed).toEqual([30]);
  });

  it('a budget on a clock of its own counts the operation in its own window', async () => {
    const clock = createFakeClock();
    const budgetClock = createFakeClock();
    budgetClock.advance(1_000_000);
    const budget = new RetryBudget(budgetPolicy({ ratio: 0.5, minPerSecond: 0 }), budgetClock);
    expect(budget.available()).toBe(0);
    await executor(clock, { budget }).execute(() => 'ok');
    expect(budget.available()).toBe(0.5);
  });
});

describe('RetryExecutor: the source and the breaker', () => {
  class Watched extends FakeSource {
    asked = 0;
    constructor(readonly answer: () => boolean) {
      super();
    }
    connected(): boolean {
      this.asked++;
      return this.answer();
    }
  }

  it('a closed breaker: the source is not asked whether it is connected', async () => {
    const clock = createFakeClock();
    const source = new Watched(() => true);
    const breaker = new CircuitBreaker(breakerPolicy(), clock);
    await expect(executor(clock, { breaker, source }).execute(() => 'ok')).resolves.toBe('ok');
    expect(source.asked).toBe(0);
  });

  it('a source that throws when asked (a bug): its error comes back as it is', async () => {
    const clock = createFakeClock();
    const bug = new Error('connected() is broken');
    const source = new Watched(() => {
      throw bug;
    });
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    breaker.failure();
    let calls = 0;
    const error = await executor(clock, { breaker, source })
      .execute(() => ++calls)
      .catch((e: unknown) => e);
    expect(error).toBe(bug);
    expect(source.asked).toBe(1);
    expect(calls).toBe(0);
  });
});

describe('RetryExecutor: a broken clock', () => {
  it('one that throws when the backoff timer is set (a bug): its error comes back as it is, not as an abort', async () => {
    const fake = createFakeClock();
    const bug = new Error('setTimeout is broken');
    const clock: Clock = {
      now: () => fake.now(),
      setTimeout: () => {
        throw bug;
      },
      clearTimeout: () => {},
    };
    // No attempt timeout and no deadline: the backoff wait is the first timer asked for.
    const run = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy: retryPolicy({ attemptTimeout: 0, deadline: 0 }),
      classify,
      source: new FakeSource(),
      clock,
    });
    let calls = 0;
    const error = await run
      .execute(
        () => {
          calls++;
          return Promise.reject(new FakeDriverError('connection'));
        },
        { idempotent: true },
      )
      .catch((e: unknown) => e);
    expect(error).toBe(bug);
    expect(calls).toBe(1);
  });
});
