// Driver kit: the policy's reconnect schedule in the shape clients take for their own retry option
// (ioredis's retryStrategy, a pool's reconnect callback), so a client that reconnects by itself follows the policy.
import { computeDelay } from '../engine/backoff/index.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { RandomSource } from '../time/clock.js';

/**
 * A `(attempt) => ms | null` function following the policy's `reconnect` section: `attempt` is 1-based and
 * starting again at 1 starts the schedule over (jitter state included). The backoff (or `reconnect.delay`) for
 * `maxRetries` attempts; then the backoff cap for ever (`onExhausted: keep-probing`) or `null` (`stop`: give up).
 * Delays are whole milliseconds ≥ 0.
 */
export function reconnectDelays(
  policy: Pick<ResolvedPolicy, 'reconnect'>,
  random: RandomSource = Math.random,
): (attempt: number) => number | null {
  const { backoff, maxRetries, onExhausted, delay } = policy.reconnect;
  let previous: number | undefined;
  return (attempt) => {
    if (attempt <= 1) previous = undefined;
    if (attempt > maxRetries) return onExhausted === 'stop' ? null : backoff.max;
    const planned = delay === undefined ? computeDelay(backoff, attempt, previous, random) : delay(attempt);
    const ms = Number.isFinite(planned) && planned > 0 ? Math.round(planned) : 0;
    previous = ms;
    return ms;
  };
}
