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

/** The real (unref'd) system clock, counting timers that are neither fired nor cleared. */
function countingClock(): Clock & { outstanding(): number } {
  const live = new Set<TimerHandle>();
  return {
    now: systemClock.now,
    setTimeout(fn, ms) {
      const h = systemClock.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      systemClock.clearTimeout(h);
    },
    outstanding: () => live.size,
  };
}

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
    await expect(executor(refClock).execute(slow(5), { idempotent: true })).resolves.toBe('ok');
    expect(activeTimeouts()).toBe(before);
  });

  it('failure after retries leaves no timer', async () => {
    const before = activeTimeouts();
    const policy = retryPolicy({
      maxRetries: 2,
      backoff: { type: 'fixed', base: 5, factor: 2, max: 5, jitter: 'none' },
    });
    const error = await executor(refClock, policy)
      .execute(() => Promise.reject(new FakeDriverError('connection')), { idempotent: true })
      .catch((e: unknown) => e);
    expect(isRetriesExhaustedError(error)).toBe(true);
    expect(activeTimeouts()).toBe(before);
  });

  it('abort during an attempt leaves no timer', async () => {
    const before = activeTimeouts();
    const controller = new AbortController();
    const p = executor(refClock)
      .execute(() => new Promise<string>(() => {}), { idempotent: true, signal: controller.signal })
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(isAbortedError(await p)).toBe(true);
    expect(activeTimeouts()).toBe(before);
  });

  it('an operation that ignores its signal still settles at the attempt timeout', async () => {
    const before = activeTimeouts();
    const policy = retryPolicy({ attemptTimeout: 50 });
    const t0 = performance.now();
    const error = await executor(refClock, policy)
      .execute(() => new Promise<string>(() => {}))
      .catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(isOutcomeUnknownError(error)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(500);
    expect(activeTimeouts()).toBe(before);
  });

  it('no caller waits past the deadline, even with retries and a hung operation', async () => {
    const before = activeTimeouts();
    const policy = retryPolicy({
      deadline: 100,
      attemptTimeout: 40,
      backoff: { type: 'fixed', base: 10, factor: 2, max: 10, jitter: 'none' },
      maxRetries: 100,
    });
    const t0 = performance.now();
    const error = await executor(refClock, policy)
      .execute(() => new Promise<string>(() => {}), { idempotent: true })
      .catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(elapsed).toBeLessThan(300);
    expect(activeTimeouts()).toBe(before);
  });
});
