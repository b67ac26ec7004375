import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeWithin, settledWithin } from './settle.js';
import { classifySocketError, isAbortError } from './socket-errors.js';

describe('closeWithin: a graceful close raced with a grace period, then forced', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns graceful when the close finishes within the grace, and never forces', async () => {
    vi.useFakeTimers();
    const force = vi.fn();
    const done = closeWithin(() => new Promise((r) => setTimeout(r, 100)), force, { graceMs: 500 });
    await vi.advanceTimersByTimeAsync(100);
    expect(await done).toBe('graceful');
    expect(force).not.toHaveBeenCalled();
  });

  it('forces after the grace when the close hangs, and reports forced when forcing lets it finish', async () => {
    vi.useFakeTimers();
    let finish: () => void = () => undefined;
    const force = vi.fn(() => finish());
    const done = closeWithin(() => new Promise<void>((r) => (finish = r)), force, { graceMs: 2000 });
    await vi.advanceTimersByTimeAsync(1999);
    expect(force).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(force).toHaveBeenCalledTimes(1);
    expect(await done).toBe('forced');
  });

  it('gives up (abandoned) when even forcing does not end it, bounded by forceMs; a throwing close counts as ended', async () => {
    vi.useFakeTimers();
    const done = closeWithin(
      () => new Promise(() => undefined),
      () => undefined,
      { graceMs: 100, forceMs: 200 },
    );
    await vi.advanceTimersByTimeAsync(300);
    expect(await done).toBe('abandoned');
    const thrown = closeWithin(
      () => {
        throw new Error('boom');
      },
      () => undefined,
      { graceMs: 100 },
    );
    expect(await thrown).toBe('graceful');
  });

  it('settledWithin never rejects', async () => {
    expect(await settledWithin(Promise.reject(new Error('x')), 10)).toBe(true);
    vi.useFakeTimers();
    const pending = settledWithin(new Promise(() => undefined), 10);
    await vi.advanceTimersByTimeAsync(10);
    expect(await pending).toBe(false);
  });
});

describe('classifySocketError', () => {
  const sys = (code: string, syscall?: string) => Object.assign(new Error(code), { code, syscall });

  it('refused before sending → not sent; lost on an open connection → unknown; others → undefined', () => {
    expect(classifySocketError(sys('ECONNREFUSED', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(classifySocketError(sys('ETIMEDOUT', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ETIMEDOUT',
      sent: false,
    });
    expect(classifySocketError(sys('ETIMEDOUT', 'read'))).toEqual({ kind: 'connection', code: 'ETIMEDOUT' });
    expect(classifySocketError(sys('EPIPE', 'write'))).toEqual({ kind: 'connection', code: 'EPIPE' });
    expect(classifySocketError(sys('ER_DUP_ENTRY'))).toBeUndefined();
    expect(classifySocketError('ECONNRESET')).toBeUndefined();
  });

  it('isAbortError knows AbortError and TimeoutError', () => {
    expect(isAbortError(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isAbortError(new DOMException('x', 'TimeoutError'))).toBe(true);
    expect(isAbortError(new Error('x'))).toBe(false);
  });
});
