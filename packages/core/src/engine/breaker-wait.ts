import type { Clock } from '../time/clock.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { Run } from './operation-run.js';
import { wait } from './timer-race.js';

/** How often a retry waiting on a half-open breaker (its trial calls all in flight) asks again. */
export const HALF_OPEN_RECHECK_MS = 100;

/**
 * Waits, within the operation's deadline, until the open breaker admits its retry; `true` once admitted, `false`
 * when the breaker cannot admit it before the deadline (or the operation may not wait: see below). The caller's
 * abort rejects with the executor's Interrupt, like any wait between attempts.
 *
 * Only an operation that may already have run waits: one whose earlier attempt may have reached the server
 * (`run.maybeSent`) and which was judged retryable (idempotent, or a write fenced by an idempotency key). Giving
 * it up because the breaker is open would hand its caller an `unknown` outcome that the retry, a moment later,
 * settles. Operations that sent nothing are refused at once: shedding them is the breaker's point.
 *
 * `admit` is the executor's own admission (it asks the breaker and records the transition on the span).
 */
export async function awaitBreakerTrial(
  breaker: CircuitBreaker,
  clock: Clock,
  run: Run,
  admit: () => boolean,
): Promise<boolean> {
  if (!run.maybeSent) return false;
  for (;;) {
    const now = clock.now();
    // Open: its trial time. Half-open with its trial calls taken: their verdict comes within an attempt; ask again soon.
    const at = breaker.retryAt ?? now + HALF_OPEN_RECHECK_MS;
    if (at >= run.deadlineAt) return false;
    await wait(clock, run, Math.max(1, at - now));
    if (admit()) return true;
  }
}
