import { describe, expect, it } from 'vitest';
import type { NodeAddress } from '../../node-address.js';
import type { PoolPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { LATENCY_DECAY_MS, NodeLatency } from './node-latency.js';
import { NodePool } from './node-pool.js';
import { leastLatencySelector } from './selectors.js';

const node = (port: number): NodeAddress => ({ id: `127.0.0.1:${port}`, host: '127.0.0.1', port });
const [a, b, c] = [node(9200), node(9201), node(9202)];

const policy = (over: Partial<PoolPolicy> = {}): PoolPolicy => ({
  selector: 'least-latency',
  deadTimeout: 1000,
  deadTimeoutMax: 1_000_000,
  deadTimeoutCutoff: 5,
  resurrect: 'optimistic',
  nodeFailureThreshold: 1,
  discovery: { onStart: false, interval: false, onFault: false },
  ...over,
});

/** A random source that cycles through `values`. */
function cycle(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('NodeLatency', () => {
  it('averages the newest samples in, fades with idle time, and costs 0 for a node never called', () => {
    const clock = createFakeClock();
    const latency = new NodeLatency(clock);
    expect(latency.cost(a)).toBe(0);
    latency.observe(a, 10);
    expect(latency.cost(a)).toBe(10);
    latency.observe(a, 20);
    expect(latency.cost(a)).toBeCloseTo(13, 6);
    clock.advance(LATENCY_DECAY_MS);
    expect(latency.cost(a)).toBeCloseTo(13 / Math.E, 6);
  });
});

describe('leastLatencySelector', () => {
  it('takes the cheaper of two different nodes picked at random; one node is taken as is', () => {
    const cost = (n: NodeAddress): number => ({ [a.id]: 5, [b.id]: 1, [c.id]: 9 })[n.id]!;
    // i = floor(0 · 3) = 0 (a), j = floor(0 · 2) = 0, moved past i → 1 (b): the pair (a, b), b cheaper.
    expect(leastLatencySelector(cost, cycle(0, 0))([a, b, c])).toBe(b);
    // i = 2 (c), j = floor(0 · 2) = 0 (a): the pair (c, a), a cheaper.
    expect(leastLatencySelector(cost, cycle(0.9, 0))([a, b, c])).toBe(a);
    expect(leastLatencySelector(cost, cycle(0.9, 0))([c])).toBe(c);
  });
});

describe('NodePool with selector least-latency', () => {
  it('a slow node gets almost no calls while it is slow, is tried again as its average fades, and all of them once it is fast', () => {
    const clock = createFakeClock();
    let seed = 1;
    // A small deterministic generator, so the test does not depend on Math.random.
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const pool = new NodePool({ nodes: [a, b, c], policy: policy(), clock, random });
    const ms = { [a.id]: 2, [b.id]: 2, [c.id]: 20 };
    const picks = (n: number): Record<string, number> => {
      const count: Record<string, number> = { [a.id]: 0, [b.id]: 0, [c.id]: 0 };
      for (let i = 0; i < n; i++) {
        const picked = pool.select();
        count[picked.id]!++;
        pool.observe(picked, ms[picked.id]!);
        clock.advance(2); // 500 calls a second
      }
      return count;
    };
    // 2 500 calls over 5 s: c is 10× slower and gets a handful (each time its faded average looks fast again).
    const slow = picks(2500);
    expect(slow[c.id]).toBeGreaterThan(0);
    expect(slow[c.id]! / 2500).toBeLessThan(0.01);
    // c is fast again: it takes its share back within a few seconds.
    ms[c.id] = 2;
    picks(2500);
    const after = picks(1500);
    expect(after[c.id]! / 1500).toBeGreaterThan(0.25);
  });

  it('picks by the latency observed (the target source feeds it: source-report.test.ts); round-robin ignores it', () => {
    const clock = createFakeClock();
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock, random: cycle(0, 0) });
    pool.observe(a, 50);
    pool.observe(b, 1);
    expect(pool.select()).toBe(b);
    const rr = new NodePool({ nodes: [a, b], policy: policy({ selector: 'round-robin' }), clock });
    rr.observe(a, 50);
    expect([rr.select(), rr.select()]).toEqual([a, b]);
  });
});

describe('NodeLatency: one stalled reply', () => {
  it('one 20 ms reply of the fast node (a client stall) does not send the calls to a 10× slower node', () => {
    const clock = createFakeClock();
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock, random: cycle(0, 0.5) });
    const ms = { [a.id]: 0.4, [b.id]: 4 };
    let stall = false;
    const picks = (n: number): number => {
      let toB = 0;
      for (let i = 0; i < n; i++) {
        const picked = pool.select();
        if (picked.id === b.id) toB++;
        pool.observe(picked, stall && picked.id === a.id ? 20 : ms[picked.id]!);
        stall = false;
        clock.advance(3); // 333 calls a second
      }
      return toB;
    };
    picks(2000);
    const quiet = picks(1000);
    stall = true;
    const stalled = picks(1000);
    expect(quiet).toBeLessThan(10);
    // Before: 0.3 × 20 ms made a's cost 6.3 ms, over b's 4: every call went to b for ~0.4 s (about 130 of 1 000).
    expect(stalled).toBeLessThan(quiet + 5);
    // A real slowdown is still left within a few calls.
    ms[a.id] = 40;
    const slowedA = 1000 - picks(1000);
    expect(slowedA).toBeLessThan(20);
  });
});

describe('NodeLatency: a lower bound (a hedge loser, an attempt cut at its timeout)', () => {
  it('raises a node’s cost when it is above it, and never lowers it', () => {
    const clock = createFakeClock();
    const latency = new NodeLatency(clock);
    latency.observe(b, 40);
    // The loser on b was cut when a answered, 3 ms in: b took at least 3 ms, which says nothing new.
    latency.observe(b, 3, true);
    expect(latency.cost(b)).toBe(40);
    // Cut at its timeout, 200 ms in: b took at least that, more than it was believed to.
    latency.observe(b, 200, true);
    expect(latency.cost(b)).toBeGreaterThan(40);
  });
});
