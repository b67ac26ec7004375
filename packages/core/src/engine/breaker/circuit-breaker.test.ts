import { describe, expect, it } from 'vitest';
import type { BreakerStateChangeEvent } from '../events.js';
import { breakerPolicy } from '../../../test/engine/helpers.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { CircuitBreaker } from './circuit-breaker.js';

const policy = breakerPolicy();

describe('CircuitBreaker', () => {
  it('walks closed → open → half-open → closed with stateChange events and no timers', () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(policy, clock);
    const changes: BreakerStateChangeEvent[] = [];
    breaker.on('stateChange', (e) => changes.push(e));

    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.failure()).toBeUndefined();
    expect(breaker.failure()).toMatchObject({ from: 'closed', to: 'open' });
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(1000);
    expect(breaker.tryAcquire()).toBe(false);

    clock.advance(1000);
    expect(breaker.tryAcquire()).toBe(true); // the one trial call
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.success()).toMatchObject({ from: 'half-open', to: 'closed' });
    expect(breaker.tryAcquire()).toBe(true);

    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>closed',
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('a failed trial call reopens it for another openFor', () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(policy, clock);
    breaker.failure();
    breaker.failure();
    clock.advance(1500);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(2500);
    clock.advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('release() frees a half-open slot for an aborted trial call', () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(policy, clock);
    breaker.failure();
    breaker.failure();
    clock.advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });
});
