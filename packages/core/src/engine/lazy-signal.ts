/**
 * Something with an AbortSignal that is only made when someone reads it: most operations never
 * look at `ctx.signal`, and an AbortController per attempt is the bulk of an attempt's allocations.
 * Aborting before the signal was read records the reason, so a late reader still sees it aborted.
 */
export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** The signal, made on first read. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Whether it was aborted, read without making the signal. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Aborts the signal (now, or when it is first read) with `reason`. Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
