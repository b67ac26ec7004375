import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../time/fake-clock.js';
import { closedState, transition, type BreakerState } from './breaker-state.js';
import { CircuitBreaker } from './circuit-breaker.js';

// A passing health probe while the breaker has been open for a probe interval: the server answers, so the trial
// call goes now rather than at the end of the opening (measured in the fault matrix: a table locked for 3 s opened preset:mysql's breaker, and
// every operation failed fast for 30 s after the lock was released, though every probe passed).
const policy = {
  enabled: true,
  mode: 'consecutive' as const,
  failureThreshold: 2,
  failureRate: 0.5,
  window: 30_000,
  minimumCalls: 20,
  openFor: 30_000,
  halfOpenMaxCalls: 1,
};

describe('breaker transition: probeOk', () => {
  it('turns a breaker open for at least minOpenMs half-open with no call in flight; changes nothing otherwise', () => {
    const open: BreakerState = { kind: 'open', openedAt: 5, openMs: 8000 };
    const probe = (at: number) => ({ type: 'probeOk' as const, at, minOpenMs: 1000 });
    expect(transition(open, probe(1005), policy)).toEqual({
      kind: 'half-open',
      inFlight: 0,
      successes: 0,
      openMs: 8000,
    });
    // The probe the opening itself asked for comes at once: too soon, the breaker stays open.
    expect(transition(open, probe(1004), policy)).toBe(open);
    expect(transition(closedState, probe(6), policy)).toBe(closedState);
    const counting: BreakerState = { kind: 'closed', consecutive: 1, buckets: [] };
    expect(transition(counting, probe(6), policy)).toBe(counting);
    const trial: BreakerState = { kind: 'half-open', inFlight: 1, successes: 0, openMs: 1000 };
    expect(transition(trial, probe(6), policy)).toBe(trial);
  });
});

describe('CircuitBreaker.probeSucceeded', () => {
  it('an open breaker admits one trial call at once; its success closes it, its failure opens it for twice as long', () => {
    const clock = createFakeClock(0);
    const b = new CircuitBreaker(policy, clock);
    b.failure();
    b.failure();
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(1000); // the first opening: 1 s
    expect(b.probeSucceeded(400)).toBeUndefined(); // at once: not yet a probe interval
    clock.advance(400);
    expect(b.tryAcquire()).toBe(false); // the opening (1 s) is not over
    expect(b.probeSucceeded(400)).toMatchObject({ from: 'open', to: 'half-open' });
    expect(b.tryAcquire()).toBe(true); // the trial call
    expect(b.tryAcquire()).toBe(false); // one at a time
    b.failure();
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(400 + 2000); // the failed trial doubled the opening
    expect(b.probeSucceeded(400)).toBeUndefined(); // a trial every probe interval, no faster
    clock.advance(400);
    expect(b.probeSucceeded(400)).toMatchObject({ to: 'half-open' });
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
  });

  it('on a closed or half-open breaker it does nothing and says nothing', () => {
    const b = new CircuitBreaker(policy, createFakeClock(0));
    const changes: unknown[] = [];
    b.on('stateChange', (e) => changes.push(e));
    expect(b.probeSucceeded(0)).toBeUndefined();
    b.failure();
    expect(b.probeSucceeded(0)).toBeUndefined();
    b.failure();
    b.probeSucceeded(0);
    expect(b.probeSucceeded(0)).toBeUndefined(); // already half-open
    expect(changes).toHaveLength(2); // closed → open, open → half-open
  });
});
