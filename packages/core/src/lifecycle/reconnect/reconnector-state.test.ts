import { describe, expect, it } from 'vitest';
import { idleState, transition, type ReconnectorState } from './reconnector-state.js';

const unlimited = { maxRetries: Infinity };
const e = new Error('boom');

describe('reconnector transition', () => {
  it('idle → connecting → connected', () => {
    let s: ReconnectorState = idleState;
    s = transition(s, { type: 'start', at: 1 }, unlimited);
    expect(s).toEqual({ status: 'connecting', since: 1, attempt: 0, error: undefined });
    s = transition(s, { type: 'attempt', at: 1 }, unlimited);
    expect(s).toMatchObject({ status: 'connecting', attempt: 1 });
    s = transition(s, { type: 'up', at: 5 }, unlimited);
    expect(s).toEqual({ status: 'connected', since: 5 });
  });

  it('connecting fails for good after 1 + maxRetries attempts', () => {
    const limits = { maxRetries: 2 };
    let s = transition(idleState, { type: 'start', at: 0 }, limits);
    for (let i = 1; i <= 2; i++) {
      s = transition(s, { type: 'attempt', at: i }, limits);
      s = transition(s, { type: 'attemptFailed', at: i, error: e }, limits);
      expect(s).toMatchObject({ status: 'connecting', attempt: i, error: e });
    }
    s = transition(s, { type: 'attempt', at: 3 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 3, error: e }, limits);
    expect(s).toEqual({ status: 'failed', since: 3, attempt: 3, downSince: 0, error: e });
  });

  it('connecting → failed at once on a final error (bad credentials), whatever maxRetries says', () => {
    let s = transition(idleState, { type: 'start', at: 0 }, unlimited);
    s = transition(s, { type: 'attempt', at: 0 }, unlimited);
    s = transition(s, { type: 'attemptFailed', at: 1, error: e, final: true }, unlimited);
    expect(s).toEqual({ status: 'failed', since: 1, attempt: 1, downSince: 0, error: e, final: true });
    // A reconnect is not cut short by one: the server may be half-way through a restart.
    let r: ReconnectorState = transition(
      { status: 'connected', since: 0 },
      { type: 'lost', at: 0, error: e },
      unlimited,
    );
    r = transition(r, { type: 'attempt', at: 1 }, unlimited);
    r = transition(r, { type: 'attemptFailed', at: 1, error: e, final: true }, unlimited);
    expect(r.status).toBe('reconnecting');
  });

  it('connected → reconnecting on loss → connected, keeping when the connection went down', () => {
    let s: ReconnectorState = { status: 'connected', since: 0 };
    s = transition(s, { type: 'lost', at: 10, error: e }, unlimited);
    expect(s).toEqual({ status: 'reconnecting', since: 10, attempt: 0, downSince: 10, error: e });
    s = transition(s, { type: 'attempt', at: 11 }, unlimited);
    s = transition(s, { type: 'attemptFailed', at: 12, error: e }, unlimited);
    expect(s).toMatchObject({ status: 'reconnecting', attempt: 1, downSince: 10 });
    s = transition(s, { type: 'up', at: 20 }, unlimited);
    expect(s).toEqual({ status: 'connected', since: 20 });
  });

  it('reconnecting → failed after maxRetries attempts; failed → connected when an attempt succeeds', () => {
    const limits = { maxRetries: 2 };
    let s: ReconnectorState = transition(
      { status: 'connected', since: 0 },
      { type: 'lost', at: 0, error: e },
      limits,
    );
    s = transition(s, { type: 'attempt', at: 1 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 1, error: e }, limits);
    expect(s.status).toBe('reconnecting');
    s = transition(s, { type: 'attempt', at: 2 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 2, error: e }, limits);
    expect(s).toMatchObject({ status: 'failed', attempt: 2, downSince: 0 });
    s = transition(s, { type: 'attempt', at: 3 }, limits);
    expect(s).toMatchObject({ status: 'failed', attempt: 3 });
    s = transition(s, { type: 'up', at: 4 }, limits);
    expect(s).toEqual({ status: 'connected', since: 4 });
  });

  it('on-demand attempts (scheduled: false) neither count nor exhaust maxRetries', () => {
    const limits = { maxRetries: 1 };
    let s: ReconnectorState = transition(
      { status: 'connected', since: 0 },
      { type: 'lost', at: 0, error: e },
      limits,
    );
    for (let i = 1; i <= 50; i++) {
      s = transition(s, { type: 'attempt', at: i, scheduled: false }, limits);
      s = transition(s, { type: 'attemptFailed', at: i, error: e, scheduled: false }, limits);
    }
    expect(s).toMatchObject({ status: 'reconnecting', attempt: 0 });
    s = transition(s, { type: 'attempt', at: 60 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 60, error: e }, limits);
    expect(s).toMatchObject({ status: 'failed', attempt: 1 });
  });

  it('maxRetries 0: a loss fails at once', () => {
    const s = transition(
      { status: 'connected', since: 0 },
      { type: 'lost', at: 3, error: e },
      { maxRetries: 0 },
    );
    expect(s).toMatchObject({ status: 'failed', attempt: 0 });
  });

  it('stop is terminal from every state', () => {
    const states: ReconnectorState[] = [
      idleState,
      { status: 'connecting', since: 0, attempt: 1, error: undefined },
      { status: 'connected', since: 0 },
      { status: 'reconnecting', since: 0, attempt: 1, downSince: 0, error: e },
      { status: 'failed', since: 0, attempt: 1, downSince: 0, error: e },
    ];
    for (const st of states) {
      const s = transition(st, { type: 'stop', at: 9 }, unlimited);
      expect(s).toEqual({ status: 'stopped', since: 9 });
      expect(transition(s, { type: 'start', at: 10 }, unlimited)).toBe(s);
      expect(transition(s, { type: 'up', at: 10 }, unlimited)).toBe(s);
    }
  });

  it('ignores inputs that do not apply (same object back)', () => {
    const connected: ReconnectorState = { status: 'connected', since: 0 };
    expect(transition(connected, { type: 'up', at: 1 }, unlimited)).toBe(connected);
    expect(transition(connected, { type: 'start', at: 1 }, unlimited)).toBe(connected);
    expect(transition(idleState, { type: 'lost', at: 1, error: e }, unlimited)).toBe(idleState);
  });
});
