// An outage must not grow the process without bound (issue #29): at most `reconnect.maxWaiting` operations wait
// for a reconnect; one more is refused at once, classified not sent; those that wait still leave the queue when
// their deadline or the caller's abort ends them, and go through when the target is back.
import { describe, expect, it } from 'vitest';
import { isQueueFullError, resolvePolicy } from '../../src/index.js';
import type { Target } from '../../src/lifecycle/types.js';
import type { MemoryClient } from './memory-driver.js';
import { reconnectingTarget } from './reconnecting-target.js';

const reconnectingWith = (maxWaiting: number | 'unlimited') =>
  reconnectingTarget({ reconnect: { maxWaiting } });

const read = (target: Target<MemoryClient>, signal?: AbortSignal) =>
  target.execute((c: MemoryClient) => c.query('q'), { idempotent: true, ...(signal ? { signal } : {}) });

describe('reconnect.maxWaiting', () => {
  it('defaults to 50 000, and accepts unlimited', () => {
    expect(resolvePolicy({}).reconnect.maxWaiting).toBe(50_000);
    expect(resolvePolicy({ reconnect: { maxWaiting: 'unlimited' } }).reconnect.maxWaiting).toBe(Infinity);
    expect(() => resolvePolicy({ reconnect: { maxWaiting: 0 } })).toThrow(/reconnect\.maxWaiting/);
  });

  it('one operation past the limit is refused at once, not sent; the waiting ones go through when it is back', async () => {
    const { clock, control, target } = await reconnectingWith(3);
    const waiting = [read(target), read(target), read(target)];
    const refused = read(target);
    await expect(refused).rejects.toSatisfy(isQueueFullError);
    await expect(refused).rejects.toMatchObject({ outcome: 'not_sent', target: 'mem', waiting: 3 });
    await expect(refused).rejects.toThrow(/3 operations already wait for it \(reconnect\.maxWaiting\)/);
    control.serverDown = false;
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(2000); // the next reconnect attempt
    expect(target.state).toBe('connected');
    expect(await Promise.all(waiting)).toEqual(['q@single', 'q@single', 'q@single']);
    await target.stop();
  });

  it('an operation whose deadline or abort ends its wait leaves the queue, making room for another', async () => {
    const { clock, target } = await reconnectingWith(2);
    const ac = new AbortController();
    const aborted = read(target, ac.signal);
    aborted.catch(() => {});
    const timedOut = read(target);
    timedOut.catch(() => {});
    await clock.advanceAsync(1);
    await expect(read(target)).rejects.toSatisfy(isQueueFullError);
    ac.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    // The aborted one's place is free at once.
    const next = read(target);
    next.catch(() => {});
    await clock.advanceAsync(1);
    await expect(read(target)).rejects.toSatisfy(isQueueFullError);
    await clock.advanceAsync(5000); // both deadlines pass
    await expect(timedOut).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED', outcome: 'not_sent' });
    await expect(next).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    const again = read(target);
    again.catch(() => {});
    await clock.advanceAsync(1);
    const third = read(target);
    third.catch(() => {});
    await clock.advanceAsync(1);
    await expect(read(target)).rejects.toSatisfy(isQueueFullError);
    await target.stop();
  });
});
