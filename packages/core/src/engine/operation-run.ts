import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { Classification } from '../error-kinds.js';
import type { NodeAddress } from '../node-address.js';
import { ConfigError, isReconnectError, type AttemptFailure } from '../errors.js';
import type { RetryPolicy } from '../policy/resolved.js';
import { parseDuration } from '../policy/units.js';
import { nonRecordingSpan } from '../telemetry/otel.js';
import type { ExecuteOptions } from './types.js';

// The executor's internal bookkeeping for one `execute` call. Nothing here is exported from the package.

/** Why a phase (acquire, attempt, wait) ended early; `hedged`: another attempt of a hedged read answered first. */
export type InterruptWhy = 'timeout' | 'deadline' | 'aborted' | 'hedged';

/** Thrown inside the executor when a phase is cut short; never escapes to the caller. */
export class Interrupt extends Error {
  readonly why: InterruptWhy;
  constructor(why: InterruptWhy) {
    super(why);
    this.why = why;
  }
}

/** Thrown inside the executor when an attempt fails; never escapes to the caller. */
export class AttemptFailed {
  constructor(
    readonly error: unknown,
    readonly classification: Classification,
    readonly interrupt: InterruptWhy | undefined,
    readonly node: NodeAddress | undefined,
    readonly durationMs: number,
  ) {}
}

/** The options of an `execute` call that passed none. */
export const noOptions: ExecuteOptions = Object.freeze({});

function durationOption(value: number | string, name: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new ConfigError([
      {
        path: [name],
        kind: 'invalid_duration',
        message: `Invalid ${name} option of execute()`,
        expected: 'a duration like 250ms, 10s, 5m or 1h, or milliseconds ≥ 0',
      },
    ]);
  }
  return ms;
}

/** The state of one `execute` call, shared by its phases: its options, limits, span and failures so far. */
export class Run {
  /** Cuts the phase in progress short (set while a phase waits on a promise or a timer). */
  interrupt: ((why: InterruptWhy) => void) | undefined = undefined;
  failures: AttemptFailure[] | undefined = undefined;
  /** Whether any attempt may have reached the server. */
  maybeSent = false;
  avoid: NodeAddress | undefined = undefined;
  prevDelay: number | undefined = undefined;
  /** Retries after a failure the client itself caused before sending (`Classification.local`): not charged. */
  localRetries = 0;
  /** Hedges sent for this operation (`retry.hedge`): counted against the hedge budget, not `maxRetries`. */
  hedges = 0;
  /**
   * Set on each run of a hedged read (the original's and each hedge's own): its attempt can then be cancelled
   * through {@link interrupt} even without a caller signal, and its success is settled by the hedge, not by itself.
   */
  hedgeRole: 'original' | 'hedge' | undefined = undefined;
  lastFailure: AttemptFailed | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** Whether the execute span was ended (success or give-up). */
  ended = false;
  /** Clock reading when the successful attempt ended (saves a second read for the duration metric). */
  endedAt = 0;
  /** The operation's CLIENT span (set by the telemetry; the shared non-recording span while tracing is off). */
  span: Span = nonRecordingSpan;
  /** The context attempt spans are children of; set only when the operation span records. */
  spanContext: Context | undefined = undefined;
  /** The operation's `db.client.operation.duration` attributes; set only while a MeterProvider is live. */
  metricAttributes: Attributes | undefined = undefined;
  /** `error.type` of the last failed attempt (what truly ended it); set only while telemetry is live. */
  errorType: string | undefined = undefined;
  readonly deadlineMs: number;
  readonly deadlineAt: number;
  readonly attemptTimeoutMs: number;
  readonly idempotent: boolean;
  readonly readOnly: boolean;
  readonly name: string | undefined;
  readonly signal: AbortSignal | undefined;

  /**
   * Reads the per-call options over the policy; throws a ConfigError for an invalid duration. `options` is
   * never undefined (the executor passes {@link noOptions}): no optional chain, so this stays small enough to inline.
   */
  constructor(
    policy: RetryPolicy,
    options: ExecuteOptions,
    readonly start: number,
  ) {
    // Per-call durations are rare: parsed out of line.
    const deadlineMs =
      options.deadline === undefined ? policy.deadline : durationOption(options.deadline, 'deadline');
    this.deadlineMs = deadlineMs;
    // 0 means "no limit", as for timeouts in most clients.
    this.deadlineAt = deadlineMs > 0 ? start + deadlineMs : Number.POSITIVE_INFINITY;
    this.attemptTimeoutMs =
      options.attemptTimeout === undefined
        ? policy.attemptTimeout
        : durationOption(options.attemptTimeout, 'attemptTimeout');
    this.idempotent = options.idempotent === true;
    this.readOnly = options.readOnly === true;
    this.name = options.name;
    this.signal = options.signal;
  }

  /** Lets the caller's abort cut the phase in progress short, until {@link Run.done}. */
  listen(signal: AbortSignal): void {
    const onAbort = (): void => this.interrupt?.('aborted');
    this.onAbort = onAbort;
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Stops listening to the caller's signal once the operation has settled. */
  done(): void {
    if (this.onAbort !== undefined) {
      this.signal?.removeEventListener('abort', this.onAbort);
      this.onAbort = undefined;
    }
  }

  /** Records failed attempt `attempt`: for the give-up error, the idempotency rule and failover. */
  recordFailure(failure: AttemptFailed, attempt: number): void {
    const c = failure.classification;
    if (c.sent !== false) this.maybeSent = true;
    (this.failures ??= []).push({
      attempt,
      error: failure.error,
      kind: c.kind,
      durationMs: failure.durationMs,
      ...(failure.node === undefined ? {} : { node: failure.node.id }),
    });
    this.lastFailure = failure;
    if (failure.node !== undefined) this.avoid = failure.node;
  }
}

/** Whether the caller's signal has aborted. A function, not `run.signal?.aborted` inline: TypeScript
 * would otherwise keep a narrowing from before an `await`. */
export function callerAborted(run: Run): boolean {
  return run.signal?.aborted === true;
}

/**
 * A failure the client itself caused before sending (see `Classification.local`), retried transparently. Not one of
 * kind `throttled`: that is the client shedding load (its own queue full), which a retry would only add to, so it is
 * judged as any failure (`retryOn`, the budget); it still counts for neither the breaker nor passive health. Never
 * the executor's interrupt: an interrupted attempt is classified by interruptClassification, which is never local.
 */
export function isLocal(failure: AttemptFailed): boolean {
  const c = failure.classification;
  return c.local === true && c.sent === false && c.kind !== 'throttled';
}

/** Whether `error` is a Reconnect error saying its request was never sent. */
export function claimsNotSent(error: unknown): boolean {
  return isReconnectError(error) && error.outcome === 'not_sent';
}

/** Whether `value` is a thenable: an operation or a source may return a value or any promise-like. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
