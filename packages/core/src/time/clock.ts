import { performance } from 'node:perf_hooks';

/** The longest delay a Node timer takes: above it (a 32-bit int) `setTimeout` fires at once, so clamp to it. */
export const maxTimerMs = 2_147_483_647;

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * Time as the library sees it. Injected everywhere a delay, deadline or dead time is computed,
 * so every time-based rule can be tested with {@link createFakeClock} and no sleeps.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences are meaningful). */
  now(): number;
  /** Runs `fn` after `ms`; the timer never keeps the process alive on its own (`unref`). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and unref'd Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** A source of uniform random numbers in [0, 1); injected so jitter is testable. */
export type RandomSource = () => number;

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason as soon as `signal`
 * aborts; the timer is cleared either way, so nothing is left behind.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortReason(signal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The signal's reason as an Error (an abort with a non-Error reason still rejects with an Error). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'This operation was aborted', 'AbortError');
}

const swallow = (): void => {};

/**
 * Settles like `promise`, or rejects with the signal's reason (as an Error) as soon as `signal` aborts,
 * whichever comes first. For drivers whose client takes no AbortSignal: a hung call is abandoned (its
 * late rejection is swallowed), not cancelled, so `connect` and `probe` still honour `ctx.signal`.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(swallow);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the client's own error, unchanged
        reject(error);
      },
    );
  });
}
