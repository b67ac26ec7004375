import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortable, abortReason, sleep } from './clock.js';
import { createFakeClock } from './fake-clock.js';

describe('abortable', () => {
  it('settles like the promise when the signal never aborts, and removes its listener', async () => {
    const controller = new AbortController();
    const signal = controller.signal;
    await expect(abortable(Promise.resolve(7), signal)).resolves.toBe(7);
    const failure = new Error('ECONNREFUSED');
    await expect(abortable(Promise.reject(failure), signal)).rejects.toBe(failure);
    // A long-lived signal (a target's) must not collect one listener per call.
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the abort reason at once when the signal aborts first, even if the promise never settles', async () => {
    const controller = new AbortController();
    const pending = abortable(new Promise<never>(() => {}), controller.signal);
    const reason = new Error('probe timed out');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('rejects with an Error for an already-aborted signal, and swallows the late rejection of the loser', async () => {
    let rejectLater: (e: Error) => void = () => {};
    const loser = new Promise<never>((_, reject) => (rejectLater = reject));
    const error = await abortable(loser, AbortSignal.abort('gone')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('gone');
    rejectLater(new Error('late')); // must not surface as an unhandled rejection
    await new Promise((r) => setImmediate(r));
  });
});

describe('abortReason / sleep', () => {
  it('turns any abort reason into an Error', () => {
    const e = new Error('x');
    expect(abortReason(AbortSignal.abort(e))).toBe(e);
    expect(abortReason(AbortSignal.abort())).toBeInstanceOf(Error);
    expect(abortReason(AbortSignal.abort({ weird: true })).name).toBe('AbortError');
  });

  it('sleep resolves on the clock and is cancelled by the signal without leaving its timer', async () => {
    const clock = createFakeClock();
    const done = sleep(clock, 1000);
    await clock.advanceAsync(1000);
    await expect(done).resolves.toBeUndefined();
    const controller = new AbortController();
    const cancelled = sleep(clock, 30_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(cancelled).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });
});
