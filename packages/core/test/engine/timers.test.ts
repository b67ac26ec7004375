import { describe, expect, it } from 'vitest';
import {
  isAbortedError,
  isDeadlineExceededError,
  isOutcomeUnknownError,
  isRetriesExhaustedError,
} from '../../src/errors.js';
import { RetryExecutor } from '../../src/engine/retry-executor.js';
import { systemClock, type Clock, type TimerHandle } from '../../src/time/clock.js';
import { classify, FakeDriverError, FakeSource, retryPolicy } from './helpers.js';

/** Real timers that stay referenced, so process.getActiveResourcesInfo() sees any left behind. */
const refClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A clock (the unref'd system clock by default) counting timers that are neither fired nor cleared. */
function countingClock(inner: Clock = systemClock): Clock & { outstanding(): number } {
  const live = new Set<TimerHandle>();
  return {
    now: () => inner.now(),
    setTimeout(fn, ms) {
      const h = inner.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      inner.clearTimeout(h);
    },
    outstanding: () => live.size,
  };
}

// Other code (the test runner) may own timers too, hence `≤ before` plus the exact count of our own.
const activeTimeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function executor(clock: Clock, policy = retryPolicy()) {
  return new RetryExecutor<string>({
    target: 'db',
    system: 'fakedb',
    policy,
    classify,
    source: new FakeSource(),
    clock,
  });
}

const slow =
  (ms: number, value = 'ok') =>
  () =>
    new Promise<string>((r) => setTimeout(() => r(value), ms));

describe('real timers: nothing left behind', () => {
  it('a caller abort during a 30 s backoff wait returns within milliseconds and leaves no timer', async () => {
    const clock = countingClock();
    const policy = retryPolicy({
      deadline: 120_000,
      backoff: { type: 'fixed', base: 30_000, factor: 2, max: 30_000, jitter: 'none' },
    });
    let waiting: () => void = () => {};
    const retried = new Promise<void>((r) => (waiting = r));
    const ex = new RetryExecutor<string>({
      target: 'db',
      system: 'fakedb',
      policy,
      classify,
      source: new FakeSource(),
      clock,
      events: { retry: () => waiting() },
    });
    const controller = new AbortController();
    const result = ex
      .execute(() => Promise.reject(new FakeDriverError('connection')), {
        idempotent: true,
        signal: controller.signal,
      })
      .catch((e: unknown) => e);
    await retried;
    await new Promise((r) => setTimeout(r, 5)); // now inside the 30 s wait
    expect(clock.outstanding()).toBe(1);
    const t0 = performance.now();
    controller.abort(new Error('client went away'));
    const error = await result;
    const elapsed = performance.now() - t0;
    expect(isAbortedError(error)).toBe(true);
    expect(elapsed).toBeLessThan(50);
    expect(clock.outstanding()).toBe(0);
  });

  it('success leaves no timer (referenced timers, getActiveResourcesInfo)', async () => {
    const before = activeTimeouts();
    const clock = countingClock(refClock);
    await expect(executor(clock).execute(slow(5), { idempotent: true })).resolves.toBe('ok');
    expect(clock.outstanding()).toBe(0);
    expect(activeTimeouts()).toBeLessThanOrEqual(before);
  });

  it('failure after retries leaves no timer', async () => {
    const before = activeTimeouts();
    const clock = countingClock(refClock);
    const policy = retryPolicy({
      maxRetries: 2,
      backoff: { type: 'fixed', base: 5, factor: 2, max: 5, jitter: 'none' },
    });
    const error = await executor(clock, policy)
      .execute(() => Promise.reject(new FakeDriverError('connection')), { idempotent: true })
      .catch((e: unknown) => e);
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(clock.outstanding()).toBe(0);
    expect(activeTimeouts()).toBeLessThanOrEqual(before);
  });

  it('abort during an attempt leaves no timer', async () => {
    const before = activeTimeouts();
    const clock = countingClock(refClock);
    const controller = new AbortController();
    const p = executor(clock)
      .execute(() => new Promise<string>(() => {}), { idempotent: true, signal: controller.signal })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(isAbortedError(await p)).toBe(true);
    expect(clock.outstanding()).toBe(0);
    expect(activeTimeouts()).toBeLessThanOrEqual(before);
  });

  it('an operation that ignores its signal still settles at the attempt timeout', async () => {
    const before = activeTimeouts();
    const clock = countingClock(refClock);
    const policy = retryPolicy({ attemptTimeout: 50 });
    const t0 = performance.now();
    const error = await executor(clock, policy)
      .execute(() => new Promise<string>(() => {}))
      .catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(isOutcomeUnknownError(error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(500);
    expect(clock.outstanding()).toBe(0);
    expect(activeTimeouts()).toBeLessThanOrEqual(before);
  });

  it('no caller waits past the deadline, even with retries and a hung operation', async () => {
    const before = activeTimeouts();
    const clock = countingClock(refClock);
    const policy = retryPolicy({
      deadline: 100,
      attemptTimeout: 40,
      backoff: { type: 'fixed', base: 10, factor: 2, max: 10, jitter: 'none' },
      maxRetries: 100,
    });
    const t0 = performance.now();
    const error = await executor(clock, policy)
      .execute(() => new Promise<string>(() => {}), { idempotent: true })
      .catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(elapsed).toBeLessThan(300);
    expect(clock.outstanding()).toBe(0);
    expect(activeTimeouts()).toBeLessThanOrEqual(before);
  });
});
