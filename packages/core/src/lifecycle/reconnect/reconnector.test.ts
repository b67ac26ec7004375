import { describe, expect, it } from 'vitest';
import { isNotConnectedError, isStoppedError } from '../../errors.js';
import type { ReconnectPolicy } from '../../policy/resolved.js';
import { createFakeClock, type FakeClock } from '../../time/fake-clock.js';
import { Reconnector } from './reconnector.js';

const policy = (over: Partial<ReconnectPolicy> = {}): ReconnectPolicy => ({
  maxRetries: Infinity,
  backoff: { type: 'exponential', base: 100, factor: 2, max: 1000, jitter: 'none' },
  connectTimeout: 500,
  startTimeout: 5000,
  onExhausted: 'keep-probing',
  minProbeGap: 50,
  whileReconnecting: 'wait',
  maxWaiting: 50_000,
  ...over,
});

/** A connect function the test answers by hand. */
function controllableConnect(clock: FakeClock) {
  const calls: number[] = [];
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  const signals: AbortSignal[] = [];
  return {
    calls,
    signals,
    set: (m: 'ok' | 'fail' | 'hang') => {
      mode = m;
    },
    connect: (signal: AbortSignal): Promise<void> => {
      calls.push(clock.now());
      signals.push(signal);
      if (mode === 'ok') return Promise.resolve();
      if (mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
      return new Promise(() => {});
    },
  };
}

const doubling = (attempt: number): number => Math.min(100 * 2 ** (attempt - 1), 1000);

function setup(over: Partial<ReconnectPolicy> = {}, delay: (attempt: number) => number = doubling) {
  const clock = createFakeClock(0);
  const c = controllableConnect(clock);
  const r = new Reconnector({
    policy: policy(over),
    connect: c.connect,
    delay,
    clock,
    wallClock: clock.now,
  });
  const log: string[] = [];
  r.on('stateChange', (e) => log.push(`${e.from}->${e.to}`));
  return { clock, c, r, log };
}

/** Traffic: an operation arrives every `everyMs` and, finding the target down, asks for an attempt. */
async function underTraffic(clock: FakeClock, r: { nudge(): void }, ms: number, everyMs = 50): Promise<void> {
  for (let t = 0; t < ms; t += everyMs) {
    r.nudge();
    await clock.advanceAsync(Math.min(everyMs, ms - t));
  }
}

describe('Reconnector', () => {
  it('connects at start and emits stateChange', async () => {
    const { clock, r, log } = setup();
    r.start();
    await clock.advanceAsync(0);
    expect(r.status).toBe('connected');
    expect(log).toEqual(['idle->connecting', 'connecting->connected']);
  });

  it('retries the first connect with backoff delays', async () => {
    const { clock, c, r } = setup();
    c.set('fail');
    const failed: unknown[] = [];
    r.on('reconnectFailed', (e) => failed.push({ attempt: e.attempt, next: e.nextDelayMs }));
    r.start();
    await clock.advanceAsync(100 + 200 + 400);
    expect(c.calls).toEqual([0, 100, 300, 700]);
    expect(failed).toEqual([
      { attempt: 1, next: 100 },
      { attempt: 2, next: 200 },
      { attempt: 3, next: 400 },
      { attempt: 4, next: 800 },
    ]);
    c.set('ok');
    await clock.advanceAsync(800);
    expect(r.status).toBe('connected');
  });

  it('on loss: disconnect, reconnecting with backoff, then reconnect {attempts, downtimeMs}', async () => {
    const { clock, c, r, log } = setup();
    r.start();
    await clock.advanceAsync(0);
    const events: unknown[] = [];
    r.on('disconnect', (e) => events.push(['disconnect', (e.error as Error).message]));
    r.on('reconnect', (e) => events.push(['reconnect', e.attempts, e.downtimeMs]));
    c.set('fail');
    await clock.advanceAsync(1000);
    r.lost(new Error('socket closed'));
    await clock.advanceAsync(100 + 200); // attempts at +100 and +300 fail
    c.set('ok');
    await clock.advanceAsync(400);
    expect(c.calls).toEqual([0, 1100, 1300, 1700]);
    expect(events).toEqual([
      ['disconnect', 'socket closed'],
      ['reconnect', 3, 700],
    ]);
    expect(log).toEqual([
      'idle->connecting',
      'connecting->connected',
      'connected->reconnecting',
      'reconnecting->connected',
    ]);
  });

  it('aborts a hanging connect at connectTimeout and counts it as a failed attempt', async () => {
    const { clock, c, r } = setup({ connectTimeout: 500 });
    c.set('hang');
    const failed: unknown[] = [];
    r.on('reconnectFailed', (e) => failed.push(e.error));
    r.start();
    await clock.advanceAsync(500);
    expect(c.signals[0]?.aborted).toBe(true);
    expect(failed).toHaveLength(1);
    expect(isNotConnectedError(failed[0])).toBe(true);
    expect((failed[0] as { kind?: string }).kind).toBe('timeout');
  });

  it('failed after maxRetries; keep-probing goes on at the backoff cap', async () => {
    const { clock, c, r, log } = setup({ maxRetries: 2, onExhausted: 'keep-probing' });
    r.start();
    await clock.advanceAsync(0);
    c.set('fail');
    r.lost(new Error('x'));
    await clock.advanceAsync(100 + 200);
    expect(r.status).toBe('failed');
    expect(log.at(-1)).toBe('reconnecting->failed');
    const before = c.calls.length;
    await clock.advanceAsync(3000);
    expect(c.calls.length - before).toBe(3); // every 1000 ms (the cap)
    c.set('ok');
    await clock.advanceAsync(1000);
    expect(r.status).toBe('connected');
  });

  it('failed after maxRetries; onExhausted stop makes no more attempts and fails waiters', async () => {
    const { clock, c, r } = setup({ maxRetries: 1, onExhausted: 'stop' });
    r.start();
    await clock.advanceAsync(0);
    c.set('fail');
    r.lost(new Error('x'));
    const waiting = r.whenConnected().catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(r.status).toBe('failed');
    expect(isNotConnectedError(await waiting)).toBe(true);
    const n = c.calls.length;
    await clock.advanceAsync(60_000);
    expect(c.calls.length).toBe(n);
    expect(clock.pending()).toBe(0);
  });

  it('a final error on the first connect fails at once: no retry, waiters fail, no timer left', async () => {
    const clock = createFakeClock(0);
    const c = controllableConnect(clock);
    const r = new Reconnector({
      policy: policy({ onExhausted: 'keep-probing' }),
      connect: c.connect,
      delay: doubling,
      isFinal: () => true,
      clock,
    });
    c.set('fail');
    const waiting = r.whenConnected().catch((e: unknown) => e);
    r.start();
    await clock.advanceAsync(10_000);
    expect(r.status).toBe('failed');
    expect(c.calls).toEqual([0]);
    expect(isNotConnectedError(await waiting)).toBe(true);
    r.nudge();
    await clock.advanceAsync(10_000);
    expect(c.calls).toEqual([0]);
    expect(clock.pending()).toBe(0);
  });

  it('1 000 concurrent waiting operations cause exactly one on-demand attempt per minProbeGap', async () => {
    const { clock, c, r } = setup({
      minProbeGap: 50,
      backoff: { type: 'fixed', base: 10_000, factor: 1, max: 10_000, jitter: 'none' },
    });
    const r2 = r; // readability
    r2.start();
    await clock.advanceAsync(0);
    c.set('fail');
    await clock.advanceAsync(1000);
    r2.lost(new Error('down'));
    const base = c.calls.length;
    const waits: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      r2.nudge();
      waits.push(r2.whenConnected());
    }
    await clock.advanceAsync(0);
    expect(c.calls.length - base).toBe(1); // one attempt, immediately, not at the backoff timer
    for (let i = 0; i < 1000; i++) r2.nudge();
    await clock.advanceAsync(49);
    expect(c.calls.length - base).toBe(1); // still inside the gap
    await clock.advanceAsync(1);
    expect(c.calls.length - base).toBe(2); // the next one exactly one gap later
    c.set('ok');
    for (let i = 0; i < 1000; i++) r2.nudge();
    await clock.advanceAsync(50);
    expect(c.calls.length - base).toBe(3);
    expect(r2.status).toBe('connected');
    await Promise.all(waits);
    expect(r2.waiters.size).toBe(0);
  });

  it('on-demand attempts of waiting operations do not use up maxRetries: failed comes on the backoff schedule', async () => {
    // preset:redis-like: 5 retries at 1, 2, 4, 8, 16 s; operations waiting make an attempt every 100 ms meanwhile.
    const {
      clock,
      c,
      r: r2,
    } = setup(
      {
        maxRetries: 5,
        backoff: { type: 'exponential', base: 1000, factor: 2, max: 30_000, jitter: 'none' },
        onExhausted: 'stop',
        minProbeGap: 100,
      },
      (attempt) => Math.min(1000 * 2 ** (attempt - 1), 30_000),
    );
    const attempts: boolean[] = [];
    r2.on('attempt', (e) => attempts.push(e.onDemand));
    r2.start();
    await clock.advanceAsync(0);
    c.set('fail');
    r2.lost(new Error('down'));
    const waiting = r2.whenConnected().catch((e: unknown) => e);
    await underTraffic(clock, r2, 600);
    expect(r2.status).toBe('reconnecting'); // was failed after ~0.5 s
    expect(attempts.filter((d) => d).length).toBeGreaterThanOrEqual(6);
    await underTraffic(clock, r2, 31_000 - 600 - 1);
    expect(r2.status).toBe('reconnecting');
    expect(r2.state).toMatchObject({ attempt: 4 }); // the scheduled attempts at 1, 3, 7 and 15 s
    await clock.advanceAsync(1);
    expect(r2.status).toBe('failed'); // the 5th scheduled attempt, at 1+2+4+8+16 s
    expect(isNotConnectedError(await waiting)).toBe(true);
    // At most one connect per minProbeGap while waiting (1000 / 100 = 10 per second).
    expect(c.calls.length - 1).toBeLessThanOrEqual(31_000 / 100 + 1);
    expect(attempts.filter((d) => !d)).toHaveLength(1 + 5);
  });

  it('recovery under traffic is at most one gap late, and the backoff timer keeps its schedule', async () => {
    const { clock, c, r } = setup(
      {
        maxRetries: 5,
        backoff: { type: 'fixed', base: 1000, factor: 1, max: 1000, jitter: 'none' },
        minProbeGap: 100,
      },
      () => 1000,
    );
    const kinds: string[] = [];
    r.on('attempt', (e) => kinds.push(`${clock.now()}:${e.onDemand ? 'nudge' : 'timer'}`));
    r.start();
    await clock.advanceAsync(0);
    c.set('fail');
    r.lost(new Error('down'));
    const waiting = r.whenConnected();
    await underTraffic(clock, r, 2050);
    // Timer attempts stay at 1000 and 2000 although nudged attempts ran in between: every minProbeGap (100 ms),
    // since 2 s down is within the spread's grace (5 s); the one due at 2000 is the timer's.
    expect(kinds.filter((k) => k.endsWith('timer'))).toEqual(['0:timer', '1000:timer', '2000:timer']);
    const nudges = [
      100, 200, 300, 400, 500, 600, 700, 800, 900, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900,
    ];
    expect(kinds.filter((k) => k.endsWith('nudge'))).toEqual(nudges.map((t) => `${t}:nudge`));
    c.set('ok');
    // The last attempt ran at 2000: the next is minProbeGap later, and connects.
    await underTraffic(clock, r, 49);
    expect(r.status).toBe('reconnecting');
    await underTraffic(clock, r, 50);
    expect(kinds.at(-1)).toBe('2100:nudge');
    expect(r.status).toBe('connected');
    await waiting;
    expect(clock.pending()).toBe(0);
  });

  it('operations that only go on waiting ask for nothing more: connects follow the backoff schedule', async () => {
    // A quiet instance (one caller, then none) in a long outage: without new operations, no on-demand attempt
    // after the one its caller asked for, however long that caller waits. A fleet of such instances sends a down
    // server the backoff schedule's connects, not ten a second each.
    const { clock, c, r } = setup(
      {
        maxRetries: Number.POSITIVE_INFINITY,
        backoff: { type: 'fixed', base: 1000, factor: 1, max: 1000, jitter: 'none' },
        minProbeGap: 100,
      },
      () => 1000,
    );
    const kinds: string[] = [];
    r.on('attempt', (e) => kinds.push(`${clock.now()}:${e.onDemand ? 'nudge' : 'timer'}`));
    r.start();
    await clock.advanceAsync(0);
    c.set('fail');
    await clock.advanceAsync(500);
    r.lost(new Error('down'));
    const waiting = r.whenConnected();
    r.nudge();
    await clock.advanceAsync(3000);
    expect(kinds).toEqual(['0:timer', '500:nudge', '1500:timer', '2500:timer', '3500:timer']);
    // One more operation arrives: one attempt for it (minProbeGap after the last: 3 s down is within the spread's
    // 5 s grace), then the schedule again.
    r.nudge();
    await clock.advanceAsync(999);
    expect(kinds.slice(5)).toEqual(['3600:nudge']);
    c.set('ok');
    await clock.advanceAsync(1);
    expect(kinds.slice(6)).toEqual(['4500:timer']);
    expect(r.status).toBe('connected');
    await waiting;
  });

  it('start() under traffic: on-demand attempts do not exhaust the first connect either', async () => {
    const { clock, c, r } = setup(
      {
        maxRetries: 2,
        backoff: { type: 'fixed', base: 1000, factor: 1, max: 1000, jitter: 'none' },
        onExhausted: 'stop',
        minProbeGap: 100,
      },
      () => 1000,
    );
    c.set('fail');
    r.start();
    const waiting = r.whenConnected().catch((e: unknown) => e);
    r.nudge();
    await clock.advanceAsync(1999);
    expect(r.status).toBe('connecting');
    await clock.advanceAsync(1);
    expect(r.status).toBe('failed'); // 1 connect + 2 scheduled retries, at 0, 1000, 2000
    expect(isNotConnectedError(await waiting)).toBe(true);
  });

  it('whenConnected is bounded by the signal, and stop() fails the other waiters', async () => {
    const { clock, c, r } = setup();
    c.set('fail');
    r.start();
    const controller = new AbortController();
    const a = r.whenConnected(controller.signal).catch((e: unknown) => e);
    const b = r.whenConnected().catch((e: unknown) => e);
    controller.abort(new Error('deadline'));
    expect(((await a) as Error).message).toBe('deadline');
    r.stop();
    expect(isStoppedError(await b)).toBe(true);
    expect(r.status).toBe('stopped');
    await clock.advanceAsync(0);
    expect(clock.pending()).toBe(0);
  });

  it('up() from a self-reconnecting client ends reconnecting without an attempt of ours', async () => {
    const { clock, c, r } = setup();
    r.start();
    await clock.advanceAsync(0);
    r.lost(new Error('x'));
    const n = c.calls.length;
    r.up();
    expect(r.status).toBe('connected');
    await clock.advanceAsync(10_000);
    expect(c.calls.length).toBe(n);
    expect(clock.pending()).toBe(0);
  });

  it('under traffic, reconnectFailed follows the backoff schedule; one count agrees across events', async () => {
    // A 6 s outage under preset:redis-like backoff (1, 2, 4 s) with operations waiting: on-demand attempts
    // run every 100 ms (and more apart past the spread's 5 s grace), but an operator's log sees the schedule's
    // attempts only.
    const { clock, c, r } = setup(
      {
        maxRetries: 5,
        backoff: { type: 'exponential', base: 1000, factor: 2, max: 30_000, jitter: 'none' },
        minProbeGap: 100,
      },
      (attempt) => Math.min(1000 * 2 ** (attempt - 1), 30_000),
    );
    const failed: { attempt: number; onDemand: number; next: number | undefined }[] = [];
    r.on('reconnectFailed', (e) =>
      failed.push({ attempt: e.attempt, onDemand: e.onDemandAttempts, next: e.nextDelayMs }),
    );
    const changes: number[] = [];
    r.on('stateChange', (e) => changes.push(e.attempt));
    let reconnect: { attempts: number; onDemandAttempts: number } | undefined;
    r.on('reconnect', (e) => (reconnect = e));
    // On-demand attempts started before each scheduled one.
    const onDemandBefore: number[] = [];
    let onDemand = 0;
    r.on('attempt', (e) => {
      if (e.onDemand) onDemand++;
      else onDemandBefore.push(onDemand);
    });
    r.start();
    await clock.advanceAsync(0);
    c.set('fail');
    r.lost(new Error('down'));
    const waiting = r.whenConnected();
    await underTraffic(clock, r, 6000);
    expect(failed.map((f) => [f.attempt, f.next])).toEqual([
      [1, 2000],
      [2, 4000],
    ]);
    // Every on-demand failure is counted once, in the next scheduled report: 9 at 100 ms in the first second
    // down, 19 more in the next two (the spread's grace is 5 s).
    expect(onDemandBefore).toEqual([0, 9, 28]); // the start's connect, then the schedule's at 1 s and 3 s
    expect(failed[0]!.onDemand).toBe(9);
    expect(failed[1]!.onDemand).toBe(19);
    c.set('ok');
    await underTraffic(clock, r, 1000);
    await waiting;
    expect(r.status).toBe('connected');
    expect(reconnect?.attempts).toBe(2);
    expect(changes.at(-1)).toBe(2); // stateChange reconnecting → connected says the same
    expect(reconnect!.onDemandAttempts).toBe(onDemand);
    // 28, then every 100 ms to 5.5 s down, a few more apart as the window opens past the grace, and the one that
    // connects after the server is back.
    expect(onDemand).toBe(57);
  });
});
