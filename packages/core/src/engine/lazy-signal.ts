/** An abort listener that is an object (as EventTarget takes one): what waits is then its own listener. */
export interface AbortListenerObject {
  handleEvent(): void;
}

/** What {@link LazySignal.onAbort} takes: a function, or an object whose `handleEvent` is called. */
export type AbortListener = (() => void) | AbortListenerObject;

function notify(listener: AbortListener): void {
  if (typeof listener === 'function') listener();
  else listener.handleEvent();
}

/**
 * Something with an AbortSignal that is only made when someone reads it: most operations never
 * look at `ctx.signal`, and an AbortController per attempt is the bulk of an attempt's allocations.
 * Aborting before the signal was read records the reason, so a late reader still sees it aborted.
 */
export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: AbortListener | undefined = undefined;
  #more: AbortListener[] | undefined = undefined;

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
   * cost about a kilobyte; a wait for a reconnect or a driver's view needs only this). Not called when already
   * aborted: check `aborted` first. An object's `handleEvent()` is called, as EventTarget does.
   */
  onAbort(listener: AbortListener): void {
    if (this.#listener === undefined) this.#listener = listener;
    else (this.#more ??= []).push(listener);
  }

  /** Removes a listener {@link onAbort} added (the first one added with it, if it was added twice). */
  offAbort(listener: AbortListener): void {
    if (this.#listener === listener) {
      this.#listener = this.#more?.shift();
      return;
    }
    const more = this.#more;
    const i = more === undefined ? -1 : more.indexOf(listener);
    if (i >= 0) more!.splice(i, 1);
  }

  /** Aborts the signal (now, or when it is first read) with `reason`. Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listener = this.#listener;
    if (listener === undefined) return;
    const more = this.#more;
    this.#listener = undefined;
    this.#more = undefined;
    notify(listener);
    if (more !== undefined) for (const l of more) notify(l);
  }
}
