import { describe, expect, it } from 'vitest';
import { createFakeClock, type AttemptContext } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from './memory-driver.js';

// A driver's bindAttempt: every attempt's operation receives the client bound to that attempt, on the connected
// path and after waiting for a connection, while target.client and the node's own lease stay unbound.

describe('Target with a driver that binds its client to each attempt', () => {
  it('hands each attempt the client bound to the context that attempt runs with', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const bound: [MemoryClient, AttemptContext][] = [];
    const target = createTarget({
      name: 'mem',
      driver: {
        ...driver,
        bindAttempt(client: MemoryClient, attempt: AttemptContext): MemoryClient {
          bound.push([client, attempt]);
          return { ...client, query: (v: string) => client.query(`${v}#${attempt.attempt}`) };
        },
      },
      options: {},
      policy: {
        retry: { maxRetries: 1, backoff: { type: 'fixed', base: 10, max: 10, jitter: 'none' } },
        healthCheck: { interval: 1000, jitter: 0, timeout: 200, failureThreshold: 3, successThreshold: 1 },
        reconnect: {
          backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' },
          connectTimeout: 300,
          minProbeGap: 50,
        },
        circuitBreaker: { enabled: false },
      },
      clock,
      random: () => 0.5,
    });
    const starting = target.start();
    await clock.advanceAsync(0);
    await starting;
    // Reconnecting: the operation waits for the connection (the asynchronous acquire), then runs bound.
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(3000);
    expect(target.state).toBe('reconnecting');
    const first = target.execute((c, ctx) => c.query(`a@${ctx.attempt}`), { idempotent: true });
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(600);
    await expect(first).resolves.toBe('a@1#1@single');

    // Connected: a first attempt that fails, and its retry, each get their own binding.
    let calls = 0;
    const seen: AttemptContext[] = [];
    const second = target.execute(
      (c, ctx) => {
        seen.push(ctx);
        if (++calls === 1) return Promise.reject(new MemoryError('reset', 'connection', 'ECONNRESET'));
        return c.query('b');
      },
      { idempotent: true },
    );
    await clock.advanceAsync(10);
    await expect(second).resolves.toBe('b#2@single');
    expect(bound.map(([client, attempt]) => [client, attempt.attempt])).toEqual([
      [target.client, 1],
      [target.client, 1],
      [target.client, 2],
    ]);
    expect(bound[1]![1]).toBe(seen[0]);
    expect(bound[2]![1]).toBe(seen[1]);
    // The target's own client is not the bound one.
    expect(await target.client.query('c')).toBe('c@single');
    await target.stop();
  });
});
