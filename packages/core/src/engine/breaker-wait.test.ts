import { describe, expect, it } from 'vitest';
import { AbortedError, BreakerOpenError } from '../errors.js';
import { createFakeClock } from '../time/fake-clock.js';
import {
  breakerPolicy,
  FakeDriverError,
  retryPolicy,
  testExecutor,
  track,
} from '../../test/engine/helpers.js';
import { HALF_OPEN_RECHECK_MS } from './breaker-wait.js';
import { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { AttemptContext } from './types.js';

// A retry the open breaker refuses, of an operation that may already have run (an idempotent read or a keyed write
// whose attempt timed out): it waits for the breaker's trial within its deadline instead of ending `unknown`.
// Measured in the fault matrix: a MariaDB table locked for 3 s opened preset:mysql's breaker and keyed writes whose
// first attempt had timed out gave up as `unknown`, though a retry a second later would have settled them.

/** An operation failing with `errors` in turn, then returning 'ok'; records when each attempt ran. */
function scripted(clock: { now(): number }, ...errors: unknown[]) {
  const at: number[] = [];
  const op = async (_client: string, _ctx: AttemptContext): Promise<string> => {
    at.push(clock.now());
    const error = errors[at.length - 1];
    await Promise.resolve();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { op, at };
}

function setup(deadline = 10_000) {
  const clock = createFakeClock();
  const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 30_000 }), clock);
  const t = testExecutor({ breaker, clock, policy: retryPolicy({ deadline }) });
  return { ...t, breaker };
}

const timedOut = () => new FakeDriverError('timeout'); // sent: unknown — it may have run

describe('a retry refused by an open breaker, of an operation that may have run', () => {
  it('waits for the trial (1 s after the breaker opened) and runs as the trial call; its success closes the breaker', async () => {
    const { executor, clock, breaker } = setup();
    const { op, at } = scripted(clock, timedOut());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(100); // the backoff: the breaker is open, the retry waits
    expect(breaker.state).toBe('open');
    expect(result.done).toBe(false);
    await clock.advanceAsync(899);
    expect(at).toEqual([0]);
    await clock.advanceAsync(1);
    expect(result.value).toBe('ok');
    expect(at).toEqual([0, 1000]);
    expect(breaker.state).toBe('closed');
  });

  it('with the trial calls taken (half-open), asks again every HALF_OPEN_RECHECK_MS and goes once the breaker closes', async () => {
    const { executor, clock, breaker } = setup();
    const { op, at } = scripted(clock, timedOut());
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(500);
    // A passing probe turns the breaker half-open early, and another call takes its one trial slot (still running).
    breaker.probeSucceeded(400);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    await clock.advanceAsync(501); // past the opening's end, when the retry asks
    expect(at).toEqual([0]);
    await clock.advanceAsync(HALF_OPEN_RECHECK_MS * 3);
    expect(at).toEqual([0]); // still refused: the slot is taken
    breaker.success(); // the other trial succeeded: closed
    await clock.advanceAsync(HALF_OPEN_RECHECK_MS);
    expect(result.value).toBe('ok');
    expect(at).toHaveLength(2);
    expect(at[1]! - 1000).toBeLessThanOrEqual(HALF_OPEN_RECHECK_MS * 5);
  });

  it('gives up at once, as before, when the trial comes after its deadline: BreakerOpenError, outcome unknown, the driver error as cause', async () => {
    const { executor, clock, giveUps } = setup(800);
    const err = timedOut();
    const { op, at } = scripted(clock, err);
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(100);
    expect(result.error).toBeInstanceOf(BreakerOpenError);
    expect((result.error as BreakerOpenError).outcome).toBe('unknown');
    expect((result.error as BreakerOpenError).cause).toBe(err);
    expect(at).toEqual([0]);
    expect(giveUps.at(-1)).toMatchObject({ reason: 'breaker_open', attempt: 1 });
  });

  it('the caller can abort it while it waits: AbortedError, no second attempt', async () => {
    const { executor, clock } = setup();
    const { op, at } = scripted(clock, timedOut());
    const ac = new AbortController();
    const result = track(executor.execute(op, { idempotent: true, signal: ac.signal }));
    await clock.advanceAsync(300);
    ac.abort(new Error('shutting down'));
    await clock.advanceAsync(0);
    expect(result.error).toBeInstanceOf(AbortedError);
    await clock.advanceAsync(2000);
    expect(at).toEqual([0]);
  });

  it('an operation that sent nothing is refused at once (shedding it is the breaker’s point)', async () => {
    const { executor, clock } = setup();
    const { op, at } = scripted(clock, new FakeDriverError('timeout', { sent: false }));
    const result = track(executor.execute(op, { idempotent: true }));
    await clock.advanceAsync(100);
    expect(result.error).toBeInstanceOf(BreakerOpenError);
    expect((result.error as BreakerOpenError).outcome).toBe('not_sent');
    expect(at).toEqual([0]);
  });

  it('a write without idempotency is not retried at all (outcome unknown at once), breaker or not', async () => {
    const { executor, clock } = setup();
    const { op, at } = scripted(clock, timedOut());
    const result = track(executor.execute(op));
    await clock.advanceAsync(2000);
    expect((result.error as { outcome?: string }).outcome).toBe('unknown');
    expect(at).toEqual([0]);
  });
});
