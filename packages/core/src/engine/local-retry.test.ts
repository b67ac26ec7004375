// Failures the client itself caused before sending (Classification.local: its pool closing for a reconnect, a
// wait in its own queue) are not retries against the server (issue #29): no budget, no maxRetries, no breaker,
// no passive health — but the deadline and the caller's abort still rule, and a client that keeps failing so
// cannot spin.
import { describe, expect, it } from 'vitest';
import { isDeadlineExceededError, isRetriesExhaustedError } from '../errors.js';
import { createFakeClock } from '../time/fake-clock.js';
import {
  breakerPolicy,
  budgetPolicy,
  FakeDriverError,
  retryPolicy,
  track,
  testExecutor,
} from '../../test/engine/helpers.js';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import { RetryBudget } from './budget/retry-budget.js';

const poolClosed = () => new FakeDriverError('connection', { sent: false, local: true }, 'Pool is closed.');

const setup = testExecutor;

/** An operation failing with `errors` in turn, then returning 'ok'. */
function scripted(...errors: unknown[]) {
  let calls = 0;
  const op = async (): Promise<string> => {
    const error = errors[calls++];
    await Promise.resolve();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { op, calls: () => calls };
}

describe('local not-sent failures (transparent retries)', () => {
  it('are not charged to an exhausted retry budget: the operation goes on and succeeds', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
    const { executor, retries } = setup({ clock, budget });
    const { op, calls } = scripted(poolClosed(), poolClosed());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls()).toBe(3);
    expect(retries.map((r) => r.reason)).toEqual(['local', 'local']);
    // A server failure right after still finds the budget empty: nothing was deposited or withdrawn for them.
    const server = track(
      executor.execute(scripted(new FakeDriverError('connection')).op, { idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(server.error).toMatchObject({ code: 'ERR_BUDGET_EXHAUSTED' });
  });

  it('are not counted against maxRetries, and a non-idempotent write is retried (it was never sent)', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ maxRetries: 0 }) });
    const { op, calls } = scripted(poolClosed(), poolClosed(), poolClosed());
    const result = track(executor.execute(op, { idempotent: false }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(calls()).toBe(4);
  });

  it('a server failure after local ones is still judged by maxRetries counted on server attempts only', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ maxRetries: 1 }) });
    const server = () => new FakeDriverError('connection');
    const { op, calls } = scripted(poolClosed(), server(), poolClosed(), server(), server());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(5000);
    expect(isRetriesExhaustedError(result.error)).toBe(true);
    // local, server (retry 1 of 1), local, server: the second server failure exhausts maxRetries 1.
    expect(calls()).toBe(4);
  });

  it('the first goes at once, later ones in a row wait the backoff, and the deadline ends them', async () => {
    const { executor, clock, retries } = setup({ policy: retryPolicy({ deadline: 1000 }) });
    const forever = Array.from({ length: 1000 }, poolClosed);
    const { op, calls } = scripted(...forever);
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(0);
    expect(calls()).toBe(2); // the first local retry did not wait
    await clock.advanceAsync(2000);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    // 100 ms fixed backoff from the second one on: about ten attempts in the 1 s deadline, not a thousand.
    expect(calls()).toBeGreaterThan(5);
    expect(calls()).toBeLessThanOrEqual(12);
    expect(retries[0]!.delayMs).toBe(0);
    expect(retries[1]!.delayMs).toBe(100);
  });

  it('neither open the breaker nor reach passive health', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1 }), clock);
    const { executor, source } = setup({ clock, breaker });
    const { op } = scripted(poolClosed(), poolClosed());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.value).toBe('ok');
    expect(breaker.state).toBe('closed');
    // The FakeSource records every report; the target's source ignores local ones (lifecycle tests).
    expect(source.reports.filter((r) => !r.ok).every((r) => !r.ok && r.classification.local === true)).toBe(
      true,
    );
  });

  it('without sent: false a "local" mark is ignored: a failure that may have been sent is judged as usual', async () => {
    const { executor, clock } = setup({ policy: retryPolicy({ maxRetries: 0 }) });
    const maybeSent = new FakeDriverError('connection', { local: true });
    const result = track(executor.execute(scripted(maybeSent).op, { idempotent: false }));
    await clock.advanceAsync(1000);
    expect(result.error).toMatchObject({ code: 'ERR_OUTCOME_UNKNOWN' });
  });
});

describe('a local refusal of kind throttled: the client shedding load (its own queue full)', () => {
  const queueFull = () =>
    new FakeDriverError(
      'throttled',
      { sent: false, local: true, code: 'QUEUE_LIMIT' },
      'Queue limit reached.',
    );

  it('is not retried transparently: retryOn decides (not retried by default), and the caller gets it at once', async () => {
    const { executor, clock, retries } = setup();
    const refusal = queueFull();
    const { op, calls } = scripted(refusal);
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(0);
    expect(result.error).toBe(refusal);
    expect(calls()).toBe(1);
    expect(retries).toEqual([]);
  });

  it('when retryOn lists throttled it is a retry like any, charged to the budget', async () => {
    const clock = createFakeClock();
    const budget = new RetryBudget(budgetPolicy({ ratio: 0, minPerSecond: 0 }), clock);
    const policy = retryPolicy({ retryOn: { errors: ['throttled'], codes: [], statusCodes: [] } });
    const { executor } = setup({ clock, budget, policy });
    const result = track(executor.execute(scripted(queueFull()).op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(result.error).toMatchObject({ code: 'ERR_BUDGET_EXHAUSTED', outcome: 'not_sent' });
  });

  it('opens no breaker: a full queue of the client says nothing about the server', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 2 }), clock);
    const { executor } = setup({ clock, breaker });
    for (let i = 0; i < 5; i++) track(executor.execute(scripted(queueFull()).op, { idempotent: true }));
    await clock.advanceAsync(1000);
    expect(breaker.state).toBe('closed');
  });
});
