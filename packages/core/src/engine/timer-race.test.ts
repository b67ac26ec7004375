import { describe, expect, it } from 'vitest';
import { isAttemptTimeoutError, isDeadlineExceededError } from '../errors.js';
import { createFakeClock } from '../time/fake-clock.js';
import { retryPolicy } from '../../test/engine/helpers.js';
import { LazySignal } from './lazy-signal.js';
import { Run, type Interrupt } from './operation-run.js';
import { settleError, settleFirst, settleValue, wait, type Settle } from './timer-race.js';

const policy = retryPolicy({ attemptTimeout: 100, deadline: 1000 });

function recorder<V>(): Settle<V> & { calls: Array<['value', V] | ['error', unknown]> } {
  const calls: Array<['value', V] | ['error', unknown]> = [];
  return {
    calls,
    [settleValue]: (v) => calls.push(['value', v]),
    [settleError]: (e) => calls.push(['error', e]),
  };
}

describe('settleFirst', () => {
  it('passes the value on once and clears its timer and run.interrupt', async () => {
    const clock = createFakeClock();
    const run = new Run(policy, {}, 0);
    const settle = recorder<string>();
    settleFirst(clock, run, Promise.resolve('ok'), 100, 'timeout', new LazySignal(), settle);
    expect(clock.pending()).toBe(1);
    expect(run.interrupt).toBeTypeOf('function');
    await Promise.resolve();
    expect(settle.calls).toEqual([['value', 'ok']]);
    expect(clock.pending()).toBe(0);
    expect(run.interrupt).toBeUndefined();
  });

  it('at the limit: an Interrupt, the target aborted with an AttemptTimeoutError, a late value dropped', async () => {
    const clock = createFakeClock();
    const run = new Run(policy, {}, 0);
    const settle = recorder<string>();
    const target = new LazySignal();
    let late: (v: string) => void = () => {};
    settleFirst(clock, run, new Promise<string>((r) => (late = r)), 100, 'timeout', target, settle);
    clock.advance(100);
    expect(settle.calls).toHaveLength(1);
    expect((settle.calls[0]?.[1] as Interrupt).why).toBe('timeout');
    expect(target.signal.aborted).toBe(true);
    expect(isAttemptTimeoutError(target.signal.reason)).toBe(true);
    late('too late');
    await Promise.resolve();
    expect(settle.calls).toHaveLength(1);
  });

  it('no timer for an infinite limit; the caller abort (run.interrupt) aborts the target with its reason', () => {
    const clock = createFakeClock();
    const controller = new AbortController();
    const run = new Run(policy, { signal: controller.signal }, 0);
    const settle = recorder<string>();
    const target = new LazySignal();
    settleFirst(
      clock,
      run,
      new Promise<string>(() => {}),
      Number.POSITIVE_INFINITY,
      'timeout',
      target,
      settle,
    );
    expect(clock.pending()).toBe(0);
    const reason = new Error('gone');
    controller.abort(reason);
    run.interrupt?.('aborted');
    expect((settle.calls[0]?.[1] as Interrupt).why).toBe('aborted');
    expect(target.signal.reason).toBe(reason);
  });
});

describe('settleFirst for a wait bounded by the deadline (a wait for a connection)', () => {
  it('at the deadline: an Interrupt, the target aborted with a DeadlineExceededError', () => {
    const clock = createFakeClock();
    const run = new Run(policy, {}, 0);
    const settle = recorder<string>();
    const target = new LazySignal();
    settleFirst(clock, run, new Promise<string>(() => {}), 50, 'deadline', target, settle);
    clock.advance(50);
    expect((settle.calls[0]?.[1] as Interrupt).why).toBe('deadline');
    expect(isDeadlineExceededError(target.signal.reason)).toBe(true);
  });

  it("passes the promise's own rejection on as is", async () => {
    const run = new Run(policy, {}, 0);
    const settle = recorder<string>();
    const thrown = { not: 'an Error' };
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a client may reject with anything
    settleFirst(createFakeClock(), run, Promise.reject(thrown), 50, 'deadline', new LazySignal(), settle);
    await Promise.resolve();
    await Promise.resolve();
    expect(settle.calls).toEqual([['error', thrown]]);
  });
});

describe('wait', () => {
  it('resolves after the delay and leaves no timer', async () => {
    const clock = createFakeClock();
    const run = new Run(policy, {}, 0);
    const done = wait(clock, run, 30);
    clock.advance(30);
    await expect(done).resolves.toBeUndefined();
    expect(clock.pending()).toBe(0);
    expect(run.interrupt).toBeUndefined();
  });

  it('is cut short by an interrupt, clearing its timer; an already-aborted caller never starts one', async () => {
    const clock = createFakeClock();
    const run = new Run(policy, {}, 0);
    const cut = wait(clock, run, 30_000).catch((e: unknown) => e);
    run.interrupt?.('aborted');
    expect(((await cut) as Interrupt).why).toBe('aborted');
    expect(clock.pending()).toBe(0);

    const controller = new AbortController();
    controller.abort();
    const aborted = new Run(policy, { signal: controller.signal }, 0);
    const never = wait(clock, aborted, 30_000).catch((e: unknown) => e);
    expect(((await never) as Interrupt).why).toBe('aborted');
    expect(clock.pending()).toBe(0);
  });
});
