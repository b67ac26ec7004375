import { NotConnectedError, StoppedError } from '../../errors.js';
import type { ReconnectPolicy } from '../../policy/resolved.js';
import { systemClock, type Clock } from '../../time/clock.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { idleState, transition, type ReconnectorInput, type ReconnectorState } from './reconnector-state.js';
import { OneShotTimer } from '../../time/one-shot-timer.js';
import { PromiseWaiter, Waiters, type Cancellation, type Waiter } from './waiters.js';
import { withTimeout } from '../../time/with-timeout.js';
import type { TargetState } from '../types.js';
import type { ReconnectorEvents } from './reconnector-events.js';
import { onDemandDelay, onDemandGap, TimeDown } from './on-demand-gap.js';

export type { AttemptStartEvent, ReconnectorEvents } from './reconnector-events.js';

/** Options of a {@link Reconnector}. */
export interface ReconnectorOptions {
  policy: ReconnectPolicy;
  /** One connect attempt, resolved when connected; honours `signal` (aborted at `connectTimeout`, on `stop()`). */
  connect: (signal: AbortSignal) => Promise<void>;
  /** The wait before reconnect attempt `attempt` (1-based) given the previous one (the policy's backoff). */
  delay: (attempt: number, previous: number | undefined) => number;
  /** Whether a connect error is one retrying cannot fix (the driver classifies it `auth` or `fatal`). */
  isFinal?: (error: unknown) => boolean;
  /** Whether a connect error says the server is busy, not down (`throttled`): not counted toward maxRetries. */
  isBusy?: (error: unknown) => boolean;
  clock?: Clock;
  /** Spreads on-demand attempts (their delay and gap, see on-demand-gap.ts): 0 ≤ x < 1; defaults to `Math.random`. */
  random?: () => number;
  /** Wall-clock time for event payloads (`at`); defaults to `Date.now`. */
  wallClock?: () => number;
}

/**
 * One target's reconnect loop: the {@link transition} state machine plus the timers and events
 * around it. It connects, and after a loss retries with backoff until connected, `failed`
 * (`maxRetries` scheduled attempts exhausted; then it keeps probing at the cap or stops, per `onExhausted`)
 * or stopped. Operations waiting for the connection may ask for an immediate attempt
 * ({@link Reconnector.nudge}), single-flight and at most one per gap (`minProbeGap`; past a blip, spread over a
 * window growing with the time down, at most 5 s and `backoff.max`: see on-demand-gap.ts). Such on-demand attempts run
 * between the backoff timer's attempts: they neither count toward `maxRetries` nor move the backoff schedule.
 * They follow demand (at most one per operation that asked since the last attempt; waiting asks nothing more),
 * so a quiet fleet sends a down server no more connects than its callers send requests, plus the schedule's.
 */
export class Reconnector extends TypedEmitter<ReconnectorEvents> {
  #policy: ReconnectPolicy;
  readonly #connect: (signal: AbortSignal) => Promise<void>;
  readonly #delay: (attempt: number, previous: number | undefined) => number;
  readonly #isFinal: (error: unknown) => boolean;
  readonly #isBusy: (error: unknown) => boolean;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #wall: () => number;
  #state: ReconnectorState = idleState;
  // The backoff schedule's next attempt (counts toward maxRetries).
  readonly #timer: OneShotTimer;
  // The next on-demand attempt for waiting operations (does not count).
  readonly #nudge: OneShotTimer;
  #inFlight: AbortController | undefined;
  // Whether the attempt in flight is (or was joined by) a scheduled one.
  #inFlightScheduled = false;
  // Connect attempts of any kind since the last start / loss (numbers the `attempt` event).
  #tries = 0;
  // On-demand attempts that failed since the last scheduled one reported (folded into `reconnectFailed`).
  #onDemandFailed = 0;
  // On-demand attempts since the last start / loss (for the `reconnect` event).
  #onDemandTries = 0;
  #lastAttemptAt = -Infinity;
  #gap = 0; // the least wait from the last attempt to an on-demand one (onDemandGap: grows with the time down)
  #demand = false; // an operation asked (nudge) since the last attempt started: one on-demand attempt's credit
  readonly #down = new TimeDown(); // the time down the spread counts (carried over a recovery that did not hold)
  #lastDelay: number | undefined;
  readonly #waiters = new Waiters();

  constructor(options: ReconnectorOptions) {
    super();
    this.#policy = options.policy;
    this.#connect = options.connect;
    this.#delay = options.delay;
    this.#isFinal = options.isFinal ?? (() => false);
    this.#isBusy = options.isBusy ?? (() => false);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#wall = options.wallClock ?? Date.now;
    this.#timer = new OneShotTimer(this.#clock);
    this.#nudge = new OneShotTimer(this.#clock);
  }

  /** The current state (immutable). */
  get state(): ReconnectorState {
    return this.#state;
  }

  /** The current status, as a {@link TargetState}. */
  get status(): TargetState {
    return this.#state.status;
  }

  /** Whether attempts are still made (a `failed` target with `onExhausted: keep-probing` goes on probing). */
  get retrying(): boolean {
    return this.#retrying();
  }
  /** True when connected. */
  isConnected(): boolean {
    return this.#state.status === 'connected';
  }

  /** The last connect or connection error, if the last thing that happened was a failure. */
  lastError(): unknown {
    const s = this.#state;
    return s.status === 'connecting' || s.status === 'reconnecting' || s.status === 'failed'
      ? s.error
      : undefined;
  }

  /** A reload: limits, `connectTimeout` and `minProbeGap` apply from the next attempt (a scheduled one keeps its time). */
  setPolicy(policy: ReconnectPolicy): void {
    this.#policy = policy;
  }

  /** Starts connecting (from `idle` only); the first attempt runs at once. */
  start(): void {
    if (!this.#dispatch({ type: 'start', at: this.#clock.now() })) return;
    this.#resetCounts();
    this.#attempt(true);
  }

  /** Stops: cancels timers and any attempt in flight; waiting operations fail with StoppedError. */
  stop(): void {
    this.#timer.cancel();
    this.#nudge.cancel();
    this.#inFlight?.abort(new StoppedError());
    this.#inFlight = undefined;
    this.#dispatch({ type: 'stop', at: this.#clock.now() });
    this.#waiters.settle(new StoppedError());
  }

  /** The connection was lost: moves to `reconnecting` and schedules the first reconnect attempt. */
  lost(error: unknown): void {
    const from = this.#state.status;
    if (!this.#dispatch({ type: 'lost', at: this.#clock.now(), error })) return;
    if (from !== 'connected') return;
    this.#down.lost(this.#clock.now());
    this.#lastDelay = undefined;
    this.#resetCounts();
    this.#scheduleNext();
  }

  /** The connection is back by other means (a self-reconnecting client reported ready). */
  up(): void {
    const s = this.#state.status;
    if (s !== 'connecting' && s !== 'reconnecting' && s !== 'failed') return;
    this.#timer.cancel();
    this.#nudge.cancel();
    this.#inFlight?.abort(new Error('Connection came back by itself'));
    this.#inFlight = undefined;
    this.#dispatch({ type: 'up', at: this.#clock.now() });
  }

  /**
   * Asks for an attempt now instead of at the next backoff timer, for operations waiting on the
   * connection. Single-flight, and at most one attempt starts per gap: a thousand callers cause one attempt,
   * not a thousand. Past a blip the attempt waits a random part of a window and the gap grows, both with the
   * time down ({@link onDemandDelay}, {@link onDemandGap}), so a fleet's targets whose callers arrive in step
   * after a long outage do not all probe the returning server within the same `minProbeGap`.
   */
  nudge(): void {
    this.#demand = true;
    if (this.#inFlight !== undefined || !this.#retrying()) return;
    const now = this.#clock.now();
    const delay = onDemandDelay(this.#policy, this.#down.at(this.#state, now), this.#random);
    // Past a blip, the attempt drawn for earlier operations answers these too (redrawing would pull it forward).
    if (delay > 0 && this.#nudge.at !== Infinity) return;
    const earliest = Math.max(this.#lastAttemptAt + this.#gap, now + delay);
    if (now >= earliest) this.#attempt(false);
    else this.#setNudgeTimer(earliest - now);
  }

  /** Resolves when connected (at once if so); rejects on stop (StoppedError), giving up, or `signal`'s abort. */
  whenConnected(signal?: AbortSignal | Cancellation): Promise<void> {
    return new Promise((resolve, reject) => this.join(new PromiseWaiter(resolve, reject), signal));
  }

  /** {@link whenConnected} for a waiter of one's own: woken at once when there is nothing to wait for. */
  join(waiter: Waiter, signal?: AbortSignal | Cancellation): void {
    const s = this.#state.status;
    if (s === 'connected') waiter.settle(undefined);
    else if (s === 'stopped') waiter.settle(new StoppedError());
    else if (s === 'failed' && !this.#retrying()) waiter.settle(this.#gaveUpError());
    else if (signal?.aborted === true) waiter.settle(signal.reason);
    else waiter.join(this.#waiters, signal);
  }

  /** The operations waiting for the connection (how many; how they are let go when it comes back). */
  get waiters(): Waiters {
    return this.#waiters;
  }

  #resetCounts(): void {
    this.#tries = 0;
    this.#onDemandFailed = 0;
    this.#onDemandTries = 0;
  }

  // Whether attempts are still being made in this state.
  #retrying(): boolean {
    const s = this.#state;
    return (
      s.status === 'connecting' ||
      s.status === 'reconnecting' ||
      (s.status === 'failed' && s.final !== true && this.#policy.onExhausted === 'keep-probing')
    );
  }

  #dispatch(input: ReconnectorInput): boolean {
    const before = this.#state;
    const after = transition(before, input, this.#policy);
    if (after === before) return false;
    this.#state = after;
    if (after.status !== before.status) this.#announce(before, after, input);
    return true;
  }

  #announce(before: ReconnectorState, after: ReconnectorState, input: ReconnectorInput): void {
    const at = this.#wall();
    const error = 'error' in input ? input.error : undefined;
    const attempt = 'attempt' in before ? before.attempt : 0;
    this.emit('stateChange', { from: before.status, to: after.status, error, attempt, at });
    if (before.status === 'connected' && after.status !== 'stopped') this.emit('disconnect', { error, at });
    if (after.status === 'connected') {
      const recovered = before.status === 'reconnecting' || before.status === 'failed';
      this.#down.up(this.#clock.now(), recovered ? before.downSince : undefined);
      if (recovered) {
        // The schedule's count, as in stateChange and the reconnect span; on-demand attempts apart.
        this.emit('reconnect', {
          attempts: before.attempt,
          onDemandAttempts: this.#onDemandTries,
          downtimeMs: this.#clock.now() - before.downSince,
          at,
        });
      }
      this.#waiters.settle(undefined);
    } else if (after.status === 'failed' && !this.#retrying()) {
      this.#waiters.settle(this.#gaveUpError());
    }
  }

  #gaveUpError(): NotConnectedError {
    return new NotConnectedError('Reconnect attempts are exhausted; the target gave up', {
      cause: this.lastError(),
    });
  }

  // One connect attempt; `scheduled` ones are the backoff schedule's and count toward maxRetries.
  #attempt(scheduled: boolean): void {
    if (!this.#retrying()) return;
    if (this.#inFlight !== undefined) {
      // The backoff timer fired during an on-demand attempt: that attempt is the scheduled one too.
      if (scheduled && !this.#inFlightScheduled) {
        this.#inFlightScheduled = true;
        this.#dispatch({ type: 'attempt', at: this.#clock.now() });
      }
      return;
    }
    this.#nudge.cancel();
    if (scheduled) this.#timer.cancel();
    this.#demand = false; // this attempt answers every operation that asked before it
    this.#dispatch({ type: 'attempt', at: this.#clock.now(), scheduled });
    this.#tries++;
    if (!scheduled) this.#onDemandTries++;
    const attempt = this.#tries;
    const controller = new AbortController();
    this.#inFlight = controller;
    this.#inFlightScheduled = scheduled;
    this.#lastAttemptAt = this.#clock.now();
    this.#gap = onDemandGap(this.#policy, this.#down.at(this.#state, this.#lastAttemptAt), this.#random);
    this.emit('attempt', { attempt, onDemand: !scheduled });

    const timeoutMs = this.#policy.connectTimeout;
    const timeoutError = (): Error =>
      new NotConnectedError(`Connect attempt timed out after ${timeoutMs} ms`, { kind: 'timeout' });
    // Bounded by connectTimeout even when the driver ignores its signal: it must not stall the loop.
    withTimeout(this.#clock, timeoutMs, (signal) => this.#connect(signal), {
      signal: controller.signal,
      timeoutError,
    }).then(
      () => {
        if (this.#inFlight !== controller) return;
        this.#inFlight = undefined;
        this.#timer.cancel();
        this.#nudge.cancel();
        this.#dispatch({ type: 'up', at: this.#clock.now() });
      },
      (error: unknown) => {
        if (this.#inFlight !== controller) return;
        this.#inFlight = undefined;
        const countsToward = this.#inFlightScheduled;
        this.#dispatch({
          type: 'attemptFailed',
          at: this.#clock.now(),
          error,
          final: this.#isFinal(error),
          scheduled: countsToward,
          busy: this.#isBusy(error),
        });
        if (countsToward) this.#scheduleNext();
        // Operations asked during this attempt: again one gap later, not only at the backoff timer.
        if (this.#demand && this.#waiters.size > 0) this.#setNudgeTimer(this.#gap);
        if (!this.#retrying()) {
          this.#timer.cancel();
          this.#nudge.cancel();
        }
        // Operators' logs follow the backoff schedule (as `explain` shows): on-demand failures fold into the next.
        if (!countsToward && this.#retrying()) {
          this.#onDemandFailed++;
          return;
        }
        const s = this.#state;
        const onDemandAttempts = this.#onDemandFailed;
        this.#onDemandFailed = 0;
        this.emit('reconnectFailed', {
          error,
          attempt: 'attempt' in s ? s.attempt : attempt,
          onDemandAttempts,
          nextDelayMs: this.#timer.at === Infinity ? undefined : this.#timer.at - this.#clock.now(),
        });
      },
    );
  }

  // Schedules the backoff schedule's next attempt; returns its delay, or undefined when no attempt follows.
  #scheduleNext(): number | undefined {
    if (!this.#retrying()) return undefined;
    const s = this.#state;
    const n = ('attempt' in s ? s.attempt : 0) + (s.status === 'connecting' ? 0 : 1);
    // After exhaustion (keep-probing), probe at the backoff cap rather than growing further.
    const delay =
      s.status === 'failed' ? this.#policy.backoff.max : this.#delay(Math.max(1, n), this.#lastDelay);
    this.#lastDelay = delay;
    this.#timer.set(delay, () => this.#attempt(true));
    return delay;
  }

  // An on-demand attempt in `ms`, unless one (or the backoff timer's) comes sooner anyway.
  #setNudgeTimer(ms: number): void {
    const at = this.#clock.now() + ms;
    if (at >= this.#nudge.at || at >= this.#timer.at) return;
    this.#nudge.set(ms, () => this.#attempt(false));
  }
}
