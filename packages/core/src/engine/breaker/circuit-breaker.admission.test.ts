// Who gets through: a closed breaker admits every call without reading the clock (the hot path), admitted() tells
// a trial call let in from one refused, and retryAt is a time only while the breaker is open.
import { describe, expect, it } from 'vitest';
import { breakerPolicy } from '../../../test/engine/helpers.js';
import { createFakeClock } from '../../time/fake-clock.js';
import type { Clock } from '../../time/clock.js';
import { admitted, closedState, type BreakerState } from './breaker-state.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** A fake clock that counts how often it is read. */
function countingClock(): { clock: Clock; advance(ms: number): void; reads(): number } {
  const fake = createFakeClock();
  let reads = 0;
  const clock: Clock = {
    now: () => {
      reads++;
      return fake.now();
    },
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (h) => fake.clearTimeout(h),
  };
  return { clock, advance: (ms) => fake.advance(ms), reads: () => reads };
}

describe('CircuitBreaker admission', () => {
  it('a closed breaker admits without reading the clock, even with failures counted', () => {
    const time = countingClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 3 }), time.clock);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    const before = time.reads();
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(time.reads()).toBe(before);
    expect(breaker.state).toBe('closed');
  });

  it('retryAt is when an open breaker admits a trial, and undefined when closed or half-open', () => {
    const time = countingClock();
    const breaker = new CircuitBreaker(breakerPolicy({ halfOpenMaxCalls: 2 }), time.clock);
    expect(breaker.retryAt).toBeUndefined();
    time.advance(250);
    breaker.failure();
    breaker.failure();
    expect(breaker.retryAt).toBe(1250);
    time.advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.retryAt).toBeUndefined();
  });
});

describe('admitted', () => {
  const halfOpen = (inFlight: number): BreakerState => ({
    kind: 'half-open',
    inFlight,
    successes: 0,
    openMs: 1000,
  });

  it('a closed breaker after the admit: let through', () => {
    expect(admitted(closedState, closedState)).toBe(true);
    expect(admitted({ kind: 'closed', consecutive: 2, buckets: [] }, closedState)).toBe(true);
  });

  it('still open after the admit: refused', () => {
    expect(
      admitted({ kind: 'open', openedAt: 0, openMs: 1000 }, { kind: 'open', openedAt: 0, openMs: 1000 }),
    ).toBe(false);
  });

  it('open turned half-open: the first trial call, let through', () => {
    expect(admitted({ kind: 'open', openedAt: 0, openMs: 1000 }, halfOpen(1))).toBe(true);
  });

  it('half-open: let through only when the admit took one more slot', () => {
    expect(admitted(halfOpen(1), halfOpen(2))).toBe(true);
    expect(admitted(halfOpen(2), halfOpen(2))).toBe(false);
  });
});
