import { describe, expect, it } from 'vitest';
import { Waiter, Waiters, type ReleasePacer } from './waiters.js';

/** An operation's wait: records its wake. */
class Op extends Waiter {
  woken: unknown[] = [];
  protected wake(error: unknown): void {
    this.woken.push(error ?? 'go');
  }
}

/** A pacer with `capacity` turns, counting the turns taken (as the target's ReleaseGate does). */
function pacer(capacity: number): ReleasePacer & { count: number } {
  return {
    count: 0,
    reset() {
      this.count = 0;
    },
    allow(waiting: number) {
      const n = Math.max(0, Math.min(waiting, capacity - this.count));
      this.count += n;
      return n;
    },
    unuse(n: number) {
      this.count = Math.max(0, this.count - n);
    },
  };
}

describe('Waiters: the pace of a release', () => {
  it('someone awaiting the connection (not an operation) goes at once and takes no turn', async () => {
    const waiters = new Waiters();
    const p = pacer(1);
    waiters.pacer = p;
    const started = waiters.wait(undefined); // e.g. start() awaiting the connection
    const [a, b] = [new Op(), new Op()];
    a.join(waiters, undefined);
    b.join(waiters, undefined);
    waiters.settle(undefined);
    await expect(started).resolves.toBeUndefined();
    expect(a.woken).toEqual(['go']);
    expect(b.woken).toEqual([]); // one turn, taken by the operation
    expect(p.count).toBe(1);
    expect(waiters.size).toBe(1);
    // The next turn lets b go.
    p.count = 0;
    waiters.releaseMore();
    expect(b.woken).toEqual(['go']);
  });

  it('turns allowed but not used (fewer operations than allowed) are given back', () => {
    const waiters = new Waiters();
    const p = pacer(5);
    waiters.pacer = p;
    const a = new Op();
    a.join(waiters, undefined);
    void waiters.wait(undefined);
    waiters.settle(undefined); // allows 2 (two waiting), one is not an operation
    expect(a.woken).toEqual(['go']);
    expect(p.count).toBe(1);
    expect(waiters.size).toBe(0);
  });
});
