import { describe, expect, it } from 'vitest';
import type { CircuitBreakerPolicy } from '../../policy/resolved.js';
import { closedState, transition, type BreakerEvent, type BreakerState } from './breaker-state.js';

const policy = (p: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy => ({
  enabled: true,
  mode: 'consecutive',
  failureThreshold: 3,
  failureRate: 0.5,
  window: 10_000,
  minimumCalls: 4,
  openFor: 1000,
  halfOpenMaxCalls: 2,
  ...p,
});

const run = (
  p: CircuitBreakerPolicy,
  events: BreakerEvent[],
  from: BreakerState = closedState,
): BreakerState => events.reduce((s, e) => transition(s, e, p), from);
const ev = (type: Exclude<BreakerEvent['type'], 'probeOk'>, at = 0): BreakerEvent => ({ type, at });

describe('breaker transition (pure, no timers)', () => {
  it('consecutive: opens after failureThreshold failures in a row; a success resets the count', () => {
    const p = policy();
    expect(run(p, [ev('failure'), ev('failure')]).kind).toBe('closed');
    expect(run(p, [ev('failure'), ev('failure'), ev('success'), ev('failure'), ev('failure')]).kind).toBe(
      'closed',
    );
    expect(run(p, [ev('failure'), ev('failure'), ev('failure', 42)])).toEqual({
      kind: 'open',
      openedAt: 42,
      openMs: 1000,
    });
  });

  it('a success on a healthy closed breaker returns the same object (no allocation)', () => {
    expect(transition(closedState, ev('success'), policy())).toBe(closedState);
    expect(transition(closedState, ev('admit'), policy())).toBe(closedState);
  });

  it('open refuses until openFor has passed, then admits one trial call as half-open', () => {
    const p = policy();
    const open: BreakerState = { kind: 'open', openedAt: 100, openMs: 1000 };
    expect(transition(open, ev('admit', 1099), p)).toBe(open);
    expect(transition(open, ev('admit', 1100), p)).toEqual({
      kind: 'half-open',
      inFlight: 1,
      successes: 0,
      openMs: 1000,
    });
    // Late outcomes of calls admitted before it opened change nothing.
    expect(transition(open, ev('success', 500), p)).toBe(open);
    expect(transition(open, ev('failure', 500), p)).toBe(open);
  });

  it('reset closes it from any state (the server was proven healthy out of band)', () => {
    const p = policy();
    expect(transition({ kind: 'open', openedAt: 100, openMs: 1000 }, ev('reset', 200), p)).toBe(closedState);
    expect(
      transition({ kind: 'half-open', inFlight: 1, successes: 0, openMs: 1000 }, ev('reset', 200), p),
    ).toBe(closedState);
    const counting: BreakerState = { kind: 'closed', consecutive: 2, buckets: [] };
    expect(transition(counting, ev('reset', 200), p)).toBe(closedState);
  });

  it('half-open admits at most halfOpenMaxCalls trials; all succeeding closes it', () => {
    const p = policy({ halfOpenMaxCalls: 2 });
    let s = run(p, [ev('admit', 2000)], { kind: 'open', openedAt: 0, openMs: 1000 });
    s = transition(s, ev('admit', 2000), p);
    expect(s).toEqual({ kind: 'half-open', inFlight: 2, successes: 0, openMs: 1000 });
    expect(transition(s, ev('admit', 2000), p)).toBe(s); // full: refused
    s = transition(s, ev('success', 2001), p);
    expect(s.kind).toBe('half-open');
    s = transition(s, ev('success', 2002), p);
    expect(s).toBe(closedState);
  });

  it('half-open: one failed trial opens it again from that moment', () => {
    const p = policy();
    const s = run(p, [ev('admit', 2000), ev('failure', 2500)], { kind: 'open', openedAt: 0, openMs: 1000 });
    // openFor (1 s here) caps the doubled opening.
    expect(s).toEqual({ kind: 'open', openedAt: 2500, openMs: 1000 });
  });

  it('half-open: release frees a trial slot without a verdict', () => {
    const p = policy({ halfOpenMaxCalls: 1 });
    const s = run(p, [ev('admit', 2000)], { kind: 'open', openedAt: 0, openMs: 1000 });
    expect(transition(s, ev('admit', 2000), p)).toBe(s);
    const freed = transition(s, ev('release', 2001), p);
    expect(freed).toEqual({ kind: 'half-open', inFlight: 0, successes: 0, openMs: 1000 });
    expect(transition(freed, ev('admit', 2002), p)).toEqual({
      kind: 'half-open',
      inFlight: 1,
      successes: 0,
      openMs: 1000,
    });
  });

  it('an opening from closed lasts 1 s; each failed trial doubles the next, up to openFor', () => {
    const p = policy({ failureThreshold: 1, halfOpenMaxCalls: 1, openFor: 30_000 });
    let s = transition(closedState, ev('failure', 0), p);
    expect(s).toEqual({ kind: 'open', openedAt: 0, openMs: 1000 });
    expect(transition(s, ev('admit', 999), p)).toBe(s);
    const lengths: number[] = [];
    let at = 0;
    for (let i = 0; i < 7; i++) {
      if (s.kind !== 'open') throw new Error(`expected open, got ${s.kind}`);
      lengths.push(s.openMs);
      at = s.openedAt + s.openMs;
      expect(transition(s, ev('admit', at - 1), p)).toBe(s); // refused until the opening has passed
      s = transition(s, ev('admit', at), p);
      expect(s.kind).toBe('half-open');
      s = transition(s, ev('failure', at + 10), p);
    }
    expect(lengths).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    // A trial that succeeds closes it; the next opening from closed is short again.
    if (s.kind !== 'open') throw new Error('expected open');
    s = transition(transition(s, ev('admit', s.openedAt + s.openMs), p), ev('success', at + 40_000), p);
    expect(s).toBe(closedState);
    expect(transition(s, ev('failure', at + 50_000), p)).toEqual({
      kind: 'open',
      openedAt: at + 50_000,
      openMs: 1000,
    });
  });

  it('an openFor shorter than 1 s is the opening from the start (and never doubles past it)', () => {
    const p = policy({ failureThreshold: 1, halfOpenMaxCalls: 1, openFor: 300 });
    const s = transition(closedState, ev('failure', 0), p);
    expect(s).toEqual({ kind: 'open', openedAt: 0, openMs: 300 });
    const again = transition(transition(s, ev('admit', 300), p), ev('failure', 310), p);
    expect(again).toEqual({ kind: 'open', openedAt: 310, openMs: 300 });
  });

  it('a rate-mode opening is as short as a consecutive one', () => {
    const p = policy({ mode: 'rate', failureRate: 0.5, minimumCalls: 2, openFor: 30_000 });
    expect(run(p, [ev('failure', 1), ev('failure', 2)])).toEqual({ kind: 'open', openedAt: 2, openMs: 1000 });
  });

  it('rate: opens when failures/calls ≥ failureRate once minimumCalls calls were seen', () => {
    const p = policy({ mode: 'rate', failureRate: 0.5, minimumCalls: 4, window: 10_000 });
    // 3 failures of 3 calls: below minimumCalls, stays closed.
    expect(run(p, [ev('failure', 1), ev('failure', 2), ev('failure', 3)]).kind).toBe('closed');
    // 1 success + 1 failure + 1 success + 1 failure = 50 % of 4: opens on the 4th.
    expect(run(p, [ev('success', 1), ev('failure', 2), ev('success', 3), ev('failure', 4)]).kind).toBe(
      'open',
    );
    // 3 successes + 1 failure = 25 %: stays closed.
    expect(run(p, [ev('success', 1), ev('success', 2), ev('success', 3), ev('failure', 4)]).kind).toBe(
      'closed',
    );
  });

  it('rate: outcomes older than the window age out', () => {
    const p = policy({ mode: 'rate', failureRate: 0.5, minimumCalls: 4, window: 10_000 });
    const old = run(p, [ev('failure', 0), ev('failure', 1), ev('failure', 2)]);
    // 20 s later the three old failures are gone: one new failure is 1 of 1 call, below minimumCalls.
    const later = transition(old, ev('failure', 20_000), p);
    expect(later.kind).toBe('closed');
    expect(later.kind === 'closed' && later.buckets.reduce((n, b) => n + b.calls, 0)).toBe(1);
    // Within the window they still count.
    expect(transition(old, ev('failure', 5_000), p).kind).toBe('open');
  });
});
