import { AttemptTimeoutError } from '../../errors.js';
import type { HealthCheckPolicy } from '../../policy/resolved.js';
import { systemClock, type Clock, type RandomSource, type TimerHandle } from '../../time/clock.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { withTimeout } from '../../time/with-timeout.js';

// The abort reason of probes cut short by stop(): their failure is not the server's.
const stopReason = new Error('Health checker stopped');

/** Consecutive outcome counters and the verdict they add up to. */
export interface HealthCounters {
  readonly healthy: boolean;
  readonly failures: number;
  readonly successes: number;
}

/** The counters of a freshly connected target: healthy, nothing counted. */
export const initialHealth: HealthCounters = { healthy: true, failures: 0, successes: 0 };

/**
 * Folds one outcome (an active probe or a real operation) into the counters: down after
 * `failureThreshold` consecutive failures, up after `successThreshold` consecutive successes. Pure.
 */
export function recordOutcome(
  counters: HealthCounters,
  ok: boolean,
  policy: Pick<HealthCheckPolicy, 'failureThreshold' | 'successThreshold'>,
): HealthCounters {
  if (ok) {
    const successes = counters.successes + 1;
    const healthy = counters.healthy || successes >= policy.successThreshold;
    return { healthy, failures: 0, successes };
  }
  const failures = counters.failures + 1;
  const healthy = counters.healthy && failures < policy.failureThreshold;
  return { healthy, failures, successes: 0 };
}

/**
 * The wait before the next probe: `interval` spread by ±`jitter` (a fraction), so a fleet of
 * processes started together does not probe in lock-step.
 */
export function nextProbeDelay(
  policy: Pick<HealthCheckPolicy, 'interval' | 'jitter'>,
  random: RandomSource,
): number {
  const spread = policy.interval * policy.jitter;
  return Math.max(0, policy.interval - spread + 2 * spread * random());
}

/**
 * The longest an idle target's dead-but-silent (hung) server can go unnoticed by active checks: the next
 * probe is at most `interval · (1 + jitter)` away, and each of the `failureThreshold` probes that confirm
 * it runs to its `timeout`, back to back. Real operations' failures usually notice it sooner (passive).
 */
export function worstCaseDetectionMs(
  policy: Pick<HealthCheckPolicy, 'interval' | 'jitter' | 'timeout' | 'failureThreshold'>,
): number {
  return policy.interval * (1 + policy.jitter) + policy.failureThreshold * policy.timeout;
}

/** Payload of the checker's `probe` event: one active probe finished. */
export interface ProbeResult {
  ok: boolean;
  durationMs: number;
  error: unknown;
}

/** Events of a {@link HealthChecker}. */
export interface HealthCheckerEvents {
  probe: ProbeResult;
  /** `failureThreshold` consecutive failures: the target (or node) is down. */
  down: { error: unknown };
  /** `successThreshold` consecutive successes after being down. */
  up: Record<string, never>;
}

/** Options of a {@link HealthChecker}. */
export interface HealthCheckerOptions {
  policy: HealthCheckPolicy;
  /** One probe; must honour the signal (it is aborted at `timeout`). */
  probe: (signal: AbortSignal) => Promise<void>;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Probes every `interval` (with jitter), aborting each probe at `timeout`, and turns probe results
 * and real operation outcomes (passive checks, {@link HealthChecker.record}) into up/down verdicts.
 */
export class HealthChecker extends TypedEmitter<HealthCheckerEvents> {
  #policy: HealthCheckPolicy;
  readonly #probe: (signal: AbortSignal) => Promise<void>;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  #counters: HealthCounters = initialHealth;
  #timer: TimerHandle | undefined;
  #running = false;
  #inFlight: AbortController | undefined;

  constructor(options: HealthCheckerOptions) {
    super();
    this.#policy = options.policy;
    this.#probe = options.probe;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** The current verdict and counters. */
  get counters(): HealthCounters {
    return this.#counters;
  }

  /** Whether the last verdict is up. */
  get healthy(): boolean {
    return this.#counters.healthy;
  }

  /** Starts periodic probing (a no-op when `enabled` is false) with fresh, healthy counters. */
  start(): void {
    this.#counters = initialHealth;
    this.#running = true;
    this.#schedule();
  }

  /**
   * Takes a new policy (a reload). Thresholds apply to the counters as they stand; a probe waiting for its
   * timer is rescheduled on the new interval (a probe in flight finishes, and the next one follows the new
   * policy); enabling or disabling takes effect now.
   */
  setPolicy(policy: HealthCheckPolicy): void {
    this.#policy = policy;
    // A stopped checker has no timer, and #schedule() does nothing unless running.
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#schedule();
    } else if (this.#inFlight === undefined) {
      this.#schedule();
    }
  }

  /** Stops probing and aborts a probe in flight; leaves no timer behind. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort(stopReason);
    this.#inFlight = undefined;
  }

  /**
   * Feeds one outcome into the counters: a probe result, or a real operation's (passive check).
   * Emits `down` / `up` when a threshold is crossed.
   */
  record(ok: boolean, error?: unknown): void {
    const before = this.#counters;
    // Allocation-free fast path: a success on a healthy, clean counter changes nothing that matters.
    if (ok && before.healthy && before.failures === 0) return;
    const after = recordOutcome(before, ok, this.#policy);
    this.#counters = after;
    if (before.healthy && !after.healthy) this.emit('down', { error });
    else if (!before.healthy && after.healthy) this.emit('up', {});
    // A real operation's failure is a suspicion too: confirm it with a probe now, not an interval later, so a
    // crash under traffic is declared within a few refused probes (before a burst of failures opens the breaker).
    else if (!ok && after.healthy && before.failures === 0) this.suspect();
  }

  /**
   * Something suggests the server is unwell (an operation failed, the breaker opened — after which operations stop
   * and passive health learns no more): run the next probe now rather than at its timer, so a dead server is
   * declared so and reconnected instead of waiting out `openFor`. Nothing happens while a probe is in flight or
   * when probing is off.
   */
  suspect(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.check().finally(() => this.#schedule());
    }, 0);
  }

  /** Runs one probe now, bounded by `timeout`; records and returns its result. */
  async check(): Promise<ProbeResult> {
    const controller = new AbortController();
    this.#inFlight = controller;
    const started = this.#clock.now();
    const timeoutMs = this.#policy.timeout;
    let result: ProbeResult;
    try {
      // Settles at the timeout or at stop() (stopReason) even if the probe ignores its signal.
      await withTimeout(this.#clock, timeoutMs, this.#probe, {
        signal: controller.signal,
        timeoutError: () => new AttemptTimeoutError(timeoutMs),
      });
      result = { ok: true, durationMs: this.#clock.now() - started, error: undefined };
    } catch (error) {
      result = { ok: false, durationMs: this.#clock.now() - started, error };
    } finally {
      if (this.#inFlight === controller) this.#inFlight = undefined;
    }
    // A probe aborted by stop() says nothing about the server.
    if (controller.signal.reason === stopReason) return result;
    this.emit('probe', result);
    this.record(result.ok, result.error);
    return result;
  }

  #schedule(): void {
    if (!this.#running || !this.#policy.enabled) return;
    // A failed probe below the threshold is a suspicion: confirm it at once rather than an interval
    // later, so an idle target's dead server is declared down within interval + threshold × timeout.
    const c = this.#counters;
    const delay = c.healthy && c.failures > 0 ? 0 : nextProbeDelay(this.#policy, this.#random);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.check().finally(() => this.#schedule());
    }, delay);
  }
}
