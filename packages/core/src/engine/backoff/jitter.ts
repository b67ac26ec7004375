import type { RandomSource } from '../../time/clock.js';
import type { BackoffPolicy } from '../../policy/resolved.js';

/** The jitter modes a backoff policy can name. */
export type Jitter = BackoffPolicy['jitter'];

/**
 * Spreads a delay ceiling `v` per the jitter mode (AWS architecture blog): `none` → `v`,
 * `full` → `uniform(0, v)`, `equal` → `v/2 + uniform(0, v/2)`.
 */
export function applyJitter(jitter: Jitter, v: number, random: RandomSource): number {
  switch (jitter) {
    case 'none':
      return v;
    case 'full':
      return random() * v;
    case 'equal':
      return v / 2 + random() * (v / 2);
  }
}

/** The range {@link applyJitter} can return for ceiling `v`. */
export function jitterBounds(jitter: Jitter, v: number): { min: number; max: number } {
  switch (jitter) {
    case 'none':
      return { min: v, max: v };
    case 'full':
      return { min: 0, max: v };
    case 'equal':
      return { min: v / 2, max: v };
  }
}
