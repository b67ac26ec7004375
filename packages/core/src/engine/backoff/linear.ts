import type { BackoffPolicy } from '../../policy/resolved.js';

/** Linear backoff: `base · retry` before retry number `retry` (1-based), capped at `max`. */
export function linearCeiling(backoff: BackoffPolicy, retry: number): number {
  return Math.min(backoff.max, backoff.base * Math.max(1, retry));
}
