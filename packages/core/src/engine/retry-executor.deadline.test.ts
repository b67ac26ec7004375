// The deadline's edge: a wait that would end exactly at the deadline is not started (the next attempt would have
// no time left), for server failures and for local ones alike; local failures in a row wait the backoff of their
// own count (1st at once, then retry 1, 2, … of the backoff), and a zero wait sets no timer.
import { describe, expect, it } from 'vitest';
import { isDeadlineExceededError } from '../errors.js';
import { FakeDriverError, flush, retryPolicy, track, testExecutor } from '../../test/engine/helpers.js';

const setup = testExecutor;

/** An operation failing with a fresh `make()` error every time; counts its calls and when they ran. */
function failing(make: () => unknown, now: () => number) {
  const at: number[] = [];
  const op = async (): Promise<string> => {
    at.push(now());
    await Promise.resolve();
    throw make();
  };
  return { op, at };
}

const poolClosed = () => new FakeDriverError('connection', { sent: false, local: true }, 'Pool is closed.');

describe('RetryExecutor: a wait ending exactly at the deadline', () => {
  it('after a server failure: gives up at once, the wait not started', async () => {
    const { executor, clock, giveUps } = setup({
      policy: retryPolicy({
        deadline: 1000,
        backoff: { type: 'fixed', base: 1000, factor: 2, max: 1000, jitter: 'none' },
      }),
    });
    const { op, at } = failing(
      () => new FakeDriverError('connection'),
      () => clock.now(),
    );
    const result = track(executor.execute(op, { idempotent: true }));
    await flush();
    expect(result.done).toBe(true);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect(at).toEqual([0]);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['deadline', 1]]);
    expect(clock.pending()).toBe(0);
  });

  it('a wait ending 1 ms before the deadline is waited, and the next attempt runs', async () => {
    const { executor, clock } = setup({
      policy: retryPolicy({
        deadline: 1000,
        backoff: { type: 'fixed', base: 999, factor: 2, max: 999, jitter: 'none' },
        maxRetries: 1,
      }),
    });
    const { op, at } = failing(
      () => new FakeDriverError('connection'),
      () => clock.now(),
    );
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(999);
    await flush();
    expect(at).toEqual([0, 999]);
    expect(result.done).toBe(true);
  });
});

describe('RetryExecutor: local failures in a row and the deadline', () => {
  const linear = { type: 'linear' as const, base: 100, factor: 2, max: 10_000, jitter: 'none' as const };

  it('wait 0, then the backoff of retry 1, 2, 3 …', async () => {
    const { executor, clock, retries } = setup({
      policy: retryPolicy({ backoff: linear, deadline: 10_000 }),
    });
    const { op } = failing(poolClosed, () => clock.now());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(600);
    expect(retries.map((r) => r.delayMs)).toEqual([0, 100, 200, 300, 400]);
    expect(retries.every((r) => r.reason === 'local')).toBe(true);
    expect(result.done).toBe(false);
  });

  it('give up at once when the next wait would end at or past the deadline', async () => {
    // Attempts at 0, 0, 100, 300, 600; after the fifth the wait of 400 ms would end at 1000, the deadline.
    const { executor, clock, giveUps } = setup({ policy: retryPolicy({ backoff: linear, deadline: 1000 }) });
    const { op, at } = failing(poolClosed, () => clock.now());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(599);
    expect(result.done).toBe(false);
    await clock.advanceAsync(1);
    await flush();
    expect(result.done).toBe(true);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect(at).toEqual([0, 0, 100, 300, 600]);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['deadline', 5]]);
    expect(clock.pending()).toBe(0);
  });

  it('the first local retry waits for no timer: the next attempt runs on the same tick of the clock', async () => {
    const { executor, clock } = setup();
    let calls = 0;
    const result = track(
      executor.execute(
        async () => {
          await Promise.resolve();
          if (++calls === 1) throw poolClosed();
          return 'ok';
        },
        { idempotent: true },
      ),
    );
    await flush();
    expect(result.value).toBe('ok');
    expect(calls).toBe(2);
    expect(clock.now()).toBe(0);
  });

  it('a zero delay after a server failure (custom delay 0) waits for no timer either', async () => {
    const { executor, clock, retries } = setup({ policy: retryPolicy({ delay: () => 0 }) });
    let calls = 0;
    const result = track(
      executor.execute(
        async () => {
          await Promise.resolve();
          if (++calls === 1) throw new FakeDriverError('connection');
          return 'ok';
        },
        { idempotent: true },
      ),
    );
    await flush();
    expect(result.value).toBe('ok');
    expect(retries.map((r) => [r.reason, r.delayMs])).toEqual([['retryable', 0]]);
    expect(clock.now()).toBe(0);
  });
});
