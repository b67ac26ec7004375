import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../policy/resolve.js';
import { closeWithin, settledWithin } from './close-within.js';
import { reconnectDelays } from './reconnect-delays.js';
import { classifySocketError, isAbortError } from './socket-errors.js';

const sys = (code: string, syscall?: string) => Object.assign(new Error(code), { code, syscall });

describe('driver kit: socket errors', () => {
  it('refused before send: not sent; lost in flight: may have run; a connect timeout sent nothing', () => {
    for (const code of [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EADDRNOTAVAIL',
    ])
      expect(classifySocketError(sys(code))).toEqual({ kind: 'connection', code, sent: false });
    for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED'])
      expect(classifySocketError(sys(code))).toEqual({ kind: 'connection', code });
    expect(classifySocketError(sys('ETIMEDOUT', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ETIMEDOUT',
      sent: false,
    });
  });

  it('anything else is not a socket error (undefined): the driver classifies it', () => {
    expect(classifySocketError(sys('ER_DUP_ENTRY'))).toBeUndefined();
    expect(classifySocketError(new Error('x'))).toBeUndefined();
    expect(classifySocketError('ECONNRESET')).toBeUndefined();
  });

  it('isAbortError knows what an AbortSignal rejects with', () => {
    expect(isAbortError(new DOMException('aborted', 'AbortError'))).toBe(true);
    expect(isAbortError(AbortSignal.timeout(0).reason ?? new DOMException('t', 'TimeoutError'))).toBe(true);
    expect(isAbortError(Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR' }))).toBe(
      true,
    );
    expect(isAbortError(new Error('AbortError'))).toBe(false);
  });
});

describe('driver kit: closeWithin', () => {
  it('graceful when the close finishes within the grace; force is not called', async () => {
    let forced = 0;
    const r = await closeWithin(
      () => Promise.resolve(),
      () => void forced++,
      { graceMs: 100 },
    );
    expect([r, forced]).toEqual(['graceful', 0]);
  });

  it('forced when the graceful close hangs but ends once the sockets are destroyed', async () => {
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const started = Date.now();
    const r = await closeWithin(
      () => hung,
      () => release(),
      { graceMs: 30 },
    );
    expect(r).toBe('forced');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('abandoned (never hangs) when nothing ends it; a throwing graceful close still forces', async () => {
    const r = await closeWithin(
      () => new Promise(() => undefined),
      () => undefined,
      { graceMs: 10, forceMs: 10 },
    );
    expect(r).toBe('abandoned');
    let forced = false;
    const t = await closeWithin(
      () => {
        throw new Error('already closed');
      },
      () => (forced = true),
      { graceMs: 10, forceMs: 10 },
    );
    expect(forced).toBe(true);
    expect(t).toBe('forced');
  });

  it('settledWithin says whether a promise settled in time, and never rejects', async () => {
    expect(await settledWithin(Promise.reject(new Error('x')), 50)).toBe(true);
    expect(await settledWithin(new Promise(() => undefined), 10)).toBe(false);
  });
});

describe('driver kit: reconnectDelays', () => {
  it('follows the policy backoff for maxRetries attempts, then the cap (keep-probing) or null (stop)', () => {
    const keep = resolvePolicy({
      reconnect: {
        maxRetries: 3,
        backoff: { type: 'exponential', base: '100ms', factor: 2, max: '1s', jitter: 'none' },
      },
    });
    const next = reconnectDelays(keep);
    expect([1, 2, 3, 4, 5].map(next)).toEqual([100, 200, 400, 1000, 1000]);
    const stop = resolvePolicy({ reconnect: { maxRetries: 1, onExhausted: 'stop' } });
    const give = reconnectDelays(stop, () => 0.5);
    expect(give(1)).toBeGreaterThanOrEqual(0);
    expect(give(2)).toBeNull();
  });
});
