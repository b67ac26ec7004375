import type { Clock, TimerHandle } from './clock.js';

/** One pending timeout on an injected clock, re-armable, that knows when it fires (`at`, Infinity when idle). */
export class OneShotTimer {
  readonly #clock: Clock;
  #handle: TimerHandle | undefined;
  /** When (on the clock) it fires; Infinity when nothing is pending. */
  at = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Arms it for `ms` from now, replacing what was pending. */
  set(ms: number, fire: () => void): void {
    this.cancel();
    this.at = this.#clock.now() + ms;
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      this.at = Infinity;
      fire();
    }, ms);
  }

  /** Clears what is pending, if anything. */
  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.at = Infinity;
  }
}
