import type { Clock, TimerHandle } from './clock.js';

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The error `run`'s signal is aborted with when `ms` pass; also what the returned promise rejects with. */
  timeoutError: () => Error;
  /**
   * Aborting this (or any of these) aborts `run`'s signal too, with the same reason (stop(), a caller's
   * deadline). Listeners are removed when the call settles: unlike `AbortSignal.any`, a long-lived signal
   * here does not accumulate dependants (nodejs/node#55351).
   */
  signal?: AbortSignal | readonly AbortSignal[] | undefined;
}

/**
 * Runs `run` with a signal that aborts after `ms` on `clock` or when `options.signal` aborts. The result
 * settles at that abort even if `run` ignores its signal (a hung driver must not stall its caller), and the
 * timer and the listener on `options.signal` are removed on every path.
 */
export function withTimeout<T>(
  clock: Clock,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
  options: WithTimeoutOptions,
): Promise<T> {
  const controller = new AbortController();
  const parents: readonly AbortSignal[] =
    options.signal === undefined ? [] : 'aborted' in options.signal ? [options.signal] : options.signal;
  let timer: TimerHandle | undefined;
  const onParentAbort = (event: Event): void => controller.abort((event.target as AbortSignal).reason);
  // Synchronous on abort too: after stop() aborts, no timer of ours is pending, not even for a microtask.
  const cleanup = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    for (const parent of parents) parent.removeEventListener('abort', onParentAbort);
  };
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => {
      cleanup();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with the abort's reason, as fetch does
      reject(controller.signal.reason);
    };
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  const abortedParent = parents.find((p) => p.aborted);
  if (abortedParent !== undefined) controller.abort(abortedParent.reason);
  else {
    for (const parent of parents) parent.addEventListener('abort', onParentAbort, { once: true });
    timer = clock.setTimeout(() => {
      timer = undefined;
      controller.abort(options.timeoutError());
    }, ms);
  }
  let running: Promise<T>;
  try {
    running = run(controller.signal);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever run threw
    running = Promise.reject(error);
  }
  return Promise.race([running, aborted]).finally(cleanup);
}
