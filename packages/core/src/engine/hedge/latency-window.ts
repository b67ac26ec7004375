/** Samples a window holds: the last 256 hedgeable reads. */
const WINDOW = 256;
/** Samples between two sorts, and before the first value: a percentile of fewer says little. */
const EVERY = 32;

/**
 * A percentile of the recent latencies of one target's hedgeable reads: the hedge delay when `retry.hedge.delay`
 * names one (`p95`). A ring of the last {@link WINDOW} samples, sorted afresh every {@link EVERY} records, so a
 * read costs one store and, amortised, a few comparisons.
 */
export class LatencyWindow {
  readonly #samples = new Float64Array(WINDOW);
  #count = 0;
  #next = 0;
  #sinceSort = 0;
  #value: number | undefined = undefined;

  /** `quantile` in (0, 1): 0.95 for the p95. */
  constructor(readonly quantile: number) {}

  /** The percentile in ms, or `undefined` until {@link EVERY} samples were recorded. */
  get value(): number | undefined {
    return this.#value;
  }

  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % WINDOW;
    if (this.#count < WINDOW) this.#count++;
    if (++this.#sinceSort >= EVERY) this.#sort();
  }

  #sort(): void {
    this.#sinceSort = 0;
    const sorted = this.#samples.slice(0, this.#count).sort();
    this.#value = sorted[Math.min(this.#count - 1, Math.floor(this.quantile * this.#count))];
  }
}
