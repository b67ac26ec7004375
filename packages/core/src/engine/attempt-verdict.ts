import type { Classification } from '../error-kinds.js';
import { ErrorCodes, isReconnectError } from '../errors.js';
import {
  AttemptOutcomes as O,
  RetryReasons,
  type AttemptOutcome,
  type RetryReason,
} from '../telemetry/names.js';
import { dbErrorType, ownCode, responseStatusCode } from '../telemetry/semconv.js';
import { Interrupt, type InterruptWhy, type Run } from './operation-run.js';

// What telemetry says ended an attempt, a wait for a connection and an operation: the truth, whatever error object
// the executor keeps for its own bookkeeping (it records a deadline's cut as an AttemptTimeoutError).

/** `error.type` of the executor's own interrupts. */
export function interruptType(why: InterruptWhy): string {
  return why === 'timeout'
    ? ErrorCodes.ATTEMPT_TIMEOUT
    : why === 'deadline'
      ? ErrorCodes.DEADLINE_EXCEEDED
      : why === 'hedged'
        ? ErrorCodes.HEDGE_CANCELLED
        : ErrorCodes.ABORTED;
}

/** `error.type` of a wait for a connection that ended without one. */
export function waitErrorType(error: unknown): string {
  return error instanceof Interrupt ? interruptType(error.why) : (ownCode(error) ?? '_OTHER');
}

/** How an attempt ended, for its span and the attempts counter. */
export interface AttemptVerdict {
  readonly outcome: AttemptOutcome;
  readonly type: string;
  /** `db.response.status_code`, when the store answered. */
  readonly status: string | undefined;
}

/**
 * What truly ended a failed attempt: the attempt timeout or the deadline cutting the running operation, no
 * connection had (a wait for one that ran into the deadline, or the target's refusal), the caller's abort, or
 * the store's or client's error. `connected`: the attempt had a client.
 */
export function attemptVerdict(
  error: unknown,
  classification: Classification,
  interrupt: InterruptWhy | undefined,
  connected: boolean,
): AttemptVerdict {
  if (interrupt !== undefined) {
    const outcome =
      interrupt === 'aborted'
        ? O.ABORTED
        : interrupt === 'hedged'
          ? O.HEDGE_LOST
          : interrupt === 'timeout'
            ? O.ATTEMPT_TIMEOUT
            : connected
              ? O.DEADLINE
              : O.NOT_CONNECTED;
    return { outcome, type: interruptType(interrupt), status: undefined };
  }
  if (!connected) return { outcome: O.NOT_CONNECTED, type: dbErrorType(error, undefined), status: undefined };
  return {
    outcome: O.ERROR,
    type: dbErrorType(error, classification),
    status: responseStatusCode(classification),
  };
}

/**
 * `error.type` and `db.response.status_code` of an operation that gave up with `error`: the last attempt's when
 * `error` is that attempt's failure or wraps it (the conventions prefer the original error to a wrapper), else
 * the error's own code (a give-up with no attempt behind it: `ERR_BREAKER_OPEN`, `ERR_ABORTED`).
 */
export function giveUpVerdict(
  run: Run,
  reason: RetryReason,
  error: unknown,
): { type: string; status: string | undefined } {
  const failure = run.lastFailure;
  const type = run.errorType;
  if (
    reason !== RetryReasons.ABORTED &&
    failure !== undefined &&
    type !== undefined &&
    (error === failure.error || (isReconnectError(error) && error.cause === failure.error))
  ) {
    const status = failure.interrupt === undefined ? responseStatusCode(failure.classification) : undefined;
    return { type, status };
  }
  return { type: dbErrorType(error, undefined), status: undefined };
}
