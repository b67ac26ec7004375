// The executor's side of a lease handed over by the source (LeaseReceiver): the attempt waits for the delivery
// within its deadline and the caller's abort, runs the operation with the lease, and ignores a late delivery.
import { describe, expect, it } from 'vitest';
import { isDeadlineExceededError } from '../../src/errors.js';
import {
  leaseDeliveredLater,
  receiveLease,
  type AcquireRequest,
  type Lease,
  type LeaseReceiver,
} from '../../src/engine/types.js';
import { FakeSource, flush, retryPolicy, testExecutor, track } from './helpers.js';

/** A source that keeps each request and answers "delivered later" (or delivers at once, within acquire). */
class DeliveringSource extends FakeSource {
  readonly waiting: (AcquireRequest & LeaseReceiver<string>)[] = [];
  deliverWithinAcquire = false;

  override acquire(request: AcquireRequest): Lease<string> {
    this.requests.push(request);
    const receiver = request as AcquireRequest & LeaseReceiver<string>;
    if (this.deliverWithinAcquire) receiver[receiveLease]({ client: 'early' });
    else this.waiting.push(receiver);
    return leaseDeliveredLater as unknown as Lease<string>;
  }
}

describe('a lease delivered by the source', () => {
  it('the operation runs with the delivered client once it comes', async () => {
    const source = new DeliveringSource();
    const { executor } = testExecutor({ source });
    const seen: string[] = [];
    const result = track(executor.execute((client) => (seen.push(client), Promise.resolve('ok'))));
    await flush();
    expect(seen).toEqual([]);
    expect(source.waiting).toHaveLength(1);
    source.waiting[0]![receiveLease]({ client: 'late' });
    await flush();
    expect(seen).toEqual(['late']);
    expect(result).toMatchObject({ done: true, value: 'ok' });
  });

  it('a delivery within acquire itself is taken once the wait has begun', async () => {
    const source = new DeliveringSource();
    source.deliverWithinAcquire = true;
    const { executor } = testExecutor({ source });
    expect(await executor.execute((client) => Promise.resolve(client))).toBe('early');
  });

  it('the deadline ends the wait: aborted signal (the source leaves its queue), unsent, a late delivery ignored', async () => {
    const source = new DeliveringSource();
    const { executor, clock } = testExecutor({
      source,
      policy: retryPolicy({ deadline: 500, maxRetries: 0 }),
    });
    let ran = 0;
    const result = track(executor.execute(() => (ran++, Promise.resolve('ok')), { idempotent: true }));
    await flush();
    const waiting = source.waiting[0]!;
    expect(waiting.aborted).toBe(false);
    await clock.advanceAsync(499);
    expect(result.done).toBe(false);
    await clock.advanceAsync(1);
    await flush();
    expect(waiting.aborted).toBe(true);
    expect(isDeadlineExceededError(result.error)).toBe(true);
    expect(result.error).toMatchObject({ outcome: 'not_sent' });
    waiting[receiveLease]({ client: 'too late' });
    await flush();
    expect(ran).toBe(0);
  });

  it("the caller's abort ends the wait at once", async () => {
    const source = new DeliveringSource();
    const { executor } = testExecutor({ source });
    const caller = new AbortController();
    const result = track(executor.execute(() => Promise.resolve('ok'), { signal: caller.signal }));
    await flush();
    const reason = new Error('caller gave up');
    caller.abort(reason);
    await flush();
    expect(result.done).toBe(true);
    expect(source.waiting[0]!.aborted).toBe(true);
    expect(result.error).toMatchObject({ outcome: 'not_sent' });
  });
});
