// The caller's abort landing between a failed attempt and the retry (while the attempt is reported, or in a retry
// listener): nothing more is sent, no retry is announced after it, and the give-up names the attempt that ran.
import { describe, expect, it } from 'vitest';
import { isAbortedError } from '../errors.js';
import {
  FakeDriverError,
  FakeSource,
  flush,
  retryPolicy,
  track,
  testExecutor,
} from '../../test/engine/helpers.js';
import type { AttemptReport, Lease } from './types.js';

/** A source that aborts `controller` while a failed attempt is reported to it. */
class AbortOnFailureReport extends FakeSource {
  constructor(readonly controller: AbortController) {
    super();
  }
  override report(lease: Lease<string>, report: AttemptReport): void {
    super.report(lease, report);
    if (!report.ok) this.controller.abort(new Error('caller left'));
  }
}

const setup = testExecutor;

function failingOnce(error: () => unknown) {
  let calls = 0;
  const op = async (): Promise<string> => {
    await Promise.resolve();
    if (++calls === 1) throw error();
    return 'ok';
  };
  return { op, calls: () => calls };
}

const poolClosed = () => new FakeDriverError('connection', { sent: false, local: true }, 'Pool is closed.');

describe('RetryExecutor: the caller aborts after an attempt failed, before the retry', () => {
  it('a retryable server failure: gives up as aborted, announces no retry', async () => {
    const controller = new AbortController();
    const { executor, clock, retries, giveUps } = setup({ source: new AbortOnFailureReport(controller) });
    const { op, calls } = failingOnce(() => new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await clock.advanceAsync(1000);
    expect(isAbortedError(result.error)).toBe(true);
    expect(calls()).toBe(1);
    expect(retries).toEqual([]);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['aborted', 1]]);
  });

  it('a local failure: gives up as aborted, announces no retry', async () => {
    const controller = new AbortController();
    const { executor, clock, retries, giveUps } = setup({ source: new AbortOnFailureReport(controller) });
    const { op, calls } = failingOnce(poolClosed);
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await clock.advanceAsync(1000);
    expect(isAbortedError(result.error)).toBe(true);
    expect(calls()).toBe(1);
    expect(retries).toEqual([]);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['aborted', 1]]);
  });
});

describe('RetryExecutor: the caller aborts from the retry listener', () => {
  it('before a retry with no wait (the first after a local failure): no next attempt', async () => {
    const controller = new AbortController();
    const { executor, clock, retries, giveUps } = setup({}, () => controller.abort('stop'));
    const { op, calls } = failingOnce(poolClosed);
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await flush();
    await clock.advanceAsync(1000);
    expect(isAbortedError(result.error)).toBe(true);
    expect(calls()).toBe(1);
    expect(retries.map((r) => [r.reason, r.delayMs])).toEqual([['local', 0]]);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['aborted', 1]]);
  });

  it('before a retry with no wait (a custom delay of 0): no next attempt', async () => {
    const controller = new AbortController();
    const { executor, clock, giveUps } = setup({ policy: retryPolicy({ delay: () => 0 }) }, () =>
      controller.abort('stop'),
    );
    const { op, calls } = failingOnce(() => new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await flush();
    await clock.advanceAsync(1000);
    expect(isAbortedError(result.error)).toBe(true);
    expect(calls()).toBe(1);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['aborted', 1]]);
  });

  it('before a retry with a wait: the wait never starts', async () => {
    const controller = new AbortController();
    const { executor, clock, giveUps } = setup({}, () => controller.abort('stop'));
    const { op, calls } = failingOnce(() => new FakeDriverError('connection'));
    const result = track(executor.execute(op, { idempotent: true, signal: controller.signal }));
    await flush();
    expect(isAbortedError(result.error)).toBe(true);
    expect(clock.pending()).toBe(0);
    expect(calls()).toBe(1);
    expect(giveUps.map((g) => [g.reason, g.attempt])).toEqual([['aborted', 1]]);
  });
});
