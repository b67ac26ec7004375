import type { BackoffPolicy } from '../../policy/resolved.js';

/** Fixed backoff: the same ceiling, `base`, before every retry (capped at `max`). */
export function fixedCeiling(backoff: BackoffPolicy, _retry: number): number {
  return Math.min(backoff.max, backoff.base);
}
