import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.js';
import { withTimeout } from './with-timeout.js';

const timeoutError = (): Error => new Error('timed out');

describe('withTimeout', () => {
  it('clears its timer on success and on failure', async () => {
    const clock = createFakeClock(0);
    await expect(withTimeout(clock, 100, () => Promise.resolve(7), { timeoutError })).resolves.toBe(7);
    expect(clock.pending()).toBe(0);
    await expect(
      withTimeout(clock, 100, () => Promise.reject(new Error('no')), { timeoutError }),
    ).rejects.toThrow('no');
    expect(clock.pending()).toBe(0);
  });

  it('settles at the timeout even when run ignores its signal, which is aborted with the timeout error', async () => {
    const clock = createFakeClock(0);
    let seen: AbortSignal | undefined;
    const p = withTimeout(
      clock,
      100,
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      { timeoutError },
    ).catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(((await p) as Error).message).toBe('timed out');
    expect(seen?.reason).toBeInstanceOf(Error);
    expect(clock.pending()).toBe(0);
  });

  it('follows the parent signal: its abort aborts run with the same reason and drops the timer at once', async () => {
    const clock = createFakeClock(0);
    const parent = new AbortController();
    const p = withTimeout(clock, 100, () => new Promise(() => {}), {
      signal: parent.signal,
      timeoutError,
    }).catch((e: unknown) => e);
    const reason = new Error('stopped');
    parent.abort(reason);
    expect(clock.pending()).toBe(0);
    expect(await p).toBe(reason);
  });

  it('follows several parents and leaves no listener on a long-lived one once settled', async () => {
    const clock = createFakeClock(0);
    const lifetime = new AbortController();
    const attempt = new AbortController();
    for (let i = 0; i < 5; i++)
      await withTimeout(clock, 100, () => Promise.resolve(i), {
        signal: [attempt.signal, lifetime.signal],
        timeoutError,
      });
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(attempt.signal, 'abort')).toHaveLength(0);
    const p = withTimeout(clock, 100, () => new Promise(() => {}), {
      signal: [attempt.signal, lifetime.signal],
      timeoutError,
    }).catch((e: unknown) => e);
    const reason = new Error('stopped');
    lifetime.abort(reason);
    expect(await p).toBe(reason);
    expect(clock.pending()).toBe(0);
  });
});
