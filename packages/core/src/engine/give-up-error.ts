import {
  AbortedError,
  BreakerOpenError,
  BudgetExhaustedError,
  DeadlineExceededError,
  NotRetryableError,
  OutcomeUnknownError,
  RetriesExhaustedError,
  type AttemptFailure,
  type ReconnectErrorOptions,
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
  /** When the target is not connected: what its last attempt to connect failed with. */
  targetDown?: unknown;
}

// The cause in a few words for a message: its code and its (redacted) message, as a reader needs them.
function failureText(error: unknown): string {
  const type = errorType(error);
  if (!(error instanceof Error) || error.message === '') return type;
  const message = redactString(error.message);
  return type === error.name ? message : `${type}: ${message}`;
}

// The longest `because` a give-up message carries: the why, not a stack of everything.
const maxBecause = 300;

/**
 * Why, for a give-up message: the last failure in a few words and, when it wraps others (a target that gave up
 * reconnecting, whose cause is a refused certificate), the innermost cause too.
 */
export function becauseText(error: unknown, meaning?: string): string {
  let inner: unknown = error;
  for (let depth = 0; depth < 8; depth++) {
    const next: unknown = inner instanceof Error ? inner.cause : undefined;
    if (next === undefined || next === null) break;
    inner = next;
  }
  // The driver's words for what the error means, where the client's own text misleads (ioredis's "max retries per
  // request limit (which is 0)" is a lost connection).
  const outer = meaning === undefined ? failureText(error) : `${errorType(error)}: ${redactString(meaning)}`;
  const text = inner === error ? outer : `${outer} ← ${failureText(inner)}`;
  return text.length <= maxBecause ? text : `${text.slice(0, maxBecause - 1)}…`;
}

// Kinds that say only that the way to the server failed (a lost or refused connection, no answer in time).
const noAnswer = new Set(['connection', 'timeout']);

/**
 * When the last attempt met no server (a connection lost, a timeout) but an earlier one was refused by it (READONLY,
 * a deadlock, a full server), that refusal is the likelier why: `; earlier: …`. Empty otherwise.
 */
function earlier(facts: GiveUpFacts): string {
  const last = facts.failures[facts.failures.length - 1];
  if (last === undefined || !noAnswer.has(last.kind)) return '';
  for (let i = facts.failures.length - 2; i >= 0; i--) {
    const f = facts.failures[i]!;
    if (!noAnswer.has(f.kind) && f.kind !== 'unknown') return `; earlier: ${becauseText(f.error)}`;
  }
  return '';
}

/** While the target reconnects, what its last connect failed with (a refused password); empty otherwise. */
function down(facts: GiveUpFacts): string {
  if (facts.targetDown === undefined || facts.targetDown === null) return '';
  return `target "${facts.target}" is not connected: ${becauseText(facts.targetDown)}`;
}

/**
 * The error an operation gives up with, one type per reason, the driver error as `cause`.
 * `not_retryable` on the first attempt returns the driver's own error unchanged (a SQL syntax error
 * should read as one); after retries earlier attempts may have run, so it is wrapped.
 */
export function giveUpError(reason: RetryReason, facts: GiveUpFacts): unknown {
  const { attempts, failure } = facts;
  // Built complete: cause, target, the last failure's kind and (below) whether anything may have run.
  const o: ReconnectErrorOptions = {
    cause: failure?.error,
    target: facts.target,
    // `not_sent` only when no attempt may have reached the server.
    outcome: facts.maybeSent ? 'unknown' : 'not_sent',
    ...(failure === undefined ? {} : { kind: failure.classification.kind }),
  };
  // Why, appended to the message of the errors that wrap the last failure (and, while the target is not
  // connected, what its reconnect meets).
  const notConnected = down(facts);
  const why: ReconnectErrorOptions =
    failure === undefined
      ? notConnected === ''
        ? o
        : { ...o, because: notConnected }
      : {
          ...o,
          because:
            becauseText(failure.error, failure.classification.message) +
            earlier(facts) +
            (notConnected === '' ? '' : `; ${notConnected}`),
        };
  switch (reason) {
    case RetryReasons.NOT_RETRYABLE:
      if (attempts <= 1 && failure !== undefined) return failure.error;
      return new NotRetryableError(
        `Operation failed after ${attempts} attempts with an error the policy does not retry`,
        why,
      );
    case RetryReasons.NOT_IDEMPOTENT:
      return new OutcomeUnknownError(
        `Operation is not idempotent and may have run on the server (${failure === undefined ? 'unknown error' : becauseText(failure.error, failure.classification.message)}); it was not repeated`,
        { ...o, outcome: 'unknown' },
      );
    case RetryReasons.MAX_RETRIES:
      return new RetriesExhaustedError(facts.failures, why);
    case RetryReasons.DEADLINE:
      return new DeadlineExceededError(facts.deadlineMs, facts.failures, why);
    case RetryReasons.BUDGET_EXHAUSTED:
      return new BudgetExhaustedError(
        `Retry budget of target "${facts.target}" exhausted: not retrying after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
        why,
      );
    case RetryReasons.BREAKER_OPEN: {
      const wait =
        facts.breakerRetryInMs === undefined ? '' : ` (trial calls in ${facts.breakerRetryInMs} ms)`;
      return new BreakerOpenError(`Circuit breaker of target "${facts.target}" is open${wait}`, o);
    }
    case RetryReasons.ABORTED:
    default:
      return new AbortedError({ ...o, cause: facts.abortReason });
  }
}
