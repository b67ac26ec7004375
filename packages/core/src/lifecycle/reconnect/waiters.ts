/**
 * What a wait can be cut short by without an AbortSignal: the attempt's own lazy signal offers this, so an
 * operation waiting for a reconnect makes no AbortController and adds no event listener (about a kilobyte each).
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  onAbort(listener: () => void): void;
  offAbort(listener: () => void): void;
}

/** How many waiting operations may go on now, when the connection is back (see {@link Waiters.pacer}). */
export interface ReleasePacer {
  /** The connection came back: a new count starts. */
  reset(): void;
  /** How many of `waiting` may go now (and counts them as gone). */
  allow(waiting: number): number;
}

/** Operations waiting for a connection: each a promise settled together, or alone when its signal aborts. */
export class Waiters {
  readonly #waiting = new Set<Waiter>();
  /**
   * When set, a reconnect lets go only as many waiters as it allows, in the order they came; the rest go as
   * {@link releaseMore} is called (the target calls it as attempts end). Unset: all go at once.
   */
  pacer: ReleasePacer | undefined = undefined;

  /** How many are waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /** A promise settled by {@link settle}, or rejected with `signal`'s reason when it aborts first. */
  wait(signal: AbortSignal | Cancellation | undefined): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this.#waiting, resolve, reject, signal);
      this.#waiting.add(waiter);
    });
  }

  /** Resolves the waiter that came first (none if nobody waits). */
  releaseFirst(): void {
    for (const w of this.#waiting) {
      this.#waiting.delete(w);
      w.settle(undefined);
      return;
    }
  }

  /** Lets go, in the order they came, as many waiters as the pacer allows now (all of them without one). */
  releaseMore(): void {
    let n = this.pacer === undefined ? this.#waiting.size : this.pacer.allow(this.#waiting.size);
    for (const w of this.#waiting) {
      if (n-- <= 0) return;
      this.#waiting.delete(w);
      w.settle(undefined);
    }
  }

  /** Resolves the waiters (`error` undefined: as many as the pacer allows, see {@link pacer}) or rejects them all with `error`. */
  settle(error: unknown): void {
    if (this.#waiting.size === 0) return;
    if (error === undefined && this.pacer !== undefined) {
      this.pacer.reset();
      this.releaseMore();
      return;
    }
    const waiters = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiters) w.settle(error);
  }
}

/** One waiting operation: its promise's two functions, and how it stops listening to what may cut it short. */
class Waiter {
  readonly #set: Set<Waiter>;
  readonly #resolve: () => void;
  readonly #reject: (error: unknown) => void;
  readonly #signal: AbortSignal | Cancellation | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(
    set: Set<Waiter>,
    resolve: () => void,
    reject: (error: unknown) => void,
    signal: AbortSignal | Cancellation | undefined,
  ) {
    this.#set = set;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    if (signal === undefined) return;
    const onAbort = (): void => {
      this.#set.delete(this);
      this.#reject(signal.reason);
    };
    this.#onAbort = onAbort;
    if (isAbortSignal(signal)) signal.addEventListener('abort', onAbort, { once: true });
    else signal.onAbort(onAbort);
  }

  settle(error: unknown): void {
    const signal = this.#signal;
    if (signal !== undefined) {
      if (isAbortSignal(signal)) signal.removeEventListener('abort', this.#onAbort!);
      else signal.offAbort(this.#onAbort!);
    }
    if (error === undefined) this.#resolve();
    else this.#reject(error);
  }
}

function isAbortSignal(signal: AbortSignal | Cancellation): signal is AbortSignal {
  return typeof (signal as AbortSignal).addEventListener === 'function';
}
