import { describe, expect, it } from 'vitest';
import type { BackoffPolicy } from '../../policy/resolved.js';
import { computeDelay, delayBounds, retryDelay } from './compute-delay.js';

const DRAWS = 10_000;

// A seeded PRNG (mulberry32) so bound tests are reproducible yet cover the whole [0, 1) range.
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const policy = (p: Partial<BackoffPolicy>): BackoffPolicy => ({
  type: 'exponential',
  base: 100,
  factor: 2,
  max: 10_000,
  jitter: 'none',
  ...p,
});

describe('fixed, linear, exponential without jitter', () => {
  it('fixed waits base every time, capped at max', () => {
    const b = policy({ type: 'fixed', base: 250 });
    expect([1, 2, 7].map((n) => computeDelay(b, n, undefined, Math.random))).toEqual([250, 250, 250]);
    expect(computeDelay(policy({ type: 'fixed', base: 500, max: 300 }), 1, undefined, Math.random)).toBe(300);
  });

  it('linear grows by base per retry, capped at max', () => {
    const b = policy({ type: 'linear', base: 100, max: 350 });
    expect([1, 2, 3, 4, 5].map((n) => computeDelay(b, n, undefined, Math.random))).toEqual([
      100, 200, 300, 350, 350,
    ]);
  });

  it('exponential is base·factor^(n−1), capped at max, and survives huge retry numbers', () => {
    const b = policy({ base: 100, factor: 3, max: 5000 });
    expect([1, 2, 3, 4, 5].map((n) => computeDelay(b, n, undefined, Math.random))).toEqual([
      100, 300, 900, 2700, 5000,
    ]);
    expect(computeDelay(b, 100_000, undefined, Math.random)).toBe(5000);
    expect(computeDelay(policy({ base: 0 }), 100_000, undefined, Math.random)).toBe(0);
  });
});

describe('jitter bounds over 10 000 draws', () => {
  for (const type of ['fixed', 'linear', 'exponential'] as const) {
    for (const jitter of ['full', 'equal'] as const) {
      it(`${type} with ${jitter} jitter stays inside delayBounds and spreads across it`, () => {
        const b = policy({ type, jitter, base: 100, factor: 2, max: 3000 });
        const random = seeded(42);
        for (let retry = 1; retry <= 8; retry++) {
          const { min, max } = delayBounds(b, retry);
          let lo = Infinity;
          let hi = -Infinity;
          for (let i = 0; i < DRAWS; i++) {
            const d = computeDelay(b, retry, undefined, random);
            lo = Math.min(lo, d);
            hi = Math.max(hi, d);
          }
          expect(lo).toBeGreaterThanOrEqual(min);
          expect(hi).toBeLessThanOrEqual(max);
          expect(hi).toBeLessThanOrEqual(3000);
          // The draws really use the range, not one corner of it.
          expect(hi - lo).toBeGreaterThan((max - min) * 0.95);
        }
      });
    }
  }

  it('full jitter is uniform(0, min(max, base·factor^(n−1)))', () => {
    const b = policy({ jitter: 'full', base: 100, factor: 2, max: 10_000 });
    expect(delayBounds(b, 3)).toEqual({ min: 0, max: 400 });
    expect(computeDelay(b, 3, undefined, () => 0.5)).toBe(200);
    expect(computeDelay(b, 3, undefined, () => 0)).toBe(0);
  });

  it('equal jitter is v/2 + uniform(0, v/2)', () => {
    const b = policy({ jitter: 'equal', base: 100, factor: 2 });
    expect(delayBounds(b, 3)).toEqual({ min: 200, max: 400 });
    expect(computeDelay(b, 3, undefined, () => 0)).toBe(200);
    expect(computeDelay(b, 3, undefined, () => 0.5)).toBe(300);
  });

  it('decorrelated is min(max, uniform(base, prev·3)) and stays in its bounds for any history', () => {
    const b = policy({ type: 'decorrelated', base: 100, max: 5000 });
    expect(computeDelay(b, 1, undefined, () => 0)).toBe(100);
    expect(computeDelay(b, 1, undefined, () => 0.5)).toBe(200); // uniform(100, 300)
    expect(computeDelay(b, 2, 1000, () => 0.5)).toBe(1550); // uniform(100, 3000)
    expect(computeDelay(b, 5, 4000, () => 0.99)).toBe(5000); // capped
    const random = seeded(7);
    for (let run = 0; run < DRAWS / 10; run++) {
      let prev: number | undefined;
      for (let retry = 1; retry <= 10; retry++) {
        const d = computeDelay(b, retry, prev, random);
        const { min, max } = delayBounds(b, retry);
        expect(d).toBeGreaterThanOrEqual(min);
        expect(d).toBeLessThanOrEqual(max);
        prev = d;
      }
    }
    expect(delayBounds(b, 1)).toEqual({ min: 100, max: 300 });
    expect(delayBounds(b, 2)).toEqual({ min: 100, max: 900 });
    expect(delayBounds(b, 10)).toEqual({ min: 100, max: 5000 });
  });
});

describe('ceilings grow monotonically and stop at max', () => {
  for (const type of ['fixed', 'linear', 'exponential', 'decorrelated'] as const) {
    it(`${type}`, () => {
      const b = policy({ type, jitter: 'full', base: 50, factor: 1.5, max: 2000 });
      let prev = 0;
      for (let retry = 1; retry <= 200; retry++) {
        const { max } = delayBounds(b, retry);
        expect(max).toBeGreaterThanOrEqual(prev);
        expect(max).toBeLessThanOrEqual(2000);
        prev = max;
      }
      if (type !== 'fixed') expect(prev).toBe(2000);
    });
  }
});

describe('retryDelay: custom delay functions and server hints', () => {
  const b = policy({ jitter: 'none', base: 100 });

  it('a custom delay(attempt) replaces the backoff', () => {
    expect(retryDelay(b, (n) => n * 7, 3, undefined, Math.random, undefined)).toBe(21);
  });

  it('a server hint is a floor, not a replacement', () => {
    expect(retryDelay(b, undefined, 1, undefined, Math.random, 5000)).toBe(5000);
    expect(retryDelay(b, undefined, 4, undefined, Math.random, 10)).toBe(800);
    expect(retryDelay(b, () => 1, 1, undefined, Math.random, 300)).toBe(300);
  });

  it('a custom delay that throws falls back to the backoff', () => {
    const boom = (): number => {
      throw new Error('bug');
    };
    expect(retryDelay(b, boom, 2, undefined, Math.random, undefined)).toBe(200);
  });

  it('a custom delay returning NaN or a negative number waits 0, not NaN', () => {
    expect(retryDelay(b, () => Number.NaN, 1, undefined, Math.random, undefined)).toBe(0);
    expect(retryDelay(b, () => -5, 1, undefined, Math.random, undefined)).toBe(0);
  });
});

describe('decorrelated: the previous delay feeds the next', () => {
  it('computeDelay with the previous delay grows decorrelated delays', () => {
    const p = policy({ type: 'decorrelated', base: 100, max: 100_000 });
    const top = (): number => 1 - Number.EPSILON;
    const first = computeDelay(p, 1, undefined, top);
    const second = computeDelay(p, 2, first, top);
    expect(first).toBeCloseTo(300, 6);
    expect(second).toBeCloseTo(900, 6);
  });
});
