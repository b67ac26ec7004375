import type { BreakerStateChangeEvent } from '../events.js';
import type { CircuitBreakerPolicy } from '../../policy/resolved.js';
import { systemClock, type Clock } from '../../time/clock.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import {
  admitted,
  closedState,
  transition,
  type BreakerEvent,
  type BreakerState,
  type CircuitState,
} from './breaker-state.js';

/** Events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  stateChange: BreakerStateChangeEvent;
}

/**
 * A target's circuit breaker: closed → open after `failureThreshold` consecutive failures (or a failure
 * rate over `window`) → half-open after the opening's length, admitting `halfOpenMaxCalls` trial calls → closed
 * when they all succeed, open again when one fails. An opening from closed lasts `FIRST_OPEN_MS` (1 s; or
 * `openFor` if shorter); each failed trial doubles it, up to `openFor`. No timers: open → half-open is decided when a call
 * arrives. The state machine is the pure {@link transition}; this class owns the clock and events.
 *
 * Feed it only failures that say something about the server's health (connection, timeout, transient,
 * throttled); a request the server refused as wrong (fatal, auth) proves the server is up.
 */
export class CircuitBreaker extends TypedEmitter<CircuitBreakerEvents> {
  readonly #policy: CircuitBreakerPolicy;
  readonly #clock: Clock;
  #state: BreakerState = closedState;

  constructor(policy: CircuitBreakerPolicy, clock: Clock = systemClock) {
    super();
    this.#policy = policy;
    this.#clock = clock;
  }

  /** The public state. An open breaker whose opening has passed reads `open` until a call arrives. */
  get state(): CircuitState {
    return this.#state.kind;
  }

  /** The inner state (tagged union), for diagnostics and tests. */
  get snapshot(): BreakerState {
    return this.#state;
  }

  /** When an open breaker will admit a trial call (ms on its clock); `undefined` unless open. */
  get retryAt(): number | undefined {
    return this.#state.kind === 'open' ? this.#state.openedAt + this.#state.openMs : undefined;
  }

  /**
   * Asks to let one call through. `true`: go ahead, and later report it with {@link success},
   * {@link failure} or {@link release}. `false`: the breaker is open (or half-open and full).
   */
  tryAcquire(): boolean {
    const before = this.#state;
    if (before.kind === 'closed') return true;
    this.#apply({ type: 'admit', at: this.#clock.now() });
    return admitted(before, this.#state);
  }

  /** The call succeeded, or failed in a way that shows the server is up. Returns the state change, if any. */
  success(): BreakerStateChangeEvent | undefined {
    // The hot path: a success on a healthy closed breaker changes nothing and reads no clock.
    if (this.#state === closedState) return undefined;
    return this.#apply({ type: 'success', at: this.#clock.now() });
  }

  /** The call failed in a way that reflects the server's health. Returns the state change, if any. */
  failure(): BreakerStateChangeEvent | undefined {
    return this.#apply({ type: 'failure', at: this.#clock.now() });
  }

  /**
   * An active health probe passed. A breaker open for at least `minOpenMs` (the probe interval) turns half-open, so
   * the next call is its trial call, not refused for the rest of `openFor` while the server answers (a lock
   * released, a slow spell over): while probes pass, a trial every probe interval; a failing trial opens it again.
   */
  probeSucceeded(minOpenMs: number): BreakerStateChangeEvent | undefined {
    if (this.#state.kind !== 'open') return undefined;
    return this.#apply({ type: 'probeOk', at: this.#clock.now(), minOpenMs });
  }

  /** The call ended without a verdict (aborted by the caller): frees its half-open slot. */
  release(): void {
    if (this.#state.kind === 'half-open') this.#apply({ type: 'release', at: this.#clock.now() });
  }

  /**
   * Closes the breaker because the server was proven healthy out of band: the target reconnected, and
   * its connect + probe was the trial call a half-open breaker would have made. Without this, operations
   * would keep failing fast for the rest of `openFor` after the server is back.
   */
  reset(): BreakerStateChangeEvent | undefined {
    if (this.#state === closedState) return undefined;
    return this.#apply({ type: 'reset', at: this.#clock.now() });
  }

  #apply(event: BreakerEvent): BreakerStateChangeEvent | undefined {
    const from = this.#state.kind;
    this.#state = transition(this.#state, event, this.#policy);
    const to = this.#state.kind;
    if (from === to) return undefined;
    const change: BreakerStateChangeEvent = { from, to, at: Date.now() };
    this.emit('stateChange', change);
    return change;
  }
}
