import { AttemptTimeoutError, DeadlineExceededError } from '../errors.js';
import { maxTimerMs, type Clock, type TimerHandle } from '../time/clock.js';
import { HedgeCancelledError } from './hedge-cancelled-error.js';
import type { LazySignal } from './lazy-signal.js';
import { callerAborted, Interrupt, type InterruptWhy, type Run } from './operation-run.js';
import type { Timed, TimeoutList } from './timeout-list.js';

// The races of one operation's phases (acquire, attempt, wait between attempts) against a timer and
// the caller's abort. Each phase sets `run.interrupt` while it waits, so the caller's abort (see
// Run.listen) reaches whichever phase is in progress; every timer is cleared on every path.

/** The keys of a {@link Settle}'s callbacks: symbols, because an attempt is its own Settle and is also the
 * context the caller's operation receives, which must not offer them. */
export const settleValue: unique symbol = Symbol('settle.value');
export const settleError: unique symbol = Symbol('settle.error');

/** Receives the outcome of {@link settleFirst}: exactly one of the two is called, once. */
export interface Settle<V> {
  /** The promise fulfilled first. */
  [settleValue](value: V): void;
  /** The promise rejected first (its reason as is), or the phase was cut short (an {@link Interrupt}). */
  [settleError](error: unknown): void;
}

/**
 * What the signal of a phase cut short is aborted with: the caller's reason, an AttemptTimeoutError
 * at the attempt timeout, a DeadlineExceededError at the deadline, a HedgeCancelledError for the losing attempt of
 * a hedged read (what a cooperative client sees).
 */
export function interruptReason(run: Run, why: InterruptWhy): unknown {
  if (why === 'aborted') return run.signal?.reason;
  if (why === 'hedged') return new HedgeCancelledError();
  if (why === 'timeout') return new AttemptTimeoutError(run.attemptTimeoutMs);
  return new DeadlineExceededError(run.deadlineMs);
}

/**
 * The one settle-once race: calls `settle` exactly once, with `promise`'s outcome, or early with an
 * Interrupt at `limitMs` (`why`) or on the caller's abort (via `run.interrupt`), aborting `target`'s
 * signal so a cooperative client stops. An operation that ignores its signal is simply abandoned: the
 * caller does not wait for it. The one timer is cleared on every path. A callback object rather than
 * a promise, so an attempt (which is its own `settle`) costs one promise.
 */
export function settleFirst<V>(
  clock: Clock,
  run: Run,
  promise: PromiseLike<V>,
  limitMs: number,
  why: InterruptWhy,
  target: LazySignal,
  settle: Settle<V>,
): void {
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
    target.abort(interruptReason(run, interruptWhy));
    settle[settleError](new Interrupt(interruptWhy));
  };
  if (limitMs !== Number.POSITIVE_INFINITY) {
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        stop(why);
      },
      Math.min(Math.max(0, limitMs), maxTimerMs),
    );
  }
  run.interrupt = stop;
  promise.then(
    (value) => {
      if (finish()) settle[settleValue](value);
    },
    (error: unknown) => {
      if (finish()) settle[settleError](error);
    },
  );
}

/**
 * {@link settleFirst} for an attempt's operation, its time limit kept in the executor's {@link TimeoutList}
 * instead of a timer of its own: one small object and the promise's two callbacks per attempt (plus one
 * function when the caller passed a signal). `at` is when the limit falls, `limitMs` from now.
 */
export function settleWithin<V>(
  timeouts: TimeoutList,
  run: Run,
  promise: PromiseLike<V>,
  at: number,
  limitMs: number,
  why: InterruptWhy,
  target: LazySignal,
  settle: Settle<V>,
): void {
  const race = new TimedRace(timeouts, run, why, target, settle, at);
  timeouts.add(race, limitMs);
  if (run.signal !== undefined || run.hedgeRole !== undefined)
    run.interrupt = (interruptWhy) => race.stop(interruptWhy);
  promise.then(
    (value) => {
      if (race.finish()) settle[settleValue](value);
    },
    (error: unknown) => {
      if (race.finish()) settle[settleError](error);
    },
  );
}

/**
 * The state of one {@link settleWithin}: settled once, and a link in the timeout list until then. Also the base of
 * an attempt's wait for a connection (acquire-wait.ts), which is its own `settle` (`settle` undefined).
 */
export class TimedRace<V> implements Timed {
  prev: Timed | undefined = undefined;
  next: Timed | undefined = undefined;
  #settled = false;
  readonly settle: Settle<V>;

  constructor(
    readonly timeouts: TimeoutList,
    readonly run: Run,
    readonly why: InterruptWhy,
    readonly target: LazySignal,
    settle: Settle<V> | undefined,
    public at: number,
  ) {
    this.settle = settle ?? (this as unknown as Settle<V>);
  }

  /** Marks it settled (false if it was already): out of the list, no longer the run's interrupt. */
  finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.at !== Number.NEGATIVE_INFINITY) this.timeouts.remove(this);
    this.run.interrupt = undefined;
    return true;
  }

  expire(): void {
    // The list took it out already: finish() must not remove it a second time.
    this.at = Number.NEGATIVE_INFINITY;
    this.stop(this.why);
  }

  stop(why: InterruptWhy): void {
    if (!this.finish()) return;
    this.target.abort(interruptReason(this.run, why));
    this.settle[settleError](new Interrupt(why));
  }
}

/** Waits `ms` between attempts; the caller's abort cuts it short (the deadline was checked before). */
export function wait(clock: Clock, run: Run, ms: number): Promise<void> {
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
      Math.min(ms, maxTimerMs),
    );
    run.interrupt = (why) => {
      clock.clearTimeout(timer);
      run.interrupt = undefined;
      reject(new Interrupt(why));
    };
  });
}
