import { describe, expect, it } from 'vitest';
import { errorKinds, kindMeanings } from '../../error-kinds.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { Reconnector } from './reconnector.js';
import { idleState, transition, type ReconnectorState } from './reconnector-state.js';

// A server that refuses connections because it is full (max_connections, maxclients: classified `throttled`) is
// busy, not down: its refusals are backed off like any failed attempt but not counted toward maxRetries, so a
// busy period never ends a target in `failed` nor fails the operations waiting for it.
const e = new Error('boom');
const busy = Object.assign(new Error('Too many connections'), { busy: true });
const limits = { maxRetries: 2 };

describe('which kind means busy', () => {
  it('throttled alone: the kinds table is where the target reads it', () => {
    expect(errorKinds.filter((k) => kindMeanings[k].busy)).toEqual(['throttled']);
  });
});

describe('reconnector transition: a busy server', () => {
  it('connecting: busy refusals do not use up maxRetries; other failures still do', () => {
    let s: ReconnectorState = transition(idleState, { type: 'start', at: 0 }, limits);
    for (let i = 1; i <= 5; i++) {
      s = transition(s, { type: 'attempt', at: i }, limits);
      s = transition(s, { type: 'attemptFailed', at: i, error: busy, busy: true }, limits);
    }
    expect(s).toEqual({ status: 'connecting', since: 0, attempt: 5, error: busy, busy: 5 });
    // 1 + maxRetries attempts that were not busy: failed on the third.
    for (let i = 6; i <= 7; i++) {
      s = transition(s, { type: 'attempt', at: i }, limits);
      s = transition(s, { type: 'attemptFailed', at: i, error: e }, limits);
      expect(s.status).toBe('connecting');
    }
    s = transition(s, { type: 'attempt', at: 8 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 8, error: e }, limits);
    expect(s).toMatchObject({ status: 'failed', attempt: 8 });
  });

  it('reconnecting: the same, and a final error is still final', () => {
    let s: ReconnectorState = transition(
      { status: 'connected', since: 0 },
      { type: 'lost', at: 0, error: e },
      limits,
    );
    for (let i = 1; i <= 4; i++) {
      s = transition(s, { type: 'attempt', at: i }, limits);
      s = transition(s, { type: 'attemptFailed', at: i, error: busy, busy: true }, limits);
    }
    expect(s).toMatchObject({ status: 'reconnecting', attempt: 4, busy: 4 });
    s = transition(s, { type: 'attempt', at: 5 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 5, error: e }, limits);
    expect(s.status).toBe('reconnecting');
    s = transition(s, { type: 'attempt', at: 6 }, limits);
    s = transition(s, { type: 'attemptFailed', at: 6, error: e }, limits);
    expect(s.status).toBe('failed');
  });
});

describe('Reconnector with a busy server', () => {
  it('backs off on the schedule while the server is full, never fails, and connects when a slot frees', async () => {
    const clock = createFakeClock(0);
    const calls: number[] = [];
    let full = true;
    const r = new Reconnector({
      policy: {
        maxRetries: 2,
        onExhausted: 'stop',
        connectTimeout: 1000,
        startTimeout: 0,
        minProbeGap: 100,
        whileReconnecting: 'wait',
        maxWaiting: Infinity,
        backoff: { type: 'exponential', base: 100, factor: 2, max: 1000, jitter: 'none' },
      },
      connect: () => {
        calls.push(clock.now());
        return full ? Promise.reject(busy) : Promise.resolve();
      },
      delay: (attempt) => Math.min(100 * 2 ** (attempt - 1), 1000),
      isBusy: (error) => (error as { busy?: boolean }).busy === true,
      clock,
      wallClock: clock.now,
    });
    r.start();
    const waiting = r.whenConnected();
    await clock.advanceAsync(10_000);
    expect(r.status).toBe('connecting'); // 2 retries would have ended it 'failed' (onExhausted: stop) by 300 ms
    // Backed off on the schedule: 0, 100, 300, 700, 1500, then the 1 s cap.
    expect(calls.slice(0, 5)).toEqual([0, 100, 300, 700, 1500]);
    expect(calls.length).toBeLessThanOrEqual(15);
    full = false;
    await clock.advanceAsync(1000);
    await waiting;
    expect(r.status).toBe('connected');
    r.stop();
  });
});
