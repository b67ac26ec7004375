/**
 * Something with an AbortSignal that is only made when someone reads it: most operations never
 * look at `ctx.signal`, and an AbortController per attempt is the bulk of an attempt's allocations.
 * Aborting before the signal was read records the reason, so a late reader still sees it aborted.
 */
export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: (() => void) | undefined = undefined;

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

  /** The reason it was aborted with (undefined until then), read without making the signal. */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * Calls `listener` once when aborted, without making the signal (an AbortController and an event listener
   * cost about a kilobyte; an operation waiting for a reconnect needs only this). One listener at a time: a new
   * one replaces it, `undefined` removes it. Not called when already aborted: check `aborted` first.
   */
  whenAborted(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }

  /** Aborts the signal (now, or when it is first read) with `reason`. Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    if (listener !== undefined) {
      this.#listener = undefined;
      listener();
    }
  }
}
