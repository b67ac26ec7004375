import type { ErrorKind } from './error-kinds.js';

/** Stable error codes: the real API of every error this package throws. */
export const ErrorCodes = {
  CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  NO_NODE_AVAILABLE: 'ERR_NO_NODE_AVAILABLE',
  RETRIES_EXHAUSTED: 'ERR_RETRIES_EXHAUSTED',
  DEADLINE_EXCEEDED: 'ERR_DEADLINE_EXCEEDED',
  BREAKER_OPEN: 'ERR_BREAKER_OPEN',
  BUDGET_EXHAUSTED: 'ERR_BUDGET_EXHAUSTED',
  NOT_RETRYABLE: 'ERR_NOT_RETRYABLE',
  OUTCOME_UNKNOWN: 'ERR_OUTCOME_UNKNOWN',
  ABORTED: 'ERR_ABORTED',
  ATTEMPT_TIMEOUT: 'ERR_ATTEMPT_TIMEOUT',
  ATTEMPT_ENDED: 'ERR_ATTEMPT_ENDED',
  HEDGE_CANCELLED: 'ERR_HEDGE_CANCELLED',
  QUEUE_FULL: 'ERR_QUEUE_FULL',
  CONCURRENCY_LIMITED: 'ERR_CONCURRENCY_LIMITED',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  UNKNOWN_TARGET: 'ERR_UNKNOWN_TARGET',
  PLUGIN: 'ERR_PLUGIN',
  STOPPED: 'ERR_STOPPED',
} as const;

/** One of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Whether a failed operation may have taken effect on the server.
 * `not_sent`: provably never reached it; `unknown`: it may have run; `failed`: the server answered with an error.
 */
export type Outcome = 'not_sent' | 'unknown' | 'failed';

/** What a {@link ReconnectError} may be built with besides its message: its cause, kind and target. */
export interface ReconnectErrorOptions {
  cause?: unknown;
  kind?: ErrorKind;
  target?: string;
  /** `false`: the source that threw it says retrying now cannot help (`whileReconnecting: fail-fast`). */
  retryable?: boolean;
  /** Whether the failed operation may have run, when the thrower knows. */
  outcome?: Outcome;
  /**
   * Why, in the failure's own words (already redacted): appended to the message after a colon, so the line a
   * logger prints says why the operation failed, not only that it did.
   */
  because?: string;
}

// A brand that survives two copies of this package in one process (instanceof does not).
const brand = Symbol.for('@reconnect/core/error');

/** Base of every error thrown by Reconnect; `code` is stable, the message is for humans. */
export class ReconnectError extends Error {
  readonly code: ErrorCode;
  /** Whether the failed operation may have run on the server, when that is known. */
  readonly outcome?: Outcome;
  /** The driver's classification of the underlying error, when there is one. */
  readonly kind?: ErrorKind;
  /** The target the failing operation ran against, when known. */
  readonly target?: string;
  /** `false` when the thrower says retrying cannot help now (a fail-fast refusal); undefined otherwise. */
  readonly retryable?: boolean;

  constructor(code: ErrorCode, message: string, options?: ReconnectErrorOptions) {
    super(
      options?.because === undefined || options.because === '' ? message : `${message}: ${options.because}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    if (options?.kind !== undefined) this.kind = options.kind;
    if (options?.target !== undefined) this.target = options.target;
    if (options?.retryable !== undefined) this.retryable = options.retryable;
    if (options?.outcome !== undefined) this.outcome = options.outcome;
    Object.defineProperty(this, brand, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** True for any error thrown by any copy of `@reconnect/core`. */
export function isReconnectError(error: unknown): error is ReconnectError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

function hasCode<T extends ReconnectError>(code: ErrorCode) {
  return (error: unknown): error is T => isReconnectError(error) && error.code === code;
}

/** One problem found in a configuration: where it is and what was expected there. */
export interface ConfigIssue {
  /** The file the problem is in, when the configuration came from a file. */
  file?: string;
  /** Where inside the configuration, e.g. `['targets', 'cache', 'healthCheck', 'interval']`. */
  path: (string | number)[];
  /** A machine-readable kind, e.g. `invalid_type`, `unrecognized_keys`, `extends_cycle`, `missing_env`. */
  kind: string;
  /** What is wrong, for a human; never contains a secret value. */
  message: string;
  /** What would have been accepted, when that can be said briefly. */
  expected?: string;
}

/** Formats a config path as `targets.cache.healthCheck.interval` (array indices as `[0]`). */
export function formatConfigPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** A configuration (file or object) is invalid; carries every issue found, not only the first. */
export class ConfigError extends ReconnectError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;

  constructor(issues: readonly ConfigIssue[], file?: string, options?: { target?: string }) {
    const where = file ?? issues.find((i) => i.file !== undefined)?.file;
    const lines = issues.map((i) => {
      const loc = `${i.file ?? where ?? ''}${(i.file ?? where) ? ': ' : ''}${formatConfigPath(i.path)}`;
      return `  - ${loc}: ${i.message}${i.expected === undefined ? '' : ` (expected ${i.expected})`}`;
    });
    const head = `Invalid configuration${where === undefined ? '' : ` in ${where}`}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`;
    super(ErrorCodes.CONFIG_INVALID, `${head}\n${lines.join('\n')}`, options);
    this.issues = issues;
    this.file = where;
  }
}
/** True for a {@link ConfigError} from any copy of this package. */
export const isConfigError = hasCode<ConfigError>(ErrorCodes.CONFIG_INVALID);

/** A driver plugin could not be loaded or is not shaped like a driver. */
export class PluginError extends ReconnectError {
  readonly plugin: string;
  constructor(plugin: string, message: string, options?: ReconnectErrorOptions) {
    super(ErrorCodes.PLUGIN, `Driver plugin "${plugin}": ${message}`, options);
    this.plugin = plugin;
  }
}
/** True for a {@link PluginError}. */
export const isPluginError = hasCode<PluginError>(ErrorCodes.PLUGIN);

/** The target has no node at all to send the operation to; nothing was sent. */
export class NoNodeAvailableError extends ReconnectError {
  constructor(message = 'No node is available', options?: ReconnectErrorOptions) {
    super(ErrorCodes.NO_NODE_AVAILABLE, message, { ...options, outcome: options?.outcome ?? 'not_sent' });
  }
}
/** True for a {@link NoNodeAvailableError}. */
export const isNoNodeAvailableError = hasCode<NoNodeAvailableError>(ErrorCodes.NO_NODE_AVAILABLE);

/** The target is not connected and the policy says not to wait; nothing was sent. */
export class NotConnectedError extends ReconnectError {
  constructor(message = 'The target is not connected', options?: ReconnectErrorOptions) {
    super(ErrorCodes.NOT_CONNECTED, message, { ...options, outcome: options?.outcome ?? 'not_sent' });
  }
}
/** True for a {@link NotConnectedError}. */
export const isNotConnectedError = hasCode<NotConnectedError>(ErrorCodes.NOT_CONNECTED);

/** `manager.target(name)` names no registered target; `suggestion` is the closest registered name, if any. */
export class UnknownTargetError extends ReconnectError {
  readonly targetName: string;
  readonly known: readonly string[];
  readonly suggestion: string | undefined;
  constructor(name: string, known: readonly string[], suggestion: string | undefined) {
    const hint = suggestion === undefined ? '' : `. Did you mean "${suggestion}"?`;
    super(
      ErrorCodes.UNKNOWN_TARGET,
      `No target named "${name}"; registered targets: ${known.join(', ') || '(none)'}${hint}`,
    );
    this.targetName = name;
    this.known = known;
    this.suggestion = suggestion;
  }
}
/** True for an {@link UnknownTargetError}. */
export const isUnknownTargetError = hasCode<UnknownTargetError>(ErrorCodes.UNKNOWN_TARGET);

/**
 * The target is reconnecting and `reconnect.maxWaiting` operations already wait for it: this one was refused at
 * once, before anything was sent (`outcome: 'not_sent'`, not retried), so that an outage cannot grow the process's
 * memory without bound. `waiting` is the limit it met.
 */
export class QueueFullError extends ReconnectError {
  readonly waiting: number;
  constructor(waiting: number, options?: { target?: string; cause?: unknown }) {
    super(
      ErrorCodes.QUEUE_FULL,
      `Target${options?.target === undefined ? '' : ` "${options.target}"`} is reconnecting and ${waiting} operations already wait for it (reconnect.maxWaiting): refused, not sent`,
      { ...options, kind: 'connection', outcome: 'not_sent', retryable: false },
    );
    this.waiting = waiting;
  }
}
/** True for a {@link QueueFullError}. */
export const isQueueFullError = hasCode<QueueFullError>(ErrorCodes.QUEUE_FULL);

/**
 * Refused at the target's concurrency limit (`concurrency.limit`), at once or after waiting in its queue (`queued`);
 * nothing was sent, so it is safe to send elsewhere. Kind `unknown`: neither the breaker nor passive health counts it.
 */
export class ConcurrencyLimitedError extends ReconnectError {
  constructor(
    readonly limit: number,
    readonly inFlight: number,
    options: { target: string; queued: boolean },
  ) {
    const how = options.queued ? 'waited in its queue without a turn' : 'its queue is full';
    super(
      ErrorCodes.CONCURRENCY_LIMITED,
      `Target "${options.target}" is at its concurrency limit (${limit}, ${inFlight} in flight) and ${how}: refused, not sent`,
      { target: options.target, kind: 'unknown', outcome: 'not_sent', retryable: false },
    );
    this.queued = options.queued;
  }
  readonly queued: boolean;
}
/** True for a {@link ConcurrencyLimitedError}. */
export const isConcurrencyLimitedError = hasCode<ConcurrencyLimitedError>(ErrorCodes.CONCURRENCY_LIMITED);

/** The lifecycle was stopped while the operation waited; nothing was sent. */
export class StoppedError extends ReconnectError {
  constructor(message = 'The target was stopped') {
    super(ErrorCodes.STOPPED, message, { outcome: 'not_sent' });
  }
}
/** True for a {@link StoppedError}. */
export const isStoppedError = hasCode<StoppedError>(ErrorCodes.STOPPED);

/** One failed attempt of an operation, kept by {@link RetriesExhaustedError}. */
export interface AttemptFailure {
  attempt: number;
  error: unknown;
  kind: ErrorKind;
  durationMs: number;
  node?: string;
}

/** Every allowed retry failed; `attempts` holds each attempt's error and duration, `cause` the last error. */
export class RetriesExhaustedError extends ReconnectError {
  readonly attempts: readonly AttemptFailure[];
  constructor(attempts: readonly AttemptFailure[], options?: ReconnectErrorOptions) {
    super(
      ErrorCodes.RETRIES_EXHAUSTED,
      `Operation failed after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`,
      options,
    );
    this.attempts = attempts;
  }
}
/** True for a {@link RetriesExhaustedError}. */
export const isRetriesExhaustedError = hasCode<RetriesExhaustedError>(ErrorCodes.RETRIES_EXHAUSTED);

/** The operation's overall deadline passed, retries and waits included. */
export class DeadlineExceededError extends ReconnectError {
  readonly deadlineMs: number;
  readonly attempts: readonly AttemptFailure[];
  constructor(deadlineMs: number, attempts: readonly AttemptFailure[] = [], options?: ReconnectErrorOptions) {
    super(ErrorCodes.DEADLINE_EXCEEDED, `Operation deadline of ${deadlineMs} ms exceeded`, options);
    this.deadlineMs = deadlineMs;
    this.attempts = attempts;
  }
}
/** True for a {@link DeadlineExceededError}. */
export const isDeadlineExceededError = hasCode<DeadlineExceededError>(ErrorCodes.DEADLINE_EXCEEDED);

/** One attempt ran past its `attemptTimeout` and was aborted. */
export class AttemptTimeoutError extends ReconnectError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(ErrorCodes.ATTEMPT_TIMEOUT, `Attempt timed out after ${timeoutMs} ms`, { kind: 'timeout' });
    this.timeoutMs = timeoutMs;
  }
}
/** True for an {@link AttemptTimeoutError}. */
export const isAttemptTimeoutError = hasCode<AttemptTimeoutError>(ErrorCodes.ATTEMPT_TIMEOUT);

/**
 * A command or request that an operation sent after its attempt had ended (the attempt's timeout, the deadline or
 * the caller's abort) was refused by the driver's attempt-bound client before anything was written: kind
 * `timeout`, `outcome: 'not_sent'`. Only an operation that went on after being abandoned sees it.
 */
export class AttemptEndedError extends ReconnectError {
  constructor(options?: { target?: string; cause?: unknown }) {
    super(
      ErrorCodes.ATTEMPT_ENDED,
      'Not sent: the attempt it belongs to had already ended (its timeout, its deadline or the caller’s abort)',
      { ...options, kind: 'timeout', outcome: 'not_sent' },
    );
  }
}
/** True for an {@link AttemptEndedError} from any copy of this package. */
export const isAttemptEndedError = hasCode<AttemptEndedError>(ErrorCodes.ATTEMPT_ENDED);

/** The target's circuit breaker is open; nothing was sent. */
export class BreakerOpenError extends ReconnectError {
  constructor(message = 'Circuit breaker is open', options?: ReconnectErrorOptions) {
    super(ErrorCodes.BREAKER_OPEN, message, { ...options, outcome: options?.outcome ?? 'not_sent' });
  }
}
/** True for a {@link BreakerOpenError}. */
export const isBreakerOpenError = hasCode<BreakerOpenError>(ErrorCodes.BREAKER_OPEN);

/** The target's retry budget is spent: failing fast instead of adding load to a sick server. */
export class BudgetExhaustedError extends ReconnectError {
  constructor(message = 'Retry budget exhausted', options?: ReconnectErrorOptions) {
    super(ErrorCodes.BUDGET_EXHAUSTED, message, options);
  }
}
/** True for a {@link BudgetExhaustedError}. */
export const isBudgetExhaustedError = hasCode<BudgetExhaustedError>(ErrorCodes.BUDGET_EXHAUSTED);

/** The error is not retryable under the policy; `cause` is the driver's error. */
export class NotRetryableError extends ReconnectError {
  constructor(message: string, options?: ReconnectErrorOptions) {
    super(ErrorCodes.NOT_RETRYABLE, message, options);
  }
}
/** True for a {@link NotRetryableError}. */
export const isNotRetryableError = hasCode<NotRetryableError>(ErrorCodes.NOT_RETRYABLE);

/**
 * A non-idempotent operation failed after it may have reached the server: it was not repeated,
 * and the caller must find out whether it ran. `outcome` is always `'unknown'`.
 */
export class OutcomeUnknownError extends ReconnectError {
  constructor(
    message = 'Operation may or may not have run on the server; it was not repeated',
    options?: ReconnectErrorOptions,
  ) {
    super(ErrorCodes.OUTCOME_UNKNOWN, message, { ...options, outcome: 'unknown' });
  }
}
/** True for an {@link OutcomeUnknownError}. */
export const isOutcomeUnknownError = hasCode<OutcomeUnknownError>(ErrorCodes.OUTCOME_UNKNOWN);

/** The caller's AbortSignal aborted the operation; `cause` is the signal's reason. */
export class AbortedError extends ReconnectError {
  constructor(options?: ReconnectErrorOptions) {
    super(ErrorCodes.ABORTED, 'Operation aborted by the caller', options);
  }
}
/** True for an {@link AbortedError}. */
export const isAbortedError = hasCode<AbortedError>(ErrorCodes.ABORTED);
