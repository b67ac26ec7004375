import { StoppedError } from '../../errors.js';
import type { Clock, TimerHandle } from '../../time/clock.js';
import { holdProcess } from '../../time/keep-alive.js';
import type { Reconnector } from '../reconnect/reconnector.js';

/** What {@link waitForStart} needs: the reconnector to start and follow, and how to say why it failed. */
export interface StartWait {
  reconnector: Reconnector;
  clock: Clock;
  /** 0 waits until connected, failed for good or stopped. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** The first connect failed for good (final error, or attempts exhausted). */
  failed: (cause: unknown) => unknown;
  /** `timeoutMs` passed first; the reconnector keeps going. */
  timedOut: (ms: number) => unknown;
}

/**
 * Starts the reconnector (from idle) and resolves when it connects; rejects when it fails for good, stops, the
 * signal aborts or `timeoutMs` passes. While a caller awaits this the process is held open: every library timer
 * is unref'd, and a service that boots during an outage must not exit silently on an unsettled await.
 */
export function waitForStart(w: StartWait): Promise<void> {
  const { reconnector, clock, signal, timeoutMs } = w;
  if (reconnector.status === 'connected') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const release = holdProcess();
    let timer: TimerHandle | undefined;
    const done = (error?: unknown): void => {
      off();
      release();
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason
      else reject(error);
    };
    const onAbort = (): void => done(signal?.reason);
    const off = reconnector.on('stateChange', ({ to, error }) => {
      if (to === 'connected') done();
      // Attempts exhausted but still probing (keep-probing) is not "failed for good": wait on, within timeoutMs.
      else if (to === 'failed' && !reconnector.retrying) done(w.failed(error));
      else if (to === 'stopped') done(new StoppedError());
    });
    if (signal?.aborted) {
      done(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    // Bounded: a service that boots during an outage learns so in seconds; the target keeps reconnecting.
    if (timeoutMs > 0) timer = clock.setTimeout(() => done(w.timedOut(timeoutMs)), timeoutMs);
    const s = reconnector.status;
    if (s === 'idle') reconnector.start();
    else if (s === 'stopped') done(new StoppedError());
    else if (s === 'failed' && !reconnector.retrying) done(w.failed(reconnector.lastError()));
  });
}
