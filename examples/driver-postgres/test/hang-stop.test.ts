import { createTarget } from '@reconnect/core';
import { startPostgres, useServer } from '@reconnect/testkit';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import postgresDriver, { postgresOptionsSchema } from '../src/index.js';

// Every socket pg opens goes through net.Socket#connect; the spy calls through and records each socket.
function trackSockets(): { open(): number; restore(): void } {
  const spy = vi.spyOn(net.Socket.prototype, 'connect');
  return {
    open: () => spy.mock.contexts.filter((socket) => !(socket as net.Socket).destroyed).length,
    restore: () => spy.mockRestore(),
  };
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('stop() while PostgreSQL hangs', () => {
  const server = useServer(() => startPostgres());

  // Queries abandoned at their deadline (pg takes no AbortSignal) keep their pooled connection checked
  // out; pool.end() never closes those, so close() must destroy their sockets after its grace period.
  it('leaves no socket to the server, even with queries abandoned on hung connections', async () => {
    const s = server();
    const sockets = trackSockets();
    try {
      const target = createTarget({
        name: 'pg-hang-stop',
        driver: postgresDriver,
        options: postgresOptionsSchema.parse({
          host: s.host,
          port: s.port,
          user: s.options.user,
          database: s.options.database,
          max: 3,
        }),
        // No detection before stop(): the pool is still the target's client, so stop() itself closes it (a
        // target that already noticed the hang closes the pool from its reconnect loop, with the same close()).
        policy: {
          healthCheck: { interval: 60_000, timeout: 1000, failureThreshold: 100 },
          reconnect: { connectTimeout: 10_000 },
          retry: { deadline: 300, attemptTimeout: 300 },
          circuitBreaker: { enabled: false },
        },
      });
      await target.start();
      await Promise.all(
        [1, 2, 3].map(() => target.execute((pool) => pool.query('SELECT 1'), { idempotent: true })),
      );
      expect(sockets.open()).toBe(3);

      await s.hang();
      // Abandoned at their 300 ms deadline, each still holds a pooled connection.
      const abandoned = await Promise.allSettled(
        [1, 2, 3].map(() => target.execute((pool) => pool.query('SELECT 2'), { idempotent: true })),
      );
      expect(abandoned.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(target.state).toBe('connected');

      const t0 = performance.now();
      await target.stop();
      const stopMs = performance.now() - t0;
      // Still hung: nothing but close() itself can have closed these sockets.
      const closed = await waitUntil(() => sockets.open() === 0, 300);
      const left = sockets.open();
      await s.resume();
      expect(stopMs, 'stop() is bounded by the close grace period (2 s) + 500 ms').toBeLessThan(5000);
      expect(left, 'sockets left open after stop() during a hang').toBe(0);
      expect(closed).toBe(true);
      expect(await waitUntil(() => sockets.open() === 0, 1000), 'none after resume either').toBe(true);
    } finally {
      sockets.restore();
    }
  }, 30_000);
});
