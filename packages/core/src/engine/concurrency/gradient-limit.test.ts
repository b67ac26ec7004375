import { describe, expect, it } from 'vitest';
import { GradientLimit, type GradientLimitOptions } from './gradient-limit.js';

const options: GradientLimitOptions = {
  initialLimit: 20,
  minLimit: 2,
  maxLimit: 200,
  tolerance: 2,
  window: 100,
  baselineWindow: 10_000,
};

/**
 * A saturated target on a fake timeline: `demand` callers keep as many operations in flight as the limit allows,
 * each taking `latency(t)` ms; one sample per completion, in time order. Returns the limit every 100 ms.
 */
function simulate(
  limit: GradientLimit,
  from: number,
  until: number,
  latency: (t: number) => number,
): { t: number; limit: number }[] {
  const trace: { t: number; limit: number }[] = [];
  // Completions are spread evenly: limit / latency per ms (Little's law), at least one per tick.
  let t = from;
  let nextTrace = from;
  while (t < until) {
    const l = latency(t);
    const perMs = limit.limit / l;
    const step = Math.max(0.05, 1 / perMs);
    limit.sample(l, limit.limit, t);
    t += step;
    while (nextTrace <= t) {
      trace.push({ t: nextTrace, limit: limit.limit });
      nextTrace += 100;
    }
  }
  return trace;
}

const at = (trace: { t: number; limit: number }[], t: number): number =>
  trace.find((p) => p.t >= t)?.limit ?? Number.NaN;

describe('GradientLimit', () => {
  it('a slowdown whatever the load: the limit dips, and the floor learns the new latency within 4 s', () => {
    const limit = new GradientLimit(options, 0);
    // Healthy (10 ms) for 10 s, saturated: the limit climbs to its maximum, the latency does not move.
    const healthy = simulate(limit, 0, 10_000, () => 10);
    expect(at(healthy, 9_900)).toBe(200);
    // 10× slower whatever the limit (a slow network): cut at once...
    const slow = simulate(limit, 10_000, 20_000, () => 100);
    const fellBy = slow.find((p) => p.limit <= 10)?.t;
    expect(fellBy! - 10_000).toBeLessThan(1_000);
    // ...but at the floor the latency stays what it was: it is the server's own, the new normal, and the limit
    // grows back (a lower limit would only starve the callers).
    const back = slow.find((p) => p.t > fellBy! && p.limit >= 100)?.t;
    expect(back! - 10_000).toBeLessThan(4_000);
    expect(limit.baseline!).toBeGreaterThan(50);
    // Healthy again: the baseline falls at once, the limit stays up.
    const after = simulate(limit, 20_000, 25_000, () => 10);
    expect(Math.min(...after.map((p) => p.limit))).toBeGreaterThanOrEqual(100);
    expect(limit.baseline).toBe(10);
  });

  it('cuts at most by half per window, and never below minLimit', () => {
    const limit = new GradientLimit({ ...options, initialLimit: 100 }, 0);
    for (let i = 0; i < 5; i++) limit.sample(10, 100, i * 25);
    // The first window (≥ 100 ms, ≥ 5 samples) sets the baseline at 10 ms and uses the limit: it grows.
    expect(limit.baseline).toBe(10);
    expect(limit.limit).toBe(110);
    // One window 100× slower: halved, not cut to 1/50.
    for (let i = 0; i < 5; i++) limit.sample(1000, 110, 200 + i * 25);
    expect(limit.limit).toBe(55);
    const seen: number[] = [];
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < 5; i++) limit.sample(1000, limit.limit, 400 + w * 200 + i * 40);
      seen.push(limit.limit);
    }
    expect(seen).toEqual([27, 13, 6, 3, 2]);
  });

  it('leaves a limit that did not bind alone, whatever the latency (a slow server at low load)', () => {
    const limit = new GradientLimit(options, 0);
    for (let i = 0; i < 5; i++) limit.sample(10, 20, i * 25);
    expect(limit.limit).toBe(24);
    // 10× slower, but never more than 11 of 24 in flight: the limit is not what makes it slow.
    for (let t = 200; t < 2_000; t += 10) limit.sample(100, 11, t);
    expect(limit.limit).toBe(24);
    // Once it binds, the same latency cuts it.
    for (let t = 2_000; t < 2_300; t += 10) limit.sample(100, 24, t);
    expect(limit.limit).toBeLessThan(24);
  });

  it('does not grow a limit that is not used (an idle target earns no unbounded limit)', () => {
    const limit = new GradientLimit(options, 0);
    for (let t = 0; t < 10_000; t += 10) limit.sample(10, 3, t);
    expect(limit.limit).toBe(20);
  });

  it('learns a higher latency as the new normal in about baselineWindow, much faster at the floor', () => {
    // Fed the same latencies — 10 ms for a second, then 30 ms for a second — one at its floor, one well above.
    const atFloor = new GradientLimit({ ...options, minLimit: 10, initialLimit: 10, maxLimit: 10 }, 0);
    const above = new GradientLimit({ ...options, initialLimit: 100, maxLimit: 100 }, 0);
    for (let t = 0; t < 2_000; t += 2) {
      atFloor.sample(t < 1_000 ? 10 : 30, 10, t);
      above.sample(t < 1_000 ? 10 : 30, 100, t);
    }
    // Time constant 3 windows (300 ms) at the floor: most of the way to 30 ms; 10 s above it: a tenth at most.
    expect(atFloor.baseline!).toBeGreaterThan(20);
    expect(above.baseline!).toBeLessThan(13);
  });

  it('waits for enough samples: a window of fewer than five says nothing', () => {
    const limit = new GradientLimit(options, 0);
    expect(limit.sample(10, 20, 500)).toBe(false);
    expect(limit.sample(10, 20, 600)).toBe(false);
    expect(limit.baseline).toBeUndefined();
    for (let i = 0; i < 2; i++) limit.sample(10, 20, 700);
    expect(limit.sample(10, 20, 800)).toBe(true);
    expect(limit.baseline).toBe(10);
  });
});
