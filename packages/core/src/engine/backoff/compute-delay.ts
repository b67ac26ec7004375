import type { RandomSource } from '../../time/clock.js';
import type { BackoffPolicy } from '../../policy/resolved.js';
import type { DelayFn } from '../../policy/schema.js';
import { decorrelatedBounds, decorrelatedDelay } from './decorrelated.js';
import { exponentialCeiling } from './exponential.js';
import { fixedCeiling } from './fixed.js';
import { applyJitter, jitterBounds } from './jitter.js';
import { linearCeiling } from './linear.js';

// Decorrelated has no per-retry ceiling: its callers handle it before asking for one.
function ceiling(
  backoff: BackoffPolicy,
  type: Exclude<BackoffPolicy['type'], 'decorrelated'>,
  retry: number,
): number {
  switch (type) {
    case 'fixed':
      return fixedCeiling(backoff, retry);
    case 'linear':
      return linearCeiling(backoff, retry);
    case 'exponential':
      return exponentialCeiling(backoff, retry);
  }
}

/**
 * The delay in milliseconds before retry number `retry` (1-based), per the backoff policy, never above
 * `backoff.max`. `prevDelay` is the previous delay (used by `decorrelated` only). Pure given `random`.
 */
export function computeDelay(
  backoff: BackoffPolicy,
  retry: number,
  prevDelay: number | undefined,
  random: RandomSource,
): number {
  if (backoff.type === 'decorrelated') return decorrelatedDelay(backoff, prevDelay, random);
  return applyJitter(backoff.jitter, ceiling(backoff, backoff.type, retry), random);
}

/**
 * The range a delay before retry number `retry` (1-based) can fall in, whatever the random draws
 * and the history were; `reconnect explain` prints it.
 */
export function delayBounds(backoff: BackoffPolicy, retry: number): { min: number; max: number } {
  if (backoff.type === 'decorrelated') return decorrelatedBounds(backoff, retry);
  return jitterBounds(backoff.jitter, ceiling(backoff, backoff.type, retry));
}

/**
 * The wait before retry `retry`: a code-defined `delay(attempt)` replaces the backoff when given;
 * a server hint (`Retry-After`, throttling reply) is a floor, since waiting less would be refused anyway.
 */
export function retryDelay(
  backoff: BackoffPolicy,
  custom: DelayFn | undefined,
  retry: number,
  prevDelay: number | undefined,
  random: RandomSource,
  serverHintMs: number | undefined,
): number {
  let planned: number;
  if (custom === undefined) planned = computeDelay(backoff, retry, prevDelay, random);
  else {
    try {
      planned = custom(retry);
    } catch {
      // A broken code-defined delay must not turn a retryable fault into a crash: use the backoff.
      planned = computeDelay(backoff, retry, prevDelay, random);
    }
  }
  // A custom function returning garbage must not turn into a busy loop or a NaN timer.
  const delay = Number.isFinite(planned) ? Math.max(0, planned) : 0;
  // No hint, or an unreadable (NaN) one, counts as 0: the delay as it is.
  return Math.max(delay, serverHintMs || 0);
}
