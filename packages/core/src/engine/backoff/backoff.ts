import type { RandomSource } from '../../time/clock.js';
import type { BackoffPolicy } from '../../policy/resolved.js';
import { computeDelay } from './compute-delay.js';

/**
 * An immutable backoff (after cockatiel's): `delay` is the wait before retry `retry`, and `next()`
 * returns the backoff for the following retry without changing this one, so a policy can be shared.
 */
export class Backoff {
  /** The retry number this delay is for (1-based). */
  readonly retry: number;
  /** Milliseconds to wait before retry {@link retry}. */
  readonly delay: number;
  readonly #policy: BackoffPolicy;
  readonly #random: RandomSource;

  private constructor(
    policy: BackoffPolicy,
    random: RandomSource,
    retry: number,
    prevDelay: number | undefined,
  ) {
    this.#policy = policy;
    this.#random = random;
    this.retry = retry;
    this.delay = computeDelay(policy, retry, prevDelay, random);
  }

  /** The backoff for the first retry. */
  static first(policy: BackoffPolicy, random: RandomSource = Math.random): Backoff {
    return new Backoff(policy, random, 1, undefined);
  }

  /** The backoff for the retry after this one. */
  next(): Backoff {
    return new Backoff(this.#policy, this.#random, this.retry + 1, this.delay);
  }
}
