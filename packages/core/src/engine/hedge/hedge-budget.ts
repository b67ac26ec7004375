/** Hedges that may be saved up while reads go unhedged: a short burst, never a wall. */
const BURST = 10;

/**
 * The hedges a target may send: every hedgeable read earns `ratio` of a hedge and every hedge spends one, so over
 * time hedges are at most `ratio` of hedgeable reads (`retry.hedge.maxExtraLoad`). A token bucket that starts
 * empty and holds at most {@link BURST}: hedges are earned by the reads they protect, with no floor (a floor per
 * instance would multiply across a fleet), and a slow node cannot double the load on the others.
 */
export class HedgeBudget {
  #tokens = 0;

  constructor(readonly ratio: number) {}

  /** Hedges that may be sent now. */
  get available(): number {
    return Math.floor(this.#tokens);
  }

  /** A hedgeable read started. */
  earn(): void {
    const tokens = this.#tokens + this.ratio;
    this.#tokens = tokens < BURST ? tokens : BURST;
  }

  /** Takes one hedge; false when none is left. */
  trySpend(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
