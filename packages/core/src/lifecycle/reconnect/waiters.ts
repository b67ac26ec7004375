import type { AbortListener, AbortListenerObject } from '../../engine/lazy-signal.js';

/**
 * What a wait can be cut short by without an AbortSignal: the attempt's own lazy signal offers this, so an
 * operation waiting for a reconnect makes no AbortController and adds no event listener (about a kilobyte each).
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  onAbort(listener: AbortListener): void;
  offAbort(listener: AbortListener): void;
}

/** How many waiting operations may go on now, when the connection is back (see {@link Waiters.pacer}). */
export interface ReleasePacer {
  /** The connection came back: a new count starts. */
  reset(): void;
  /** How many of `waiting` may go now (and counts them as gone). */
  allow(waiting: number): number;
  /** `n` of those allowed were not used (waiters that are not operations, or fewer waiting): not counted. */
  unuse(n: number): void;
}

/**
 * One waiting operation: woken once, with `undefined` when it may go on, with an error when it may not (the target
 * stopped or gave up), or with its signal's reason when that aborts first (it then leaves the queue at once). A
 * class to extend, so that what waits is one record: an outage can queue tens of thousands of them, and every
 * promise and closure a wait makes is multiplied by that.
 */
export abstract class Waiter implements AbortListenerObject {
  #signal: AbortSignal | Cancellation | undefined = undefined;
  #waiters: Waiters | undefined = undefined;

  /** The wait ended (see the class comment). Called once. */
  protected abstract wake(error: unknown): void;

  /** Whether it is an operation, let go at the pacer's pace (see {@link Waiters.pacer}); others go at once. */
  get paced(): boolean {
    return true;
  }

  /**
   * Joins `waiters`, leaving it when `signal` aborts (checked by the caller before: not aborted yet). The waiter is
   * its own abort listener (an EventListener object, {@link handleEvent}): no closure per wait.
   */
  join(waiters: Waiters, signal: AbortSignal | Cancellation | undefined): void {
    waiters.add(this);
    if (signal === undefined) return;
    this.#signal = signal;
    this.#waiters = waiters;
    if (isAbortSignal(signal)) signal.addEventListener('abort', this, { once: true });
    else signal.onAbort(this);
  }

  /** The signal aborted: leave the queue and wake with its reason (internal: the waiter as an abort listener). */
  handleEvent(): void {
    const signal = this.#signal;
    const waiters = this.#waiters;
    this.#signal = undefined;
    this.#waiters = undefined;
    if (signal !== undefined && waiters?.delete(this) === true) this.wake(signal.reason);
  }

  /** Leaves the signal and wakes (the queue has already let it go). */
  settle(error: unknown): void {
    const signal = this.#signal;
    if (signal !== undefined) {
      this.#signal = undefined;
      this.#waiters = undefined;
      if (isAbortSignal(signal)) signal.removeEventListener('abort', this);
      else signal.offAbort(this);
    }
    this.wake(error);
  }
}

/** A waiter that is a promise's two functions: what {@link Waiters.wait} hands out. */
export class PromiseWaiter extends Waiter {
  constructor(
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  protected wake(error: unknown): void {
    if (error === undefined) this.resolve();
    else this.reject(error);
  }

  // Someone awaiting the connection (start(), a tool), not an operation: it takes no turn.
  override get paced(): boolean {
    return false;
  }
}

/** Operations waiting for a connection: each woken together, or alone when its signal aborts. */
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
    return new Promise<void>((resolve, reject) => new PromiseWaiter(resolve, reject).join(this, signal));
  }

  /** Adds `waiter` (see {@link Waiter.join}, which calls this). */
  add(waiter: Waiter): void {
    this.#waiting.add(waiter);
  }

  /** Takes `waiter` out; false if it was not waiting. */
  delete(waiter: Waiter): boolean {
    return this.#waiting.delete(waiter);
  }

  /**
   * Lets go, in the order they came, as many operations as the pacer allows now (all of them without one); a waiter
   * that is not an operation goes as it comes up, taking no turn.
   */
  releaseMore(): void {
    const pacer = this.pacer;
    let n = pacer === undefined ? Number.POSITIVE_INFINITY : pacer.allow(this.#waiting.size);
    for (const w of this.#waiting) {
      if (w.paced) {
        if (n <= 0) break;
        n--;
      }
      this.#waiting.delete(w);
      w.settle(undefined);
    }
    if (pacer !== undefined && n > 0) pacer.unuse(n);
  }

  /** Wakes the waiters (`error` undefined: as many as the pacer allows, see {@link pacer}) or fails them all with `error`. */
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

function isAbortSignal(signal: AbortSignal | Cancellation): signal is AbortSignal {
  return typeof (signal as AbortSignal).addEventListener === 'function';
}
