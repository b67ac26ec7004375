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
   * baseline follows latency upward (it follows it down at once).
   */
  readonly baselineWindow: number;
}

/** A window ends only once it holds this many samples: fewer say too little about the latency. */
const MIN_SAMPLES = 5;
/** The most one window may cut the limit by: half. */
const MAX_CUT = 0.5;

/**
 * An adaptive concurrency limit driven by measured latency, in the family of Netflix's Gradient2 and Envoy's
 * adaptive concurrency filter: latency is averaged over windows of at least `window` ms (and {@link MIN_SAMPLES}
 * samples); the baseline is the lowest window seen, drifting up toward higher ones with time constant
 * `baselineWindow` (so a lasting change becomes the new normal). At the end of each window:
 * - latency above `tolerance × baseline` (operations queue somewhere): the limit is multiplied by the gradient
 *   `tolerance × baseline / latency`, at most halved per window;
 * - otherwise, when at least half the limit was in use during the window: it grows by √limit (additive increase
 *   that slows as the limit grows), so it climbs back within seconds once the latency is normal again;
 * - a limit that was not used is left as it is (an idle target must not earn an unbounded limit).
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
    if (before === undefined || latency < before) this.#baseline = latency;
    else this.#baseline = before + (latency - before) * Math.min(1, elapsed / o.baselineWindow);
    const threshold = o.tolerance * this.#baseline;
    if (latency > threshold) {
      const gradient = Math.max(MAX_CUT, threshold / latency);
      this.#limit = Math.max(o.minLimit, this.#limit * gradient);
    } else if (this.#maxInFlight >= this.#limit / 2) {
      this.#limit = Math.min(o.maxLimit, this.#limit + Math.sqrt(this.#limit));
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
