// Operations that waited out an outage are let go at the pace of the client's pool (issue #29): at most its size at
// once, in the order they came, one more as each attempt ends — not hundreds onto ten pooled connections at once,
// where most would time out in the client's own queue. A client without a pool takes them all at once.
import { describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/index.js';
import type { Target } from '../../src/lifecycle/types.js';
import type { MemoryClient } from './memory-driver.js';
import { reconnectingTarget } from './reconnecting-target.js';

const pooledTarget = (poolSize: number | undefined) =>
  reconnectingTarget({
    retry: { deadline: 20_000, attemptTimeout: 5000 },
    driver: (d) =>
      poolSize === undefined
        ? d
        : { ...d, poolStats: () => ({ used: 0, idle: 0, max: poolSize, pending: 0 }) },
  });

/** `n` operations of 100 ms each (on the fake clock), recording how many run at once and in which order they start. */
function slowReads(target: Target<MemoryClient>, clock: FakeClock, n: number) {
  const seen = { running: 0, most: 0, started: [] as number[] };
  const all = Array.from({ length: n }, (_, i) =>
    target.execute(
      async (c: MemoryClient) => {
        seen.started.push(i);
        seen.most = Math.max(seen.most, ++seen.running);
        await new Promise<void>((r) => clock.setTimeout(r, 100));
        seen.running--;
        return c.query(`q${i}`);
      },
      { idempotent: true },
    ),
  );
  return { seen, all };
}

describe('the release of operations that waited for a reconnect', () => {
  it('a pool of 3: at most 3 run at once, in the order they came, one more as each ends; all succeed', async () => {
    const { clock, target, serverBack } = await pooledTarget(3);
    const { seen, all } = slowReads(target, clock, 10);
    await clock.advanceAsync(1);
    expect(seen.started).toEqual([]); // all ten wait for the reconnect
    await serverBack();
    expect(seen.started).toEqual([0, 1, 2]);
    for (let i = 0; i < 5; i++) await clock.advanceAsync(100);
    expect(seen.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.most).toBe(3);
    const results = await Promise.all(all);
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}@single`));
    await target.stop();
  });

  it('one that comes while they are let go queues behind them: it neither overtakes them nor adds to the pool', async () => {
    const { clock, target, serverBack } = await pooledTarget(2);
    const { seen, all } = slowReads(target, clock, 4);
    await clock.advanceAsync(1);
    await serverBack();
    expect(seen.started).toEqual([0, 1]);
    const late = target.execute(
      async (c: MemoryClient) => {
        seen.started.push(99);
        seen.most = Math.max(seen.most, ++seen.running);
        await new Promise<void>((r) => clock.setTimeout(r, 100));
        seen.running--;
        return c.query('late');
      },
      { idempotent: true },
    );
    await clock.advanceAsync(0);
    expect(seen.started).toEqual([0, 1]); // connected, yet it waits its turn
    for (let i = 0; i < 3; i++) await clock.advanceAsync(100);
    expect(seen.started).toEqual([0, 1, 2, 3, 99]);
    expect(seen.most).toBe(2);
    await Promise.all([...all, late]);
    await target.stop();
  });

  it('a client without a pool takes them all at once', async () => {
    const { clock, target, serverBack } = await pooledTarget(undefined);
    const { seen, all } = slowReads(target, clock, 10);
    await clock.advanceAsync(1);
    await serverBack();
    expect(seen.started).toHaveLength(10);
    expect(seen.most).toBe(10);
    await clock.advanceAsync(100);
    await Promise.all(all);
    await target.stop();
  });

  it('stop() ends the ones still held back: none is left waiting', async () => {
    const { clock, target, serverBack } = await pooledTarget(2);
    const { seen, all } = slowReads(target, clock, 6);
    const settled = all.map((p) =>
      p.then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      ),
    );
    await clock.advanceAsync(1);
    await serverBack();
    expect(seen.started).toEqual([0, 1]);
    await target.stop();
    await clock.advanceAsync(200);
    const outcomes = await Promise.all(settled);
    expect(outcomes.slice(2)).toEqual(['ERR_STOPPED', 'ERR_STOPPED', 'ERR_STOPPED', 'ERR_STOPPED']);
  });
});
