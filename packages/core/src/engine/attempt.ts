import { context, trace, type Context, type Span } from '@opentelemetry/api';
import type { Classification } from '../error-kinds.js';
import { AttemptTimeoutError } from '../errors.js';
import { HedgeCancelledError } from './hedge-cancelled-error.js';
import type { NodeAddress } from '../node-address.js';
import { classifyFailure, interruptClassification, judgeFailure } from './classify-failure.js';
import { LazySignal } from './lazy-signal.js';
import {
  AttemptFailed,
  callerAborted,
  Interrupt,
  isPromiseLike,
  type InterruptWhy,
  type Run,
} from './operation-run.js';
import { settleError, settleFirst, settleValue, settleWithin, type Settle } from './timer-race.js';
export { isPromiseLike } from './operation-run.js';
import { leaseSettled, LeaseWait } from './acquire-wait.js';
import { report, type AttemptHost } from './attempt-host.js';
export type { AttemptHost } from './attempt-host.js';
import { leaseDeliveredLater, receiveLease, type LeaseReceiver, type Operation } from './types.js';
import type { AcquireRequest, AttemptContext, ConnectionSource, Lease } from './types.js';

// Until an attempt awaits its operation, it has nothing to resolve.
const unset = (): void => {};

/**
 * One attempt of an operation: acquire a client, run the operation under one timer (the attempt
 * timeout or the deadline, whichever comes first), then settle it (breaker, passive health report,
 * span). A record of what those steps share, so that none takes a list of positional parameters.
 *
 * It is also everything the attempt hands out, because each allocation is a real part of the success
 * path's cost: the {@link AcquireRequest} the source receives, then (the phases never overlap) the
 * {@link AttemptContext} the operation receives, with one lazily made signal for both, and its own
 * {@link Settle} for the race against the timer. What the executor uses is private or symbol-keyed, so
 * neither the source nor the operation sees more than those two interfaces.
 */
export class Attempt<Client, T>
  extends LazySignal
  implements AcquireRequest, LeaseReceiver<Client>, AttemptContext, Settle<T>
{
  /** 1-based. */
  readonly attempt: number;
  /** A snapshot: the run's own `avoid` moves on when this attempt fails. */
  readonly avoid: NodeAddress | undefined;
  /** The acquired client's node; set when acquire returns it, before the operation runs. */
  node: NodeAddress | undefined = undefined;
  readonly #host: AttemptHost<Client>;
  readonly #run: Run;
  readonly #op: Operation<Client, T>;
  /** Whether a failure continues in the retry loop (the first attempt of an unhedged read) rather than rejecting. */
  readonly #recovers: boolean;
  /** Clock reading at the start: the operation's own for the first attempt (no second read). */
  readonly #start: number;
  /** The `reconnect.attempt` span, when the execute span records. */
  #span: Span | undefined;
  /** The span's context: acquire and the operation run in it, so a driver's own spans nest under it. */
  #context: Context | undefined;
  #lease: Lease<Client> | undefined;
  /** The wait for a connection, when acquire did not answer at once. */
  #wait: LeaseWait<Client, T> | undefined = undefined;
  /** The operation's time limit (see {@link AttemptContext.timeoutMs}); set as it starts. */
  #timeoutMs = Number.POSITIVE_INFINITY;
  #resolve: (value: T | PromiseLike<T>) => void = unset;
  #reject: (failure: unknown) => void = unset;

  /**
   * Runs attempt `n` of `op`: the value (synchronous success) or a promise of it; failures are thrown or
   * rejected as AttemptFailed. The first attempt's promise is execute()'s own: its failures continue in
   * the retry loop (`host.recover`) instead, so a first-attempt success makes no extra promise.
   */
  static start<Client, T>(
    host: AttemptHost<Client>,
    run: Run,
    op: Operation<Client, T>,
    n: number,
  ): T | Promise<T> {
    const attempt = new Attempt(host, run, op, n, n === 1);
    if (run.spanContext !== undefined) attempt.#openSpan(run.spanContext);
    return attempt.#begin();
  }

  /**
   * Attempt `n` of a hedged read (engine/hedge), in its own run: `onAttempt` receives it before it begins (the hedge
   * reads its node); a failure rejects or throws as an AttemptFailed, and a success is the hedge's to settle.
   */
  static launch<Client, T>(
    host: AttemptHost<Client>,
    run: Run,
    op: Operation<Client, T>,
    n: number,
    onAttempt: (attempt: Attempt<Client, T>) => void,
  ): T | Promise<T> {
    const attempt = new Attempt(host, run, op, n, false);
    onAttempt(attempt);
    if (run.spanContext !== undefined) attempt.#openSpan(run.spanContext);
    return attempt.#begin();
  }

  // Kept small (what the fields cost at construction is the whole of it), so that V8 inlines it into execute.
  private constructor(
    host: AttemptHost<Client>,
    run: Run,
    op: Operation<Client, T>,
    n: number,
    recovers: boolean,
  ) {
    super();
    this.attempt = n;
    this.avoid = run.avoid;
    this.#host = host;
    this.#run = run;
    this.#op = op;
    this.#recovers = recovers;
    this.#start = n === 1 ? run.start : host.clock.now();
  }

  get deadlineAt(): number {
    return this.#run.deadlineAt;
  }
  get readOnly(): boolean {
    return this.#run.readOnly;
  }
  get attemptTimeoutMs(): number {
    return this.#run.attemptTimeoutMs;
  }
  get timeoutMs(): number {
    return this.#timeoutMs;
  }
  /** The attempt is its own operation's context (see the class comment). */
  get context(): AttemptContext {
    return this;
  }

  /** Starts the attempt's span under the recording execute span (out of line: tracing is the rare case). */
  #openSpan(parent: Context): void {
    const span = this.#host.telemetry.startAttempt(this.#run, this.attempt);
    this.#span = span;
    if (span !== undefined) this.#context = trace.setSpan(parent, span);
  }

  /**
   * Acquire, then the operation. No closure here or in #runOp: one anywhere in a function makes V8
   * allocate the variables it captures on every call, path taken or not. The paths that need one have
   * a method of their own.
   */
  #begin(): T | Promise<T> {
    const run = this.#run;
    // Acquire: bounded by the deadline and the caller's signal only (waiting for a reconnect is not the attempt).
    let acquired: ReturnType<ConnectionSource<Client>['acquire']>;
    try {
      if (callerAborted(run)) throw new Interrupt('aborted');
      if (this.#start >= run.deadlineAt) throw new Interrupt('deadline');
      acquired =
        this.#context === undefined ? this.#host.source.acquire(this) : this.#acquireInContext(this.#context);
    } catch (error) {
      throw this.#failed(error, true);
    }
    if (acquired === leaseDeliveredLater) return this.#awaitLease(undefined);
    return isPromiseLike(acquired) ? this.#awaitLease(acquired) : this.#runOp(acquired, true);
  }

  #acquireInContext(attemptContext: Context): ReturnType<ConnectionSource<Client>['acquire']> {
    return context.with(attemptContext, () => this.#host.source.acquire(this));
  }

  /**
   * Waits for a connection (bounded by the deadline and the caller's abort), then runs the operation: the source
   * delivers it (`acquired` undefined: see {@link LeaseReceiver}) or `acquired` fulfils with it.
   */
  #awaitLease(acquired: PromiseLike<Lease<Client>> | undefined): Promise<T> {
    const { waits, clock, telemetry } = this.#host;
    const wait = new LeaseWait(this, this.#run, waits, telemetry, this.#span);
    this.#wait = wait;
    const promise = wait.start(clock.now());
    if (acquired !== undefined) wait.deliver(acquired, undefined);
    return promise;
  }

  /** The source hands over the lease this attempt waits for, or the error that ended its wait (LeaseReceiver). */
  [receiveLease](lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error?: unknown): void {
    if (this.#wait === undefined) this.#deliverSoon(lease, error);
    else this.#wait.deliver(lease, error);
  }

  // Delivered within acquire itself (the source found it need not wait after all): once the wait has begun.
  #deliverSoon(lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error: unknown): void {
    queueMicrotask(() => this.#wait!.deliver(lease, error));
  }

  /** The wait for a connection ended (LeaseWait): run the operation, or fail unsent (attempt 1: into the retry loop). */
  [leaseSettled](lease: Lease<Client> | undefined, error: unknown): T | Promise<T> {
    try {
      if (lease === undefined) throw this.#failed(error, true);
      return this.#runOp(lease, false);
    } catch (failure) {
      if (this.#recovers) return this.#host.recover(this.#run, this.#op, failure);
      throw failure;
    }
  }

  /** The second half of an attempt: the operation itself, raced against the attempt timeout and deadline. */
  #runOp(lease: Lease<Client>, acquiredNow: boolean): T | Promise<T> {
    const run = this.#run;
    this.#lease = lease;
    const node = lease.node;
    this.node = node;
    if (this.#span !== undefined) this.#host.telemetry.attemptNode(run, this.#span, node);
    // An abort or a deadline noticed here stops the attempt before the operation runs: nothing was sent.
    if (callerAborted(run)) throw this.#failed(new Interrupt('aborted'), true);
    // A synchronous acquire took no time worth a clock read.
    const now = acquiredNow ? this.#start : this.#host.clock.now();
    const remaining = run.deadlineAt - now;
    if (remaining <= 0) throw this.#failed(new Interrupt('deadline'), true);
    const timeout = run.attemptTimeoutMs > 0 ? run.attemptTimeoutMs : Number.POSITIVE_INFINITY;
    const limit = timeout <= remaining ? timeout : remaining;
    this.#timeoutMs = limit;
    const op = this.#op; // called as a plain function, as the caller wrote it (no `this`)
    let result: T | PromiseLike<T>;
    try {
      result =
        this.#context === undefined
          ? op(lease.client, this)
          : context.with(this.#context, op, undefined, lease.client, this);
    } catch (error) {
      throw this.#failed(error, false);
    }
    if (!isPromiseLike(result)) {
      this.#succeeded();
      return result;
    }
    // Nothing can cut this attempt short: no race, no extra promise, just the continuation.
    if (limit === Number.POSITIVE_INFINITY && run.signal === undefined && run.hedgeRole === undefined)
      return this.#settleLater(result);
    return this.#race(result, now + limit, limit, timeout <= remaining ? 'timeout' : 'deadline');
  }

  /** The continuation of an operation nothing can cut short (no timeout, no deadline, no caller signal). */
  #settleLater(result: PromiseLike<T>): Promise<T> {
    return Promise.resolve(result).then(
      (value) => {
        this.#succeeded();
        return value;
      },
      (error: unknown) => {
        const failure = this.#failed(error, false);
        if (this.#recovers) return this.#host.recover(this.#run, this.#op, failure);
        throw failure;
      },
    );
  }

  /**
   * Settles at `limit` (`why`) or on the caller's abort, aborting the attempt's signal; an operation
   * that ignores its signal is abandoned: the caller does not wait for it. One promise per attempt.
   */
  #race(result: PromiseLike<T>, at: number, limit: number, why: InterruptWhy): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      if (limit === Number.POSITIVE_INFINITY)
        settleFirst(this.#host.clock, this.#run, result, limit, why, this, this);
      else settleWithin(this.#host.timeouts, this.#run, result, at, limit, why, this, this);
    });
  }

  /** The operation fulfilled before the timer (part of {@link Settle}). */
  [settleValue](value: T): void {
    this.#succeeded();
    this.#resolve(value);
  }

  /**
   * The operation failed or was cut short (part of {@link Settle}): the first attempt resolves
   * execute()'s promise with the retry loop, later ones reject with AttemptFailed.
   */
  [settleError](error: unknown): void {
    const failure = this.#failed(error, false);
    if (this.#recovers) this.#resolve(this.#host.recover(this.#run, this.#op, failure));
    // AttemptFailed is internal: the retry loop catches it and never lets it reach the caller.
    else this.#reject(failure);
  }

  /** Bookkeeping of a successful attempt (and so of the operation): metrics, breaker, passive health, spans. */
  #succeeded(): void {
    const { source, breaker, telemetry } = this.#host;
    const run = this.#run;
    const reports = source.report !== undefined;
    // The end of the attempt feeds only the success report and the duration metric: read it only for them.
    if (reports || telemetry.metricsLive) run.endedAt = this.#host.clock.now();
    telemetry.attemptSucceeded(this.#span);
    if (breaker !== undefined) {
      const change = breaker.success();
      if (change !== undefined) telemetry.breakerChange(run, change.from, change.to);
    }
    const budget = this.#host.budget;
    if (budget !== undefined) budget.succeeded(this.#host.budgetSharesClock ? run.start : undefined);
    if (reports) {
      report(source, this.#lease as Lease<Client>, { ok: true, durationMs: run.endedAt - this.#start });
    }
    // A hedged read ends when the hedge settles it (engine/hedge): it cancels the other attempts first.
    if (run.hedgeRole !== undefined) return;
    run.done();
    telemetry.succeeded(run, this.attempt);
  }

  /** Turns the attempt's error (or interrupt) into an {@link AttemptFailed}: classify, report, feed the breaker. */
  #failed(error: unknown, beforeSend: boolean): AttemptFailed {
    const { source, breaker, telemetry } = this.#host;
    const run = this.#run;
    const lease = this.#lease;
    const durationMs = this.#host.clock.now() - this.#start;
    let interrupt: InterruptWhy | undefined;
    let cause = error;
    if (error instanceof Interrupt) {
      interrupt = error.why;
      // What the attempt failed with, for the attempts list and the span: a timeout in both time cases.
      cause =
        error.why === 'aborted'
          ? run.signal?.reason
          : error.why === 'hedged'
            ? new HedgeCancelledError()
            : new AttemptTimeoutError(error.why === 'timeout' ? run.attemptTimeoutMs : durationMs);
    }
    // The executor's own interrupts carry their kind; everything else is the source's or the operation's error.
    const classification: Classification =
      interrupt !== undefined
        ? interruptClassification(interrupt, beforeSend)
        : classifyFailure(cause, this.#host.classify, beforeSend);

    if (breaker !== undefined) {
      const change = judgeFailure(breaker, classification, interrupt);
      if (change !== undefined) telemetry.breakerChange(run, change.from, change.to);
    }
    // Every lease handed out is reported back, so the source can count what runs (see AttemptReport's `interrupt`).
    if (lease !== undefined) {
      report(
        source,
        lease,
        interrupt === undefined
          ? { ok: false, durationMs, error: cause, classification }
          : { ok: false, durationMs, error: cause, classification, interrupt },
      );
    }
    telemetry.attemptFailed(run, this.#span, cause, classification, interrupt, lease !== undefined);
    return new AttemptFailed(cause, classification, interrupt, lease?.node, durationMs);
  }
}
