import { createTarget, type Target } from '@reconnect/core';
import { startRedis, startRedisSentinel, type RedisServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  guardKeyOf,
  redisCommands,
  redisDriver,
  redisOptionsSchema,
  type RedisClient,
} from '../src/index.js';
import { until } from './helpers.js';
import { opStream, preset } from './target-helpers.js';

async function withClient<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => undefined);
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

describe('Sentinel: the master is killed and a replica is promoted', () => {
  const servers: RedisServer[] = [];
  let master: RedisServer;
  let sentinels: RedisServer[] = [];

  beforeAll(async () => {
    master = await startRedis();
    servers.push(master);
    for (let i = 0; i < 2; i++) {
      servers.push(await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] }));
    }
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await startRedisSentinel({
          masterPort: master.port,
          quorum: 2,
          downAfterMs: 1000,
          failoverTimeoutMs: 3000,
        }),
      );
    }
    // Sentinels learn the replicas from the master and each other over its hello channel.
    await until(
      async () => {
        const views = await Promise.all(
          sentinels.map((s) =>
            withClient(s.port, async (r) => {
              const replicas = (await r.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[];
              const peers = (await r.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[];
              return replicas.length === 2 && peers.length === 2;
            }),
          ),
        );
        return views.every(Boolean);
      },
      20_000,
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([...sentinels, ...servers].map((s) => s.stop()));
    sentinels = [];
  });

  it(
    'the target follows the failover and idempotent operations succeed again, without a restart',
    { timeout: 40_000 },
    async () => {
      const target: Target<RedisClient> = createTarget({
        name: 'sessions',
        driver: redisDriver,
        options: redisOptionsSchema.parse({
          sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`),
          name: 'mymaster',
        }),
        policy: preset('fast-failover'),
      });
      await target.start();
      try {
        const cache = redisCommands(target);
        expect(await cache.call('SET', 'sentinel:k', 'before')).toBe('OK');
        const serverPort = async () =>
          Number(
            (
              (await target.execute((r) => r.call('CONFIG', 'GET', 'port'), { idempotent: true })) as string[]
            )[1],
          );
        expect(await serverPort()).toBe(master.port);

        // A write with an idempotency key, replicated to both replicas before the kill: its guard survives the failover.
        expect(await cache.callOnce('s-1', 'INCRBY', 'sentinel:once', 5)).toEqual({
          reply: 5,
          alreadyApplied: false,
        });
        // (Polled on the replicas: a WAIT on the target's one connection would hold its health probe past its timeout.)
        const guard = guardKeyOf('sentinel:once', 's-1');
        await until(
          async () =>
            (
              await Promise.all(
                servers.slice(1).map((s) => withClient(s.port, async (r) => (await r.exists(guard)) === 1)),
              )
            ).every(Boolean),
          5000,
          20,
        );

        const ops = opStream(50, () => cache.call('SET', 'sentinel:k', 'during'));
        let disconnectedAt = 0;
        let reconnectedAt = 0;
        target.on('disconnect', () => (disconnectedAt ||= Date.now()));
        target.on('reconnect', () => (reconnectedAt = Date.now()));
        const killedAt = Date.now();
        await master.kill();

        await until(
          () => reconnectedAt > 0 && ops.firstSuccessAfter(reconnectedAt) !== undefined,
          30_000,
          20,
        );
        await ops.stop();
        // Operations that failed during the failover may have opened the breaker (fast-failover: 1 s); it
        // closes on its own trial call, so the checks below wait for that rather than failing on it.
        await until(
          () =>
            cache.call('SET', 'sentinel:k', 'settled').then(
              () => true,
              () => false,
            ),
          5000,
          50,
        );
        const role = (await target.execute((r) => r.call('ROLE'), { idempotent: true })) as unknown[];
        expect(role[0]).toBe('master');
        expect(await serverPort()).not.toBe(master.port);
        expect(await cache.call('SET', 'sentinel:k', 'after')).toBe('OK');
        expect(await cache.call('GET', 'sentinel:k')).toBe('after');
        // Replayed on the promoted replica: found applied, not run again; a new key runs there (EVAL: no script yet).
        expect(await cache.callOnce('s-1', 'INCRBY', 'sentinel:once', 5)).toEqual({
          reply: 5,
          alreadyApplied: true,
        });
        expect(await cache.callOnce('s-2', 'INCRBY', 'sentinel:once', 5)).toEqual({
          reply: 10,
          alreadyApplied: false,
        });
        expect(target.isConnected()).toBe(true);
        console.log(
          `sentinel failover: down noticed ${disconnectedAt - killedAt} ms after the kill, connected to the new master ${reconnectedAt - killedAt} ms after it ` +
            `(sentinel down-after 1000 ms); ${ops.results.filter((r) => !r.ok).length} of ${ops.results.length} writes failed meanwhile`,
        );
      } finally {
        await target.stop();
      }
    },
  );
});
