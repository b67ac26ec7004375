import type { Clock, TimerHandle } from '../time/clock.js';

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The error `run`'s signal is aborted with when `ms` pass; also what the returned promise rejects with. */
  timeoutError: () => Error;
  /** Aborting this aborts `run`'s signal too, with the same reason (stop(), a caller's deadline). */
  signal?: AbortSignal | undefined;
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
  const parent = options.signal;
  const aborted = new Promise<never>((_, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with the abort's reason, as fetch does
    const onAbort = (): void => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  const onParentAbort = (): void => controller.abort(parent?.reason);
  let timer: TimerHandle | undefined;
  if (parent?.aborted) controller.abort(parent.reason);
  else {
    parent?.addEventListener('abort', onParentAbort, { once: true });
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
  return Promise.race([running, aborted]).finally(() => {
    if (timer !== undefined) clock.clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  });
}
