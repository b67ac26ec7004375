import {
  context,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Classification } from '../error-kinds.js';
import { AttemptTimeoutError, ConfigError, DeadlineExceededError, isReconnectError } from '../errors.js';
import type { GiveUpEvent, RetryEvent } from './events.js';
import type { RetryPolicy } from '../policy/resolved.js';
import { parseDuration } from '../policy/units.js';
import { createEngineInstruments, type EngineInstruments } from '../telemetry/instruments.js';
import {
  AttributeNames as A,
  EventNames,
  RetryDecisions,
  RetryReasons,
  SpanNames,
  type RetryReason,
} from '../telemetry/names.js';
import { errorType, getTracerHandle, nonRecordingSpan } from '../telemetry/otel.js';
import { systemClock, type Clock, type RandomSource, type TimerHandle } from '../time/clock.js';
import { giveUpError } from './give-up-error.js';
import { AttemptFailed, callerAborted, Interrupt, Run, type InterruptWhy } from './operation-run.js';
import { LazyAcquireRequest, LazyAttemptContext, type LazySignal } from './attempt-context.js';
import { retryDelay } from './backoff/compute-delay.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { RetryBudget } from './budget/retry-budget.js';
import { classifyFailure, interruptClassification, reflectsServerHealth } from './classify-failure.js';
import { decideRetry } from './retry-decision.js';
import type { AttemptReport, ConnectionSource, ExecuteOptions, Lease, Operation } from './types.js';

/** Callbacks for code that does not use OpenTelemetry. A callback that throws does not affect the operation. */
export interface RetryExecutorEvents {
  /** An attempt failed and another follows after `delayMs`. */
  retry?(event: RetryEvent): void;
  /** The operation failed for good. */
  giveUp?(event: GiveUpEvent): void;
}

/** Options of {@link RetryExecutor}. */
export interface RetryExecutorOptions<Client> {
  /** The target's name, for errors (`error.target`), spans and metrics. */
  target: string;
  /** The OpenTelemetry `db.system` value (the driver's `system`). */
  system: string;
  /** The target's retry policy (durations in ms). */
  policy: RetryPolicy;
  /** The driver's error classifier. */
  classify(error: unknown): Classification;
  /** Where each attempt gets its client. */
  source: ConnectionSource<Client>;
  /** The target's circuit breaker, consulted before each attempt. */
  breaker?: CircuitBreaker;
  /** The target's retry budget: every operation deposits, every retry withdraws. */
  budget?: RetryBudget;
  clock?: Clock;
  random?: RandomSource;
  events?: RetryExecutorEvents;
}

const MAX_TIMER_MS = 2_147_483_647;

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

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

/** Whether `error` is a Reconnect error saying its request was never sent. */
function claimsNotSent(error: unknown): boolean {
  return isReconnectError(error) && error.outcome === 'not_sent';
}

function safeCall<K extends keyof RetryExecutorEvents>(
  events: RetryExecutorEvents | undefined,
  name: K,
  event: Parameters<NonNullable<RetryExecutorEvents[K]>>[0],
): void {
  const listener = events?.[name];
  if (listener === undefined) return;
  try {
    (listener as (e: typeof event) => void).call(events, event);
  } catch (error) {
    // Surface a broken listener the way an EventEmitter would, without failing the operation.
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Runs one operation against a target, attempt by attempt: per-attempt timeout, overall deadline,
 * caller AbortSignal, classification, `retryOn` / `retryIf`, the idempotency rule, retry budget,
 * circuit breaker and failover to another node; one `reconnect.execute` span per operation and one
 * `reconnect.attempt` child span per attempt.
 *
 * Give-up errors (each with `.target` set and the driver error as `cause`): RetriesExhaustedError,
 * DeadlineExceededError, OutcomeUnknownError, BudgetExhaustedError, BreakerOpenError, AbortedError,
 * NotRetryableError (after retries); a non-retryable error on the first attempt is rethrown unchanged.
 */
export class RetryExecutor<Client> {
  readonly #target: string;
  readonly #system: string;
  readonly #policy: RetryPolicy;
  readonly #classify: (error: unknown) => Classification;
  readonly #source: ConnectionSource<Client>;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #events: RetryExecutorEvents | undefined;
  readonly #tracer: Tracer;
  /** Whether the tracer is (still) the API's no-op: then no span is started at all. */
  readonly #tracingOff: () => boolean;
  readonly #metrics: EngineInstruments;
  /** Whether the instruments record anything (they stay no-ops if made before a MeterProvider existed). */
  readonly #metricsLive: boolean;
  /** Whether the budget reads the executor's clock, so the operation's start reading can be handed to it. */
  readonly #budgetSharesClock: boolean;
  /** Metric attributes shared by every data point of this target (one object, never rebuilt). */
  readonly #baseAttributes: Attributes;

  constructor(options: RetryExecutorOptions<Client>) {
    this.#target = options.target;
    this.#system = options.system;
    this.#policy = options.policy;
    this.#classify = options.classify.bind(options);
    this.#source = options.source;
    this.#breaker = options.breaker;
    this.#budget = options.budget;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#events = options.events;
    const { tracer, tracingOff } = getTracerHandle();
    this.#tracer = tracer;
    this.#tracingOff = tracingOff;
    this.#metrics = createEngineInstruments();
    this.#metricsLive = this.#metrics.live;
    this.#budgetSharesClock = this.#budget?.clock === this.#clock;
    this.#baseAttributes = Object.freeze({ [A.TARGET]: this.#target, [A.DB_SYSTEM]: this.#system });
    const breaker = this.#breaker;
    if (breaker !== undefined) {
      this.#recordBreakerState(breaker.state, undefined);
      breaker.on('stateChange', (e) => this.#recordBreakerState(e.to, e.from));
    }
  }

  /** The retry policy this executor runs with. */
  get policy(): RetryPolicy {
    return this.#policy;
  }

  /**
   * Runs `op` with the policy's retries, timeouts, breaker and budget; resolves with its result or
   * rejects with the error documented for each give-up reason. Never waits past the deadline.
   */
  execute<T>(op: Operation<Client, T>, options?: ExecuteOptions): Promise<T> {
    // Not an async function: the first attempt starts synchronously and a first-attempt success costs
    // one timer and two promises. Retries continue in the async #recover.
    let run: Run;
    let first: T | PromiseLike<T>;
    try {
      run = this.#begin(options);
    } catch (error) {
      // A ConfigError (bad per-call option) or the AbortedError of an already-aborted signal.
      if (isReconnectError(error)) error.target ??= this.#target;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    try {
      const breaker = this.#breaker;
      if (breaker !== undefined && !this.#admit(run, breaker)) {
        this.#done(run);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- always a BreakerOpenError
        return Promise.reject(this.#giveUp(run, 0, RetryReasons.BREAKER_OPEN, undefined));
      }
      first = this.#attempt(run, op, 1);
    } catch (failure) {
      return this.#recover(run, op, failure, 1);
    }
    // A promise from the first attempt already hands its failures to #recover (see #awaitOp).
    return isPromiseLike(first) ? (first as Promise<T>) : Promise.resolve(first);
  }

  /** Reads the options, opens the execute span, deposits into the budget, listens to the caller's signal. */
  #begin(options: ExecuteOptions | undefined): Run {
    const start = this.#clock.now();
    let deadlineMs = this.#policy.deadline;
    let attemptTimeoutMs = this.#policy.attemptTimeout;
    let idempotent = false;
    let readOnly = false;
    let name: string | undefined;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      if (options.deadline !== undefined) deadlineMs = durationOption(options.deadline, 'deadline');
      if (options.attemptTimeout !== undefined) {
        attemptTimeoutMs = durationOption(options.attemptTimeout, 'attemptTimeout');
      }
      idempotent = options.idempotent === true;
      readOnly = options.readOnly === true;
      name = options.name;
      signal = options.signal;
    }

    // Without an SDK the API's tracer would hand out a fresh non-recording span: share one instead.
    const span = this.#tracingOff()
      ? nonRecordingSpan
      : this.#tracer.startSpan(SpanNames.EXECUTE, undefined, context.active());
    let spanContext: Context | undefined;
    if (span.isRecording()) {
      span.setAttribute(A.TARGET, this.#target);
      span.setAttribute(A.DB_SYSTEM, this.#system);
      span.setAttribute(A.IDEMPOTENT, idempotent);
      if (name !== undefined) span.setAttribute(A.OPERATION, name);
      spanContext = trace.setSpan(context.active(), span);
    }
    // 0 means "no limit", as for timeouts in most clients.
    const deadlineAt = deadlineMs > 0 ? start + deadlineMs : Number.POSITIVE_INFINITY;
    const run = new Run(
      start,
      deadlineMs,
      deadlineAt,
      attemptTimeoutMs,
      idempotent,
      readOnly,
      name,
      signal,
      span,
      spanContext,
    );

    if (signal !== undefined) {
      if (signal.aborted) throw this.#giveUp(run, 0, RetryReasons.ABORTED, undefined);
      const onAbort = (): void => run.interrupt?.('aborted');
      run.onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
    this.#budget?.deposit(this.#budgetSharesClock ? start : undefined);
    return run;
  }

  /** Stops listening to the caller's signal once the operation has settled. */
  #done(run: Run): void {
    if (run.onAbort !== undefined) {
      run.signal?.removeEventListener('abort', run.onAbort);
      run.onAbort = undefined;
    }
  }

  /** Continues after failed attempt `attempt`: decide, wait, try again, until success or a give-up. */
  async #recover<T>(run: Run, op: Operation<Client, T>, failure: unknown, attempt: number): Promise<T> {
    try {
      let current = failure;
      for (let n = attempt; ; n++) {
        // Anything but an AttemptFailed is a bug in this class or a listener: let it surface as is.
        if (!(current instanceof AttemptFailed)) throw current;
        await this.#afterFailure(run, current, n);
        const breaker = this.#breaker;
        if (breaker !== undefined && !this.#admit(run, breaker)) {
          throw this.#giveUp(run, n, RetryReasons.BREAKER_OPEN, run.lastFailure);
        }
        try {
          return await this.#attempt(run, op, n + 1);
        } catch (next) {
          current = next;
        }
      }
    } finally {
      this.#done(run);
      if (!run.ended) {
        // Only a bug gets here (an error that is neither a give-up nor a success): still close the span.
        run.ended = true;
        run.span.setStatus({ code: SpanStatusCode.ERROR });
        run.span.end();
      }
    }
  }

  /**
   * After failed attempt `attempt`: gives up (throws the give-up error) or waits the backoff delay
   * and returns, so the next attempt can start.
   */
  async #afterFailure(run: Run, failure: AttemptFailed, attempt: number): Promise<void> {
    const reason = this.#verdict(run, failure, attempt);
    if (reason !== undefined) throw this.#giveUp(run, attempt, reason, failure);

    // Retryable: compute the wait, refuse waits that end past the deadline, spend the budget.
    const delay = retryDelay(
      this.#policy.backoff,
      this.#policy.delay,
      attempt,
      run.prevDelay,
      this.#random,
      failure.classification.retryAfterMs,
    );
    if (this.#clock.now() + delay >= run.deadlineAt)
      throw this.#giveUp(run, attempt, RetryReasons.DEADLINE, failure);
    // Every retry withdraws, whatever the error: the budget bounds the load retries add, and a retry
    // of a fatal error allowed by `retryIf` is as much load as one after a connection failure.
    if (this.#budget !== undefined) {
      if (!this.#budget.tryWithdraw()) {
        if (run.spanContext !== undefined) {
          run.span.addEvent(EventNames.BUDGET_EXHAUSTED, { [A.TARGET]: this.#target, [A.ATTEMPT]: attempt });
        }
        throw this.#giveUp(run, attempt, RetryReasons.BUDGET_EXHAUSTED, failure);
      }
    }
    run.prevDelay = delay;
    this.#decided(run, attempt, RetryDecisions.RETRY, RetryReasons.RETRYABLE, delay);
    safeCall(this.#events, 'retry', {
      operation: run.name,
      attempt,
      delayMs: delay,
      error: failure.error,
      reason: RetryReasons.RETRYABLE,
    });
    if (delay > 0) {
      try {
        await this.#wait(run, delay);
      } catch (interrupt) {
        if (!(interrupt instanceof Interrupt)) throw interrupt;
        throw this.#giveUp(run, attempt, RetryReasons.ABORTED, failure);
      }
    } else if (callerAborted(run)) {
      throw this.#giveUp(run, attempt, RetryReasons.ABORTED, failure);
    }
  }

  /** Records a failed attempt; returns the give-up reason, or `undefined` when it may be retried. */
  #verdict(run: Run, failure: AttemptFailed, attempt: number): RetryReason | undefined {
    const c = failure.classification;
    if (c.sent !== false) run.maybeSent = true;
    (run.failures ??= []).push({
      attempt,
      error: failure.error,
      kind: c.kind,
      durationMs: failure.durationMs,
      ...(failure.node === undefined ? {} : { node: failure.node.id }),
    });
    run.lastFailure = failure;
    if (failure.node !== undefined) run.avoid = failure.node;

    if (failure.interrupt === 'aborted') return RetryReasons.ABORTED;
    if (failure.interrupt === 'deadline') return RetryReasons.DEADLINE;
    const verdict = decideRetry(this.#policy, failure.error, c, {
      attempt,
      classification: c,
      idempotent: run.idempotent,
      node: failure.node,
      elapsedMs: this.#clock.now() - run.start,
    });
    if (verdict === 'not_retryable') {
      // A Reconnect error the operation threw may claim `outcome: 'not_sent'` (another target's open
      // breaker), but that claim is about its own call: this operation may have written before it.
      // Rethrowing it unchanged would tell the caller nothing was sent; a non-idempotent one is unknown.
      if (!run.idempotent && c.sent !== false && claimsNotSent(failure.error)) {
        return RetryReasons.NOT_IDEMPOTENT;
      }
      return RetryReasons.NOT_RETRYABLE;
    }
    if (verdict === 'not_idempotent') return RetryReasons.NOT_IDEMPOTENT;
    if (attempt > this.#policy.maxRetries) return RetryReasons.MAX_RETRIES;
    if (callerAborted(run)) return RetryReasons.ABORTED;
    return undefined;
  }

  /**
   * Starts one attempt: acquire a client, run the operation under the attempt timeout. Returns the
   * value (synchronous success) or a promise of it; failures are thrown or rejected as AttemptFailed.
   */
  #attempt<T>(run: Run, op: Operation<Client, T>, attempt: number): T | Promise<T> {
    const clock = this.#clock;
    const attemptStart = attempt === 1 ? run.start : clock.now();
    let span: Span | undefined;
    let attemptContext: Context | undefined;
    if (run.spanContext !== undefined) {
      span = this.#tracer.startSpan(
        SpanNames.ATTEMPT,
        { attributes: { [A.DB_SYSTEM]: this.#system, [A.ATTEMPT]: attempt } },
        run.spanContext,
      );
      attemptContext = trace.setSpan(run.spanContext, span);
    }

    // Acquire: bounded by the deadline and the caller's signal only (waiting for a reconnect is not the attempt).
    let acquired: Lease<Client> | PromiseLike<Lease<Client>>;
    let request: LazyAcquireRequest;
    try {
      if (callerAborted(run)) throw new Interrupt('aborted');
      if (attemptStart >= run.deadlineAt) throw new Interrupt('deadline');
      const req = (request = new LazyAcquireRequest(attempt, run.avoid, run.deadlineAt, run.readOnly));
      acquired =
        attemptContext === undefined
          ? this.#source.acquire(req)
          : context.with(attemptContext, () => this.#source.acquire(req));
    } catch (error) {
      throw this.#failed(run, span, error, true, undefined, attemptStart);
    }
    if (!isPromiseLike(acquired)) {
      return this.#runOp(run, op, attempt, acquired, span, attemptContext, attemptStart, true);
    }
    const later = this.#race(run, acquired, run.deadlineAt - clock.now(), 'deadline', request).then(
      (lease) => this.#runOp(run, op, attempt, lease, span, attemptContext, attemptStart, false),
      (error: unknown) => {
        throw this.#failed(run, span, error, true, undefined, attemptStart);
      },
    );
    // The first attempt's promise is execute()'s: its failures continue in #recover.
    return attempt === 1
      ? later.then(undefined, (failure: unknown) => this.#recover(run, op, failure, 1))
      : later;
  }

  /** The second half of an attempt: the operation itself, raced against the attempt timeout and deadline. */
  #runOp<T>(
    run: Run,
    op: Operation<Client, T>,
    attempt: number,
    lease: Lease<Client>,
    span: Span | undefined,
    attemptContext: Context | undefined,
    attemptStart: number,
    acquiredNow: boolean,
  ): T | Promise<T> {
    const node = lease.node;
    if (span !== undefined && node !== undefined) {
      span.setAttribute(A.SERVER_ADDRESS, node.host);
      span.setAttribute(A.SERVER_PORT, node.port);
    }
    const ctx = new LazyAttemptContext(attempt, node);
    let result: T | PromiseLike<T>;
    let limit: number;
    let why: InterruptWhy;
    // An abort or a deadline noticed here stops the attempt before the operation runs: nothing was sent.
    if (callerAborted(run))
      throw this.#failed(run, span, new Interrupt('aborted'), true, lease, attemptStart);
    // A synchronous acquire took no time worth a clock read.
    const remaining = run.deadlineAt - (acquiredNow ? attemptStart : this.#clock.now());
    if (remaining <= 0) throw this.#failed(run, span, new Interrupt('deadline'), true, lease, attemptStart);
    try {
      const timeout = run.attemptTimeoutMs > 0 ? run.attemptTimeoutMs : Number.POSITIVE_INFINITY;
      limit = timeout <= remaining ? timeout : remaining;
      why = timeout <= remaining ? 'timeout' : 'deadline';
      result =
        attemptContext === undefined
          ? op(lease.client, ctx)
          : context.with(attemptContext, () => op(lease.client, ctx));
    } catch (error) {
      throw this.#failed(run, span, error, false, lease, attemptStart);
    }
    if (!isPromiseLike(result)) {
      this.#attemptOk(run, attempt, lease, span, attemptStart);
      return result;
    }
    if (limit === Number.POSITIVE_INFINITY && run.signal === undefined) {
      // Nothing can cut this attempt short: no race, no extra promise, just the continuation.
      return Promise.resolve(result).then(
        (value) => {
          this.#attemptOk(run, attempt, lease, span, attemptStart);
          return value;
        },
        (error: unknown) => {
          const failure = this.#failed(run, span, error, false, lease, attemptStart);
          if (attempt === 1) return this.#recover(run, op, failure, 1);
          throw failure;
        },
      );
    }
    return this.#awaitOp(run, op, attempt, result, limit, why, ctx, lease, span, attemptStart);
  }

  /**
   * Awaits the operation's promise, but settles at `limitMs` (attempt timeout or deadline, `why`) or on
   * the caller's abort, aborting the attempt's signal; the one timer is cleared on every path. An
   * operation that ignores its signal is abandoned: the caller does not wait for it. One promise per
   * attempt: on success it does the bookkeeping itself; a failure of the first attempt resolves it
   * with #recover (so execute() returns this very promise), later attempts reject with AttemptFailed.
   */
  #awaitOp<T>(
    run: Run,
    op: Operation<Client, T>,
    attempt: number,
    result: PromiseLike<T>,
    limitMs: number,
    why: InterruptWhy,
    ctx: LazyAttemptContext,
    lease: Lease<Client>,
    span: Span | undefined,
    attemptStart: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#settleFirst(
        run,
        result,
        limitMs,
        why,
        ctx,
        (value) => {
          this.#attemptOk(run, attempt, lease, span, attemptStart);
          resolve(value);
        },
        (error) => {
          const failure = this.#failed(run, span, error, false, lease, attemptStart);
          if (attempt === 1) resolve(this.#recover(run, op, failure, 1));
          // AttemptFailed is internal: #recover catches it and never lets it reach the caller.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          else reject(failure);
        },
      );
    });
  }

  /** Bookkeeping of a successful attempt (and so of the operation): metrics, breaker, passive health, spans. */
  #attemptOk(
    run: Run,
    attempt: number,
    lease: Lease<Client>,
    span: Span | undefined,
    attemptStart: number,
  ): void {
    const report = this.#source.report !== undefined;
    // The end of the attempt feeds only the success report and the duration metric: read it only for them.
    if (report || this.#metricsLive) run.endedAt = this.#clock.now();
    if (this.#metricsLive) this.#metrics.attempts.add(1, this.#baseAttributes);
    const breaker = this.#breaker;
    if (breaker !== undefined) {
      const change = breaker.success();
      if (change !== undefined) this.#breakerEvent(run, change.from, change.to);
    }
    if (report) this.#report(lease, { ok: true, durationMs: run.endedAt - attemptStart });
    span?.end();
    this.#succeeded(run, attempt);
  }

  /** Turns an attempt's error (or interrupt) into an {@link AttemptFailed}: classify, report, feed the breaker. */
  #failed(
    run: Run,
    span: Span | undefined,
    error: unknown,
    beforeSend: boolean,
    lease: Lease<Client> | undefined,
    attemptStart: number,
  ): AttemptFailed {
    const node = lease?.node;
    const durationMs = this.#clock.now() - attemptStart;
    let interrupt: InterruptWhy | undefined;
    let cause = error;
    if (error instanceof Interrupt) {
      interrupt = error.why;
      // What the attempt failed with, for the attempts list and the span: a timeout in both time cases.
      cause =
        error.why === 'aborted'
          ? run.signal?.reason
          : new AttemptTimeoutError(error.why === 'timeout' ? run.attemptTimeoutMs : durationMs);
    }
    // The executor's own interrupts carry their kind; everything else is the source's or the operation's error.
    const classification: Classification =
      interrupt !== undefined
        ? interruptClassification(interrupt, beforeSend)
        : classifyFailure(cause, this.#classify, beforeSend);

    const type = errorType(cause);
    if (this.#metricsLive) this.#metrics.attempts.add(1, { ...this.#baseAttributes, [A.ERROR_TYPE]: type });
    const breaker = this.#breaker;
    if (breaker !== undefined) {
      let change;
      // The caller's abort or the caller's deadline ending the attempt says nothing about the server.
      if (interrupt === 'aborted' || interrupt === 'deadline') breaker.release();
      else if (reflectsServerHealth(classification.kind)) change = breaker.failure();
      // The server answered (fatal, auth): it is up, whatever was wrong with the request.
      else if (classification.kind !== 'unknown') change = breaker.success();
      else breaker.release();
      if (change !== undefined) this.#breakerEvent(run, change.from, change.to);
    }
    // Only an operation that ran says something about its node (an attempt stopped before it ran does not).
    if (lease !== undefined && !beforeSend && interrupt !== 'aborted') {
      this.#report(
        lease,
        interrupt === undefined
          ? { ok: false, durationMs, error: cause, classification }
          : { ok: false, durationMs, error: cause, classification, interrupt },
      );
    }
    if (span !== undefined) {
      span.setAttribute(A.ERROR_TYPE, type);
      span.setAttribute(A.ERROR_KIND, classification.kind);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    return new AttemptFailed(cause, classification, interrupt, node, durationMs);
  }

  #report(lease: Lease<Client>, report: AttemptReport): void {
    try {
      this.#source.report?.(lease, report);
    } catch (error) {
      // Passive health is advisory: a failing report must not change the operation's result.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Whether the breaker lets the next attempt through; records its transitions on the span. */
  #admit(run: Run, breaker: CircuitBreaker): boolean {
    const before = breaker.state;
    if (before === 'closed') return true;
    const ok = breaker.tryAcquire();
    const after = breaker.state;
    if (after !== before) this.#breakerEvent(run, before, after);
    return ok;
  }

  #breakerEvent(run: Run, from: string, to: string): void {
    if (run.spanContext === undefined) return;
    const name =
      to === 'open'
        ? EventNames.BREAKER_OPEN
        : to === 'half-open'
          ? EventNames.BREAKER_HALF_OPEN
          : EventNames.BREAKER_CLOSED;
    run.span.addEvent(name, { [A.TARGET]: this.#target, [A.BREAKER_FROM]: from, [A.BREAKER_STATE]: to });
  }

  #recordBreakerState(to: string, from: string | undefined): void {
    if (!this.#metricsLive) return;
    if (from !== undefined)
      this.#metrics.breakerState.record(0, { ...this.#baseAttributes, [A.BREAKER_STATE]: from });
    this.#metrics.breakerState.record(1, { ...this.#baseAttributes, [A.BREAKER_STATE]: to });
  }

  /**
   * Awaits `promise`, but settles early at `limitMs` (→ Interrupt `why`) or on the caller's abort;
   * either way `target`'s signal is aborted so a cooperative client stops, and the timer is cleared.
   * An operation that ignores its signal is simply abandoned: the caller does not wait for it.
   */
  #race<V>(
    run: Run,
    promise: PromiseLike<V>,
    limitMs: number,
    why: InterruptWhy,
    target: LazySignal,
  ): Promise<V> {
    // The operation's own rejection is passed on as is: it may be any value a client throws.
    return new Promise<V>((resolve, reject) =>
      this.#settleFirst(run, promise, limitMs, why, target, resolve, reject),
    );
  }

  /**
   * The one settle-once race under #race and #awaitOp: calls `onValue` or `onError` exactly once, with
   * `promise`'s outcome, or early with an Interrupt at `limitMs` (`why`) or on the caller's abort (via
   * `run.interrupt`), aborting `target`'s signal so a cooperative client stops. The one timer is cleared
   * on every path. Callbacks rather than a promise, so #awaitOp costs one promise per attempt.
   */
  #settleFirst<V>(
    run: Run,
    promise: PromiseLike<V>,
    limitMs: number,
    why: InterruptWhy,
    target: LazySignal,
    onValue: (value: V) => void,
    onError: (error: unknown) => void,
  ): void {
    const clock = this.#clock;
    let settled = false;
    let timer: TimerHandle | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      run.interrupt = undefined;
      return true;
    };
    const stop = (interruptWhy: InterruptWhy): void => {
      if (!finish()) return;
      target.abort(this.#abortReason(run, interruptWhy));
      onError(new Interrupt(interruptWhy));
    };
    if (limitMs !== Number.POSITIVE_INFINITY) {
      timer = clock.setTimeout(
        () => {
          timer = undefined;
          stop(why);
        },
        Math.min(Math.max(0, limitMs), MAX_TIMER_MS),
      );
    }
    run.interrupt = stop;
    promise.then(
      (value) => {
        if (finish()) onValue(value);
      },
      (error: unknown) => {
        if (finish()) onError(error);
      },
    );
  }

  /** Waits `ms` between attempts; the caller's abort cuts it short (the deadline was checked before). */
  #wait(run: Run, ms: number): Promise<void> {
    const clock = this.#clock;
    return new Promise<void>((resolve, reject) => {
      if (callerAborted(run)) {
        reject(new Interrupt('aborted'));
        return;
      }
      const timer = clock.setTimeout(
        () => {
          run.interrupt = undefined;
          resolve();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      run.interrupt = (why) => {
        clock.clearTimeout(timer);
        run.interrupt = undefined;
        reject(new Interrupt(why));
      };
    });
  }

  #abortReason(run: Run, why: InterruptWhy): unknown {
    if (why === 'aborted') return run.signal?.reason;
    if (why === 'timeout') return new AttemptTimeoutError(run.attemptTimeoutMs);
    return new DeadlineExceededError(run.deadlineMs);
  }

  #succeeded(run: Run, attempts: number): void {
    this.#done(run);
    const span = run.span;
    if (run.spanContext !== undefined) span.setAttribute(A.ATTEMPTS, attempts);
    run.ended = true;
    span.end();
    if (this.#metricsLive) {
      this.#metrics.operationDuration.record((run.endedAt - run.start) / 1000, this.#baseAttributes);
    }
  }

  #decided(
    run: Run,
    attempt: number,
    decision: string,
    reason: RetryReason,
    delayMs: number | undefined,
  ): void {
    if (this.#metricsLive) {
      this.#metrics.retries.add(1, { ...this.#baseAttributes, [A.DECISION]: decision, [A.REASON]: reason });
    }
    if (run.spanContext === undefined) return;
    const attributes: Attributes = { [A.DECISION]: decision, [A.REASON]: reason, [A.ATTEMPT]: attempt };
    if (delayMs !== undefined) attributes[A.DELAY_MS] = delayMs;
    const error = run.lastFailure;
    if (error !== undefined) attributes[A.ERROR_TYPE] = errorType(error.error);
    run.span.addEvent(EventNames.RETRY_DECISION, attributes);
  }

  /**
   * Builds the error an operation gives up with, and records the give-up everywhere (span event and
   * status, metrics, `giveUp` callback). `attempts` is how many attempts ran.
   */
  #breakerRetryIn(): number | undefined {
    const at = this.#breaker?.retryAt;
    return at === undefined ? undefined : Math.max(0, Math.ceil(at - this.#clock.now()));
  }

  #giveUp(run: Run, attempts: number, reason: RetryReason, failure: AttemptFailed | undefined): unknown {
    // Waited for a connection until the deadline: the source may know why none came (never connected).
    const unavailable =
      reason === RetryReasons.DEADLINE && !run.maybeSent ? this.#source.unavailable?.() : undefined;
    const error =
      unavailable ??
      giveUpError(reason, {
        attempts,
        failure,
        failures: run.failures ?? [],
        maybeSent: run.maybeSent,
        deadlineMs: run.deadlineMs,
        abortReason: run.signal?.reason,
        target: this.#target,
        breakerRetryInMs: this.#breakerRetryIn(),
      });
    if (isReconnectError(error)) {
      error.target ??= this.#target;
      if (failure !== undefined) error.kind ??= failure.classification.kind;
    }
    this.#decided(run, attempts, RetryDecisions.GIVE_UP, reason, undefined);
    const span = run.span;
    if (run.spanContext !== undefined) {
      span.setAttribute(A.ATTEMPTS, attempts);
      span.setAttribute(A.ERROR_TYPE, errorType(error));
      if (isReconnectError(error) && error.outcome !== undefined) span.setAttribute(A.OUTCOME, error.outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    run.ended = true;
    span.end();
    if (this.#metricsLive) {
      this.#metrics.operationDuration.record((this.#clock.now() - run.start) / 1000, {
        ...this.#baseAttributes,
        [A.ERROR_TYPE]: errorType(error),
      });
    }
    safeCall(this.#events, 'giveUp', { operation: run.name, attempt: attempts, reason, error });
    return error;
  }
}
