/** Operations waiting for a connection: each a promise settled together, or alone when its signal aborts. */
export class Waiters {
  readonly #waiting = new Set<Waiter>();

  /** How many are waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /** A promise settled by {@link settle}, or rejected with `signal`'s reason when it aborts first. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiting.delete(waiter);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiting.add(waiter);
    });
  }

  /** Resolves every waiter (`error` undefined) or rejects them all with `error`. */
  settle(error: unknown): void {
    if (this.#waiting.size === 0) return;
    const waiters = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiters) {
      if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}
