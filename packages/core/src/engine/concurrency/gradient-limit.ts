/** What {@link GradientLimit} is tuned with (the adaptive part of a policy's `concurrency` section). */
export interface GradientLimitOptions {
  /** The limit before the first window ends. */
  readonly initialLimit: number;
  /** The limit never falls below this (a slow server still gets some work). */
  readonly minLimit: number;
  /** The limit never grows above this. */
  readonly maxLimit: number;
  /** Latency may grow to this multiple of the baseline before the limit falls (≥ 1). */
  readonly tolerance: number;
  /** How long one measurement window lasts at least, in ms. */
  readonly window: number;
  /**
   * How long a higher latency must last to become the new baseline, in ms: the time constant with which the
   * baseline follows latency upward (it follows it down at once) — except at the floor, where it is 3 windows.
   */
  readonly baselineWindow: number;
}

/** A window ends only once it holds this many samples: fewer say too little about the latency. */
const MIN_SAMPLES = 5;
/** At the floor, the baseline follows latency up with a time constant of this many windows. */
const FLOOR_WINDOWS = 3;
/** The most one window may cut the limit by: half. */
const MAX_CUT = 0.5;

/**
 * An adaptive concurrency limit driven by measured latency, in the family of Netflix's Gradient2 and Envoy's
 * adaptive concurrency filter: latency is averaged over windows of at least `window` ms (and {@link MIN_SAMPLES}
 * samples); the baseline is the lowest window seen, drifting up toward higher ones with time constant
 * `baselineWindow`, or 3 windows while the limit is at its floor (so a lasting change becomes the new normal).
 * At the end of each window:
 * - latency above `tolerance × baseline` (operations queue somewhere): the limit is multiplied by the gradient
 *   `tolerance × baseline / latency`, at most halved per window;
 * - otherwise it grows by √limit (additive increase that slows as the limit grows), so it climbs back within
 *   seconds once the latency is normal again;
 * - either only when at least half the limit was in use during the window: a limit that did not bind is left as
 *   it is (the latency of a lightly loaded target says nothing about its limit, and an idle one must not earn an
 *   unbounded limit).
 * Pure arithmetic on the times it is given: no timers, no clock of its own.
 */
export class GradientLimit {
  readonly #o: GradientLimitOptions;
  #limit: number;
  #baseline: number | undefined = undefined;
  #windowStart: number;
  #sum = 0;
  #count = 0;
  #maxInFlight = 0;
  /** The last window's average latency (ms), for telemetry and tests; undefined before the first window. */
  lastLatency: number | undefined = undefined;

  constructor(options: GradientLimitOptions, now: number) {
    this.#o = options;
    this.#limit = clamp(options.initialLimit, options.minLimit, options.maxLimit);
    this.#windowStart = now;
  }

  /** The current limit: a whole number of operations, within [minLimit, maxLimit]. */
  get limit(): number {
    return Math.max(this.#o.minLimit, Math.floor(this.#limit));
  }

  /** The latency the limit is measured against (ms); undefined before the first window. */
  get baseline(): number | undefined {
    return this.#baseline;
  }

  /**
   * Records one operation's latency (`rttMs`) and the operations in flight when it started (itself included);
   * returns true when a window ended and the limit was recomputed.
   */
  sample(rttMs: number, inFlight: number, now: number): boolean {
    this.#sum += rttMs;
    this.#count++;
    if (inFlight > this.#maxInFlight) this.#maxInFlight = inFlight;
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#o.window || this.#count < MIN_SAMPLES) return false;
    this.#update(this.#sum / this.#count, elapsed);
    this.#windowStart = now;
    this.#sum = 0;
    this.#count = 0;
    this.#maxInFlight = 0;
    return true;
  }

  #update(latency: number, elapsed: number): void {
    const o = this.#o;
    this.lastLatency = latency;
    const before = this.#baseline;
    // At the floor (no more than minLimit in flight) the latency is the server's own, with next to no queue of
    // ours in it: the baseline follows it up with a time constant of FLOOR_WINDOWS windows there. A server slow
    // whatever its load (a slow network, a slow disk) then becomes the new normal within about a second, and the limit grows back at
    // once instead of starving callers for `baselineWindow`; one slow because of its queue does not, since the
    // limit growing back brings the queue, and the cut, back.
    const memory = this.#maxInFlight <= o.minLimit ? FLOOR_WINDOWS * o.window : o.baselineWindow;
    if (before === undefined || latency < before) this.#baseline = latency;
    else this.#baseline = before + (latency - before) * Math.min(1, elapsed / memory);
    // Less than half the limit in use: the limit did not bind, so the latency says nothing about it (a slow
    // server at low load is not made faster by a lower limit, and an idle target earns no higher one).
    if (this.#maxInFlight < this.#limit / 2) return;
    const threshold = o.tolerance * this.#baseline;
    if (latency > threshold) {
      const gradient = Math.max(MAX_CUT, threshold / latency);
      this.#limit = Math.max(o.minLimit, this.#limit * gradient);
    } else {
      this.#limit = Math.min(o.maxLimit, this.#limit + Math.sqrt(this.#limit));
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
