// What changes nothing costs nothing: on a healthy closed breaker a success and a reset, a release anywhere but
// half-open and a passing probe anywhere but open, read no clock, emit no stateChange and return no change.
import { describe, expect, it } from 'vitest';
import { breakerPolicy } from '../../../test/engine/helpers.js';
import type { Clock } from '../../time/clock.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { CircuitBreaker } from './circuit-breaker.js';

function setup(): {
  breaker: CircuitBreaker;
  reads: () => number;
  changes: string[];
  advance(ms: number): void;
} {
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
  const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 2, openFor: 1000 }), clock);
  const changes: string[] = [];
  breaker.on('stateChange', (e) => changes.push(`${e.from}>${e.to}`));
  return { breaker, reads: () => reads, changes, advance: (ms) => fake.advance(ms) };
}

describe('CircuitBreaker: calls that change nothing', () => {
  it('a success on a healthy closed breaker reads no clock', () => {
    const { breaker, reads, changes } = setup();
    expect(breaker.success()).toBeUndefined();
    expect(reads()).toBe(0);
    expect(changes).toEqual([]);
  });

  it('a reset of a healthy closed breaker reads no clock', () => {
    const { breaker, reads, changes } = setup();
    expect(breaker.reset()).toBeUndefined();
    expect(reads()).toBe(0);
    expect(changes).toEqual([]);
  });

  it('a release on a closed or open breaker reads no clock and changes nothing', () => {
    const { breaker, reads, changes } = setup();
    breaker.release();
    expect(reads()).toBe(0);
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('open');
    const before = reads();
    breaker.release();
    expect(reads()).toBe(before);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed>open']);
  });

  it('a passing probe on a closed or half-open breaker reads no clock and changes nothing', () => {
    const { breaker, reads, changes, advance } = setup();
    expect(breaker.probeSucceeded(0)).toBeUndefined();
    expect(reads()).toBe(0);
    breaker.failure();
    breaker.failure();
    advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    const before = reads();
    expect(breaker.probeSucceeded(0)).toBeUndefined();
    expect(reads()).toBe(before);
    expect(breaker.snapshot).toEqual({ kind: 'half-open', inFlight: 1, successes: 0, openMs: 1000 });
    expect(changes).toEqual(['closed>open', 'open>half-open']);
  });

  it('a release on a half-open breaker frees its trial slot', () => {
    const { breaker, advance } = setup();
    breaker.failure();
    breaker.failure();
    advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release();
    expect(breaker.snapshot).toEqual({ kind: 'half-open', inFlight: 0, successes: 0, openMs: 1000 });
  });

  it('a success or a reset after a counted failure does change it back', () => {
    const { breaker } = setup();
    breaker.failure();
    expect(breaker.snapshot).toMatchObject({ kind: 'closed', consecutive: 1 });
    expect(breaker.success()).toBeUndefined(); // closed → closed: no state change, but the count is reset
    expect(breaker.snapshot).toMatchObject({ kind: 'closed', consecutive: 0 });
    breaker.failure();
    breaker.reset();
    expect(breaker.snapshot).toMatchObject({ kind: 'closed', consecutive: 0 });
  });
});
