import {
  AbortedError,
  BreakerOpenError,
  BudgetExhaustedError,
  DeadlineExceededError,
  NotRetryableError,
  OutcomeUnknownError,
  RetriesExhaustedError,
  type AttemptFailure,
  type ReconnectError,
} from '../errors.js';
import { RetryReasons, type RetryReason } from '../telemetry/names.js';
import { redactString } from '../policy/redact.js';
import { errorType } from '../telemetry/otel.js';
import type { AttemptFailed } from './operation-run.js';

/** What {@link giveUpError} needs to know about the operation that gives up. */
export interface GiveUpFacts {
  /** Attempts made (0 when none ran). */
  attempts: number;
  /** The last failed attempt, when there was one. */
  failure: AttemptFailed | undefined;
  /** Every failed attempt. */
  failures: readonly AttemptFailure[];
  /** Whether any attempt may have reached the server. */
  maybeSent: boolean;
  deadlineMs: number;
  /** The caller's signal's reason, for `aborted`. */
  abortReason: unknown;
  target: string;
  /** For `breaker_open`: milliseconds until the breaker admits a trial call. */
  breakerRetryInMs: number | undefined;
}

// The cause in a few words for a message: its code and its (redacted) message, as a reader needs them.
function failureText(error: unknown): string {
  const type = errorType(error);
  if (!(error instanceof Error) || error.message === '') return type;
  const message = redactString(error.message);
  return type === error.name ? message : `${type}: ${message}`;
}

/**
 * The error an operation gives up with, one type per reason, the driver error as `cause`.
 * `not_retryable` on the first attempt returns the driver's own error unchanged (a SQL syntax error
 * should read as one); after retries earlier attempts may have run, so it is wrapped.
 */
export function giveUpError(reason: RetryReason, facts: GiveUpFacts): unknown {
  const { attempts, failure } = facts;
  const cause = failure?.error;
  let error: ReconnectError;
  switch (reason) {
    case RetryReasons.NOT_RETRYABLE:
      if (attempts <= 1 && failure !== undefined) return failure.error;
      error = new NotRetryableError(
        `Operation failed after ${attempts} attempts with an error the policy does not retry`,
        { cause },
      );
      break;
    case RetryReasons.NOT_IDEMPOTENT:
      return new OutcomeUnknownError(
        `Operation is not idempotent and may have run on the server (${failure === undefined ? 'unknown error' : failureText(failure.error)}); it was not repeated`,
        { cause },
      );
    case RetryReasons.MAX_RETRIES:
      error = new RetriesExhaustedError(facts.failures, { cause });
      break;
    case RetryReasons.DEADLINE:
      error = new DeadlineExceededError(facts.deadlineMs, facts.failures, { cause });
      break;
    case RetryReasons.BUDGET_EXHAUSTED:
      error = new BudgetExhaustedError(
        `Retry budget of target "${facts.target}" exhausted: not retrying after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
        { cause },
      );
      break;
    case RetryReasons.BREAKER_OPEN: {
      const wait =
        facts.breakerRetryInMs === undefined ? '' : ` (trial calls in ${facts.breakerRetryInMs} ms)`;
      error = new BreakerOpenError(`Circuit breaker of target "${facts.target}" is open${wait}`, { cause });
      break;
    }
    case RetryReasons.ABORTED:
    default:
      error = new AbortedError({ cause: facts.abortReason });
      break;
  }
  // `not_sent` only when no attempt may have reached the server.
  error.outcome = facts.maybeSent ? 'unknown' : 'not_sent';
  return error;
}
