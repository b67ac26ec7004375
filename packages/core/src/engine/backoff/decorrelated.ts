import type { RandomSource } from '../../time/clock.js';
import type { BackoffPolicy } from '../../policy/resolved.js';

/**
 * Decorrelated jitter (AWS architecture blog): `min(max, uniform(base, prev · 3))`, where `prev` is the
 * previous delay (`base` before the first retry). Unlike cockatiel's Polly-V2 variant, this is AWS's formula.
 */
export function decorrelatedDelay(
  backoff: BackoffPolicy,
  prevDelay: number | undefined,
  random: RandomSource,
): number {
  const lo = backoff.base;
  const hi = Math.max(lo, (prevDelay ?? lo) * 3);
  return Math.min(backoff.max, lo + random() * (hi - lo));
}

/**
 * The range of decorrelated delays before retry `retry` (1-based), over every possible history:
 * the largest previous delay before retry n is `base · 3^(n−1)`, so the ceiling is `base · 3^n`.
 */
export function decorrelatedBounds(backoff: BackoffPolicy, retry: number): { min: number; max: number } {
  const raw = backoff.base === 0 ? 0 : backoff.base * Math.pow(3, Math.max(1, retry));
  return {
    min: Math.min(backoff.max, backoff.base),
    max: Math.min(backoff.max, Number.isFinite(raw) ? raw : backoff.max),
  };
}
