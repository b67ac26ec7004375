/** A listener for one event of a {@link TypedEmitter}. */
export type Listener<T> = (payload: T) => void;

/**
 * A minimal typed event emitter. A listener that throws does not break the emitter or the
 * other listeners: the error is reported through `onListenerError` (default: an unhandled rejection-free
 * `queueMicrotask` rethrow, so it surfaces the way an EventEmitter listener error would).
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes a listener. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Whether anyone listens to `event` (lets hot paths skip building payloads). */
  hasListeners<K extends keyof Events>(event: K): boolean {
    const set = this.#listeners.get(event);
    return set !== undefined && set.size > 0;
  }

  /** Calls every listener of `event` with `payload`. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
