// The rate window, bucket by bucket: outcomes of one slice share a bucket, a bucket ages out exactly RATE_SLICES
// slices later (not one sooner, not one later), and only the buckets that aged out go. Also what a call that ends
// without a verdict (release) counts for in a closed breaker: nothing in consecutive mode, a call in rate mode.
import { describe, expect, it } from 'vitest';
import type { CircuitBreakerPolicy } from '../../policy/resolved.js';
import {
  closedState,
  RATE_SLICES,
  transition,
  type BreakerEvent,
  type BreakerState,
} from './breaker-state.js';

const policy = (p: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy => ({
  enabled: true,
  mode: 'rate',
  failureThreshold: 3,
  failureRate: 0.5,
  window: 1000, // slices of 100 ms
  minimumCalls: 100,
  openFor: 1000,
  halfOpenMaxCalls: 2,
  ...p,
});
const run = (
  p: CircuitBreakerPolicy,
  events: BreakerEvent[],
  from: BreakerState = closedState,
): BreakerState => events.reduce((s, e) => transition(s, e, p), from);
const ev = (type: Exclude<BreakerEvent['type'], 'probeOk'>, at: number): BreakerEvent => ({ type, at });
const bucketsOf = (s: BreakerState): unknown => (s.kind === 'closed' ? s.buckets : s.kind);

describe('breaker transition: the rate window', () => {
  it('keeps ten slices', () => expect(RATE_SLICES).toBe(10));

  it('counts outcomes of one slice in one bucket, a new slice in a new one', () => {
    const s = run(policy(), [ev('failure', 0), ev('success', 50), ev('failure', 99), ev('success', 100)]);
    expect(bucketsOf(s)).toEqual([
      { slice: 0, calls: 3, failures: 2 },
      { slice: 1, calls: 1, failures: 0 },
    ]);
  });

  it('keeps a bucket for ten slices, its own included, and drops it on the eleventh', () => {
    const p = policy();
    const first = run(p, [ev('failure', 0)]);
    expect(bucketsOf(transition(first, ev('success', 999), p))).toEqual([
      { slice: 0, calls: 1, failures: 1 },
      { slice: 9, calls: 1, failures: 0 },
    ]);
    expect(bucketsOf(transition(first, ev('success', 1000), p))).toEqual([
      { slice: 10, calls: 1, failures: 0 },
    ]);
  });

  it('drops only the buckets that aged out', () => {
    const p = policy();
    const s = run(p, [ev('failure', 0), ev('failure', 100), ev('success', 500), ev('failure', 1100)]);
    expect(bucketsOf(s)).toEqual([
      { slice: 5, calls: 1, failures: 0 },
      { slice: 11, calls: 1, failures: 1 },
    ]);
  });

  it('drops the aged-out buckets before it counts, so old failures trip nothing', () => {
    const p = policy({ minimumCalls: 3, failureRate: 0.5 });
    // Two failures at 0 ms (below minimumCalls), then a success 1 s later: the failures are gone.
    const s = run(p, [ev('failure', 0), ev('failure', 0), ev('success', 1000)]);
    expect(bucketsOf(s)).toEqual([{ slice: 10, calls: 1, failures: 0 }]);
    expect(transition(s, ev('failure', 1000), p).kind).toBe('closed');
    expect(transition(s, ev('failure', 999), p).kind).toBe('closed');
  });

  it('never opens on a success, however high the failure rate still is', () => {
    const p = policy({ minimumCalls: 3, failureRate: 0.5 });
    const s = run(p, [ev('failure', 0), ev('failure', 1)]);
    const after = transition(s, ev('success', 2), p);
    expect(after.kind).toBe('closed');
    expect(bucketsOf(after)).toEqual([{ slice: 0, calls: 3, failures: 2 }]);
    expect(transition(after, ev('failure', 3), p)).toEqual({ kind: 'open', openedAt: 3, openMs: 1000 });
  });
});

describe('breaker transition: a closed breaker and calls without a verdict', () => {
  it('consecutive: a release neither counts as a failure nor resets the count', () => {
    const p = policy({ mode: 'consecutive', failureThreshold: 2 });
    const one = run(p, [ev('failure', 0)]);
    expect(transition(one, ev('release', 1), p)).toBe(one);
    expect(run(p, [ev('release', 1), ev('release', 2), ev('release', 3)])).toBe(closedState);
    expect(run(p, [ev('release', 1), ev('failure', 2)], one)).toEqual({
      kind: 'open',
      openedAt: 2,
      openMs: 1000,
    });
  });

  it('rate: a release is not a call', () => {
    const p = policy();
    const s = run(p, [ev('failure', 0)]);
    expect(transition(s, ev('release', 1), p)).toBe(s);
    expect(transition(s, ev('admit', 1), p)).toBe(s);
  });

  it('consecutive: a success with nothing counted returns the same state, not the shared one', () => {
    const p = policy({ mode: 'consecutive' });
    const fresh: BreakerState = { kind: 'closed', consecutive: 0, buckets: [] };
    expect(transition(fresh, ev('success', 1), p)).toBe(fresh);
    expect(transition({ kind: 'closed', consecutive: 2, buckets: [] }, ev('success', 1), p)).toBe(
      closedState,
    );
  });
});

describe('breaker transition: open and half-open bookkeeping', () => {
  it('open: only an admit after openFor turns it half-open, not a late outcome', () => {
    const p = policy();
    const open: BreakerState = { kind: 'open', openedAt: 100, openMs: 1000 };
    for (const type of ['success', 'failure', 'release'] as const)
      expect(transition(open, ev(type, 5000), p), type).toBe(open);
  });

  it('half-open: a release frees one slot of several', () => {
    const p = policy({ halfOpenMaxCalls: 3 });
    const s: BreakerState = { kind: 'half-open', inFlight: 3, successes: 0, openMs: 1000 };
    expect(transition(s, ev('release', 1), p)).toEqual({
      kind: 'half-open',
      inFlight: 2,
      successes: 0,
      openMs: 1000,
    });
    const none: BreakerState = { kind: 'half-open', inFlight: 0, successes: 1, openMs: 1000 };
    expect(transition(none, ev('release', 1), p)).toEqual({
      kind: 'half-open',
      inFlight: 0,
      successes: 1,
      openMs: 1000,
    });
  });

  it('half-open: a success short of closing frees its slot and is counted', () => {
    const p = policy({ halfOpenMaxCalls: 3 });
    const s: BreakerState = { kind: 'half-open', inFlight: 3, successes: 0, openMs: 1000 };
    expect(transition(s, ev('success', 1), p)).toEqual({
      kind: 'half-open',
      inFlight: 2,
      successes: 1,
      openMs: 1000,
    });
    const empty: BreakerState = { kind: 'half-open', inFlight: 0, successes: 0, openMs: 1000 };
    expect(transition(empty, ev('success', 1), p)).toEqual({
      kind: 'half-open',
      inFlight: 0,
      successes: 1,
      openMs: 1000,
    });
  });
});
