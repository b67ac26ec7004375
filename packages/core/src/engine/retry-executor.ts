import type { Classification } from '../error-kinds.js';
import { ConfigError, isConfigError, isReconnectError } from '../errors.js';
import type { RetryPolicy } from '../policy/resolved.js';
import { RetryDecisions, RetryReasons, type RetryReason } from '../telemetry/names.js';
import { systemClock, type Clock, type RandomSource } from '../time/clock.js';
import { Attempt, isPromiseLike, type AttemptHost } from './attempt.js';
import { TimeoutList } from './timeout-list.js';
import { retryDelay } from './backoff/compute-delay.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { RetryBudget } from './budget/retry-budget.js';
import { notify, type RetryExecutorEvents } from './events.js';
import { ExecuteTelemetry } from './execute-telemetry.js';
import { giveUpError } from './give-up-error.js';
import { awaitBreakerTrial } from './breaker-wait.js';
import { Hedging, HedgedRead } from './hedge/hedged-read.js';
import {
  AttemptFailed,
  callerAborted,
  claimsNotSent,
  Interrupt,
  isLocal,
  noOptions,
  Run,
} from './operation-run.js';
import { decideRetry } from './retry-decision.js';
import { wait } from './timer-race.js';
import type { ConnectionSource, ExecuteOptions, Operation } from './types.js';

/** Options of {@link RetryExecutor}. */
export interface RetryExecutorOptions<Client> {
  /** The target's name, for errors (`error.target`), spans and metrics. */
  target: string;
  /** The OpenTelemetry `db.system.name` value (the driver's `system`), unless the source describes its database. */
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
  readonly #policy: RetryPolicy;
  readonly #source: ConnectionSource<Client>;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #events: RetryExecutorEvents | undefined;
  readonly #telemetry: ExecuteTelemetry;
  /** What each attempt (engine/attempt.ts) shares with this executor. */
  readonly #attempts: AttemptHost<Client>;
  /** Whether the budget reads the executor's clock, so the operation's start reading can be handed to it. */
  readonly #budgetSharesClock: boolean;
  /** Hedged reads (`retry.hedge`), when on. */
  readonly #hedging: Hedging | undefined;

  constructor(options: RetryExecutorOptions<Client>) {
    this.#target = options.target;
    this.#policy = options.policy;
    this.#source = options.source;
    this.#breaker = options.breaker;
    this.#budget = options.budget;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#events = options.events;
    this.#telemetry = new ExecuteTelemetry(options, this.#clock);
    this.#budgetSharesClock = this.#budget?.clock === this.#clock;
    this.#attempts = {
      clock: this.#clock,
      source: this.#source,
      classify: options.classify.bind(options),
      breaker: this.#breaker,
      budget: this.#budget,
      budgetSharesClock: this.#budgetSharesClock,
      telemetry: this.#telemetry,
      timeouts: new TimeoutList(this.#clock),
      waits: new TimeoutList(this.#clock),
      recover: (run, op, failure, attempts) => this.#recover(run, op, failure, attempts),
    };
    // A policy built by hand (not resolved from a file) may predate the hedge section: no hedging then.
    const hedge = (this.#policy as Partial<RetryPolicy>).hedge;
    this.#hedging = hedge?.enabled === true ? new Hedging(hedge, this.#clock) : undefined;
    if (this.#breaker !== undefined) this.#telemetry.watchBreaker(this.#breaker);
  }

  /** The retry policy this executor runs with. */
  get policy(): RetryPolicy {
    return this.#policy;
  }

  /**
   * Runs `op` with the policy's retries, timeouts, breaker, budget and hedging; resolves with its result or
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
      return this.#refusedAtStart(error);
    }
    try {
      if (!this.#admit(run)) return this.#refusedByBreaker(run);
      if (this.#hedging !== undefined && run.readOnly && run.idempotent)
        return HedgedRead.run(this.#attempts, this.#hedging, this.#policy, options ?? noOptions, run, op);
      first = Attempt.start(this.#attempts, run, op, 1);
    } catch (failure) {
      return this.#recover(run, op, failure);
    }
    // A promise from the first attempt already hands its failures to #recover (see Attempt.start).
    return isPromiseLike(first) ? (first as Promise<T>) : Promise.resolve(first);
  }

  /** execute()'s promise when the call could not start: a ConfigError (bad per-call option) or the AbortedError of an already-aborted signal. */
  #refusedAtStart(error: unknown): Promise<never> {
    // A bad per-call option is found where the target is not known (Run's constructor): the error is built again,
    // complete, with it.
    if (isConfigError(error)) error = new ConfigError(error.issues, error.file, { target: this.#target });
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(error);
  }

  /** execute()'s promise when the open breaker admits no first attempt (out of line: the success path stays small). */
  #refusedByBreaker(run: Run): Promise<never> {
    run.done();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- always a BreakerOpenError
    return Promise.reject(this.#giveUp(run, 0, RetryReasons.BREAKER_OPEN, undefined));
  }

  /** Reads the options, opens the execute span, listens to the caller's signal, deposits into the budget. */
  #begin(options: ExecuteOptions | undefined): Run {
    const start = this.#clock.now();
    const run = new Run(this.#policy, options ?? noOptions, start);
    this.#telemetry.open(run, options);
    if (run.signal !== undefined) this.#listen(run, run.signal);
    this.#budget?.deposit(this.#budgetSharesClock ? start : undefined);
    return run;
  }

  /** Lets the caller's signal cut `run` short; throws the AbortedError of a signal aborted already. */
  #listen(run: Run, signal: AbortSignal): void {
    if (signal.aborted) throw this.#giveUp(run, 0, RetryReasons.ABORTED, undefined);
    run.listen(signal);
  }

  /** After failed attempt `attempts` (the first, or a hedged read's last): decide, wait, retry, to success or give-up. */
  async #recover<T>(run: Run, op: Operation<Client, T>, failure: unknown, attempts = 1): Promise<T> {
    try {
      let current = failure;
      for (let n = attempts; ; n++) {
        // Anything but an AttemptFailed is a bug in this class or a listener: let it surface as is.
        if (!(current instanceof AttemptFailed)) throw current;
        await this.#afterFailure(run, current, n);
        if (!this.#admit(run) && !(await this.#awaitTrial(run, n)))
          throw this.#giveUp(run, n, RetryReasons.BREAKER_OPEN, run.lastFailure);
        try {
          return await Attempt.start(this.#attempts, run, op, n + 1);
        } catch (next) {
          current = next;
        }
      }
    } finally {
      run.done();
      // Only a bug gets here with the span open (neither a give-up nor a success): still close it.
      this.#telemetry.abandoned(run);
    }
  }

  /** After failed attempt `attempt`: gives up (throws the give-up error) or waits the backoff delay and returns. */
  async #afterFailure(run: Run, failure: AttemptFailed, attempt: number): Promise<void> {
    run.recordFailure(failure, attempt);
    if (isLocal(failure)) return this.#retryLocal(run, failure, attempt);
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
    // of a fatal error allowed by `retryIf` is as much load as one after a connection failure. A retry that will
    // wait for the reconnect (the source says it is not connected) adds no load now: it is sent, once, to the
    // server that came back, like the operations that waited from the start.
    if (this.#budget !== undefined && this.#source.connected?.() !== false && !this.#budget.tryWithdraw()) {
      this.#telemetry.budgetExhausted(run, attempt);
      throw this.#giveUp(run, attempt, RetryReasons.BUDGET_EXHAUSTED, failure);
    }
    run.prevDelay = delay;
    return this.#retryAfter(run, failure, attempt, delay, RetryReasons.RETRYABLE);
  }

  /**
   * After a failure the client itself caused before sending (its pool closing for a reconnect, a wait in its own
   * queue): not a retry against the server, so neither the budget nor `maxRetries` is charged and `retryOn` is
   * not asked; the next attempt waits for the reconnect like any new operation. The first goes at once; more in a
   * row wait the backoff (uncharged), so a client that keeps failing so cannot spin. The deadline still rules.
   */
  async #retryLocal(run: Run, failure: AttemptFailed, attempt: number): Promise<void> {
    // A local failure is never an interrupt (see isLocal): only the caller's signal can have aborted.
    if (callerAborted(run)) throw this.#giveUp(run, attempt, RetryReasons.ABORTED, failure);
    const n = ++run.localRetries;
    const delay =
      n === 1
        ? 0
        : retryDelay(this.#policy.backoff, this.#policy.delay, n - 1, undefined, this.#random, undefined);
    if (this.#clock.now() + delay >= run.deadlineAt)
      throw this.#giveUp(run, attempt, RetryReasons.DEADLINE, failure);
    return this.#retryAfter(run, failure, attempt, delay, RetryReasons.LOCAL);
  }

  /** Records the decision to retry after `delay` ms and waits it out (the caller's abort cuts the wait). */
  async #retryAfter(
    run: Run,
    failure: AttemptFailed,
    attempt: number,
    delay: number,
    reason: typeof RetryReasons.RETRYABLE | typeof RetryReasons.LOCAL,
  ): Promise<void> {
    this.#telemetry.decided(run, attempt, RetryDecisions.RETRY, reason, delay);
    const event = { operation: run.name, attempt, delayMs: delay, error: failure.error, reason };
    notify(this.#events, 'retry', event);
    if (delay > 0) {
      try {
        await wait(this.#clock, run, delay);
      } catch (interrupt) {
        if (!(interrupt instanceof Interrupt)) throw interrupt;
        throw this.#giveUp(run, attempt, RetryReasons.ABORTED, failure);
      }
    } else if (callerAborted(run)) {
      throw this.#giveUp(run, attempt, RetryReasons.ABORTED, failure);
    }
  }

  /** The give-up reason after failed attempt `attempt`, or `undefined` when it may be retried. */
  #verdict(run: Run, failure: AttemptFailed, attempt: number): RetryReason | undefined {
    if (failure.interrupt === 'aborted') return RetryReasons.ABORTED;
    if (failure.interrupt === 'deadline') return RetryReasons.DEADLINE;
    const c = failure.classification;
    // The source refused before sending and says retrying cannot help now (whileReconnecting: fail-fast).
    if (c.sent === false && isReconnectError(failure.error) && failure.error.retryable === false)
      return RetryReasons.NOT_RETRYABLE;
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
    if (attempt - run.localRetries - run.hedges > this.#policy.maxRetries) return RetryReasons.MAX_RETRIES;
    if (callerAborted(run)) return RetryReasons.ABORTED;
    return undefined;
  }

  /**
   * Whether the breaker (if any) lets the next attempt through; records its transitions on the span. The breaker
   * guards what is sent to a server believed up: while the source is reconnecting, it is not asked, and the
   * source's own rule (`whileReconnecting`: wait within the deadline, or fail fast) decides, however the server died.
   */
  #admit(run: Run): boolean {
    const breaker = this.#breaker;
    if (breaker === undefined) return true;
    const before = breaker.state;
    if (before === 'closed') return true;
    if (this.#source.connected?.() === false) return true;
    const ok = breaker.tryAcquire();
    const after = breaker.state;
    if (after !== before) this.#telemetry.breakerChange(run, before, after);
    return ok;
  }

  /** A retry the open breaker refused: waits for its trial if the operation may already have run (see awaitBreakerTrial). */
  async #awaitTrial(run: Run, attempt: number): Promise<boolean> {
    try {
      return await awaitBreakerTrial(this.#breaker!, this.#clock, run, () => this.#admit(run));
    } catch (interrupt) {
      if (!(interrupt instanceof Interrupt)) throw interrupt;
      throw this.#giveUp(run, attempt, RetryReasons.ABORTED, run.lastFailure);
    }
  }

  /** The error an operation gives up with after `attempts` attempts, recorded (span, metrics, `giveUp` callback). */
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
        targetDown: this.#source.connected?.() === false ? this.#source.lastConnectError?.() : undefined,
      });
    this.#telemetry.gaveUp(run, attempts, reason, error);
    notify(this.#events, 'giveUp', { operation: run.name, attempt: attempts, reason, error });
    return error;
  }

  /** Milliseconds until an open breaker admits a trial call, for the BreakerOpenError's message. */
  #breakerRetryIn(): number | undefined {
    const at = this.#breaker?.retryAt;
    return at === undefined ? undefined : Math.max(0, Math.ceil(at - this.#clock.now()));
  }
}
