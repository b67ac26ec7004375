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
  it('falls within 5 s of a 10× slowdown and recovers within 5 s of its end', () => {
    const limit = new GradientLimit(options, 0);
    // Healthy (10 ms) for 10 s: the limit climbs to its maximum, the latency does not move.
    const healthy = simulate(limit, 0, 10_000, () => 10);
    const before = at(healthy, 9_900);
    expect(before).toBe(200);
    // 10× slower for 5 s (shorter than it takes the baseline to learn the slowdown as the new normal).
    const slow = simulate(limit, 10_000, 15_000, () => 100);
    const fellBy = slow.find((p) => p.limit <= before / 4)?.t;
    expect(fellBy).toBeDefined();
    expect(fellBy! - 10_000).toBeLessThan(5_000);
    expect(at(slow, 14_900)).toBeLessThanOrEqual(before / 4);
    // Healthy again: back to at least 90 % of the limit it had before, within 5 s.
    const after = simulate(limit, 15_000, 25_000, () => 10);
    const back = after.find((p) => p.limit >= before * 0.9)?.t;
    expect(back).toBeDefined();
    expect(back! - 15_000).toBeLessThan(5_000);
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
    for (let w = 0; w < 20; w++) for (let i = 0; i < 5; i++) limit.sample(1000, 2, 400 + w * 200 + i * 40);
    expect(limit.limit).toBe(2);
  });

  it('does not grow a limit that is not used (an idle target earns no unbounded limit)', () => {
    const limit = new GradientLimit(options, 0);
    for (let t = 0; t < 10_000; t += 10) limit.sample(10, 3, t);
    expect(limit.limit).toBe(20);
  });

  it('takes a lasting slowdown as the new normal after about baselineWindow', () => {
    const limit = new GradientLimit({ ...options, baselineWindow: 2_000 }, 0);
    simulate(limit, 0, 5_000, () => 10);
    const slow = simulate(limit, 5_000, 30_000, () => 100);
    // It falls at first...
    expect(Math.min(...slow.filter((p) => p.t < 8_000).map((p) => p.limit))).toBeLessThanOrEqual(10);
    // ...then the baseline follows the latency up and the limit grows back.
    expect(limit.baseline!).toBeGreaterThan(50);
    expect(at(slow, 29_900)).toBe(200);
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
