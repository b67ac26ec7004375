import { NotConnectedError, StoppedError } from '../errors.js';
import type { ReconnectPolicy } from '../policy/resolved.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { idleState, transition, type ReconnectorInput, type ReconnectorState } from './reconnector-state.js';
import type {
  DisconnectEvent,
  ReconnectEvent,
  ReconnectFailedEvent,
  StateChangeEvent,
  TargetState,
} from './types.js';

/** Payload of `attempt`: one connect attempt starts (for spans: one event per try). */
export interface AttemptStartEvent {
  attempt: number;
  /** True for an on-demand attempt triggered by a waiting operation rather than the backoff timer. */
  onDemand: boolean;
}

/** Events of a {@link Reconnector}. */
export interface ReconnectorEvents {
  stateChange: StateChangeEvent;
  disconnect: DisconnectEvent;
  reconnect: ReconnectEvent;
  reconnectFailed: ReconnectFailedEvent;
  attempt: AttemptStartEvent;
}

/** Options of a {@link Reconnector}. */
export interface ReconnectorOptions {
  policy: ReconnectPolicy;
  /**
   * One connect attempt. Resolves when connected; must honour `signal` (aborted at
   * `connectTimeout` and on `stop()`).
   */
  connect: (signal: AbortSignal) => Promise<void>;
  /**
   * The wait before reconnect attempt `attempt` (1-based) given the previous wait; the target passes the
   * engine's `computeDelay` over `policy.reconnect.backoff` (or `policy.reconnect.delay`).
   */
  delay: (attempt: number, previous: number | undefined) => number;
  /** Whether a connect error is one retrying cannot fix (the driver classifies it `auth` or `fatal`). */
  isFinal?: (error: unknown) => boolean;
  clock?: Clock;
  /** Wall-clock time for event payloads (`at`); defaults to `Date.now`. */
  wallClock?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * One target's reconnect loop: the {@link transition} state machine plus the timers and events
 * around it. It connects, and after a loss retries with backoff until connected, `failed`
 * (`maxRetries` exhausted; then it keeps probing at the cap or stops, per `onExhausted`) or stopped.
 * Operations waiting for the connection may ask for an immediate attempt ({@link Reconnector.nudge}),
 * single-flight and at most one per `minProbeGap`.
 */
export class Reconnector extends TypedEmitter<ReconnectorEvents> {
  readonly #policy: ReconnectPolicy;
  readonly #connect: (signal: AbortSignal) => Promise<void>;
  readonly #delay: (attempt: number, previous: number | undefined) => number;
  readonly #isFinal: (error: unknown) => boolean;
  readonly #clock: Clock;
  readonly #wall: () => number;
  #state: ReconnectorState = idleState;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #inFlight: AbortController | undefined;
  #lastAttemptAt = -Infinity;
  #lastDelay: number | undefined;
  #waiters = new Set<Waiter>();

  constructor(options: ReconnectorOptions) {
    super();
    this.#policy = options.policy;
    this.#connect = options.connect;
    this.#delay = options.delay;
    this.#isFinal = options.isFinal ?? (() => false);
    this.#clock = options.clock ?? systemClock;
    this.#wall = options.wallClock ?? Date.now;
  }

  /** The current state (immutable). */
  get state(): ReconnectorState {
    return this.#state;
  }

  /** The current status, as a {@link TargetState}. */
  get status(): TargetState {
    return this.#state.status;
  }

  /** Whether a connect attempt is running. */
  get attempting(): boolean {
    return this.#inFlight !== undefined;
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

  /** Starts connecting (from `idle` only); the first attempt runs at once. */
  start(): void {
    if (!this.#dispatch({ type: 'start', at: this.#clock.now() })) return;
    this.#attempt(false);
  }

  /** Stops: cancels timers and any attempt in flight; waiting operations fail with StoppedError. */
  stop(): void {
    this.#cancelTimer();
    this.#inFlight?.abort(new StoppedError());
    this.#inFlight = undefined;
    this.#dispatch({ type: 'stop', at: this.#clock.now() });
    this.#settleWaiters(new StoppedError());
  }

  /** The connection was lost: moves to `reconnecting` and schedules the first reconnect attempt. */
  lost(error: unknown): void {
    const from = this.#state.status;
    if (!this.#dispatch({ type: 'lost', at: this.#clock.now(), error })) return;
    if (from !== 'connected') return;
    this.#lastDelay = undefined;
    this.#scheduleNext();
  }

  /** The connection is back by other means (a self-reconnecting client reported ready). */
  up(): void {
    const s = this.#state.status;
    if (s !== 'connecting' && s !== 'reconnecting' && s !== 'failed') return;
    this.#cancelTimer();
    this.#inFlight?.abort(new Error('Connection came back by itself'));
    this.#inFlight = undefined;
    this.#dispatch({ type: 'up', at: this.#clock.now() });
  }

  /**
   * Asks for an attempt now instead of at the next backoff timer, for operations waiting on the
   * connection. Single-flight, and at most one attempt starts per `minProbeGap`: a thousand callers
   * cause one attempt, not a thousand.
   */
  nudge(): void {
    if (this.#inFlight !== undefined || !this.#retrying()) return;
    const earliest = this.#lastAttemptAt + this.#policy.minProbeGap;
    const now = this.#clock.now();
    if (now >= earliest) {
      this.#cancelTimer();
      this.#attempt(true);
    } else if (earliest < this.#timerAt) {
      this.#setTimer(earliest - now, true);
    }
  }

  /**
   * Resolves when connected; rejects when the reconnector stops (StoppedError), gives up for good
   * (NotConnectedError) or `signal` aborts (its reason). Immediate when already connected.
   */
  whenConnected(signal?: AbortSignal): Promise<void> {
    const s = this.#state.status;
    if (s === 'connected') return Promise.resolve();
    if (s === 'stopped') return Promise.reject(new StoppedError());
    if (s === 'failed' && !this.#retrying()) return Promise.reject(this.#gaveUpError());
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters.delete(waiter);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.add(waiter);
    });
  }

  /** How many operations are waiting for the connection. */
  get waiting(): number {
    return this.#waiters.size;
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
      if (before.status === 'reconnecting' || before.status === 'failed') {
        this.emit('reconnect', {
          attempts: before.attempt,
          downtimeMs: this.#clock.now() - before.downSince,
          at,
        });
      }
      this.#settleWaiters(undefined);
    } else if (after.status === 'failed' && !this.#retrying()) {
      this.#settleWaiters(this.#gaveUpError());
    }
  }

  #gaveUpError(): NotConnectedError {
    return new NotConnectedError('Reconnect attempts are exhausted; the target gave up', {
      cause: this.lastError(),
    });
  }

  #settleWaiters(error: unknown): void {
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) {
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  #attempt(onDemand: boolean): void {
    if (this.#inFlight !== undefined || !this.#retrying()) return;
    this.#dispatch({ type: 'attempt', at: this.#clock.now() });
    const attempt = 'attempt' in this.#state ? this.#state.attempt : 0;
    const controller = new AbortController();
    this.#inFlight = controller;
    this.#lastAttemptAt = this.#clock.now();
    this.emit('attempt', { attempt, onDemand });

    const timeoutMs = this.#policy.connectTimeout;
    let timeoutTimer: TimerHandle | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timeoutTimer = this.#clock.setTimeout(() => {
        const error = new NotConnectedError(`Connect attempt timed out after ${timeoutMs} ms`);
        error.kind = 'timeout';
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // Race the timer: a driver that ignores its signal must not stall the loop.
    Promise.race([this.#connect(controller.signal), timedOut]).then(
      () => {
        if (timeoutTimer !== undefined) this.#clock.clearTimeout(timeoutTimer);
        if (this.#inFlight !== controller) return;
        this.#inFlight = undefined;
        this.#dispatch({ type: 'up', at: this.#clock.now() });
      },
      (error: unknown) => {
        if (timeoutTimer !== undefined) this.#clock.clearTimeout(timeoutTimer);
        if (this.#inFlight !== controller) return;
        this.#inFlight = undefined;
        this.#dispatch({ type: 'attemptFailed', at: this.#clock.now(), error, final: this.#isFinal(error) });
        const next = this.#scheduleNext();
        this.emit('reconnectFailed', { error, attempt, nextDelayMs: next });
      },
    );
  }

  // Schedules the next backoff attempt; returns its delay, or undefined when no attempt follows.
  #scheduleNext(): number | undefined {
    if (!this.#retrying()) return undefined;
    const s = this.#state;
    const n = ('attempt' in s ? s.attempt : 0) + (s.status === 'connecting' ? 0 : 1);
    // After exhaustion (keep-probing), probe at the backoff cap rather than growing further.
    const delay =
      s.status === 'failed' ? this.#policy.backoff.max : this.#delay(Math.max(1, n), this.#lastDelay);
    this.#lastDelay = delay;
    // Operations are waiting: keep trying once per minProbeGap rather than at the (longer) backoff timer.
    const wait = this.#waiters.size > 0 ? Math.min(delay, this.#policy.minProbeGap) : delay;
    this.#setTimer(wait, wait < delay);
    return wait;
  }

  #setTimer(ms: number, onDemand: boolean): void {
    this.#cancelTimer();
    this.#timerAt = this.#clock.now() + ms;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#attempt(onDemand);
    }, ms);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
