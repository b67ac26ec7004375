import type { BackoffPolicy } from '../../policy/resolved.js';

/** Exponential backoff: `base · factor^(retry−1)` before retry number `retry` (1-based), capped at `max`. */
export function exponentialCeiling(backoff: BackoffPolicy, retry: number): number {
  // A huge retry number overflows factor^n to Infinity; with base 0 that would be NaN, not 0.
  if (backoff.base === 0) return 0;
  const raw = backoff.base * Math.pow(backoff.factor, Math.max(0, retry - 1));
  return Math.min(backoff.max, Number.isFinite(raw) ? raw : backoff.max);
}
