import { createTarget, type PolicyInput, type Target } from '@reconnect/core';
import {
  faultNamed,
  openRedisAdmin,
  startRedis,
  startRedisSentinel,
  type RedisServer,
} from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  redisCommands,
  redisDriver,
  redisOptionsSchema,
  type RedisClient,
  type RedisDriverOptionsInput,
} from '../src/index.js';
import { until } from './helpers.js';
import { preset } from './target-helpers.js';

// `waitForReplicas` on a real master, replica and Sentinel: a write is acknowledged to the caller only once the
// replica has it (WAIT on the same connection), and a failover then loses none of the acknowledged writes.

async function ask(server: { host: string; port: number }, command: string[]): Promise<string> {
  const a = await openRedisAdmin(server);
  try {
    return await a.run(command);
  } finally {
    await a.close();
  }
}

/** WAIT calls the server has run (INFO commandstats). */
async function waitCalls(server: RedisServer): Promise<number> {
  const stats = await ask(server, ['INFO', 'commandstats']);
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

const durable = { replicas: 1, timeout: '300ms' } as const;

describe('waitForReplicas: writes confirmed by a replica (WAIT)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisServer;
  const targets: Target<RedisClient>[] = [];

  async function start(
    options: Partial<RedisDriverOptionsInput>,
    policy: PolicyInput = preset('redis'),
  ): Promise<Target<RedisClient>> {
    const target = createTarget({
      name: `wait-${targets.length}`,
      driver: redisDriver,
      options: redisOptionsSchema.parse({
        sentinels: [`127.0.0.1:${sentinel.port}`],
        name: 'mymaster',
        ...options,
      }),
      policy,
    });
    targets.push(target);
    await target.start();
    return target;
  }

  beforeAll(async () => {
    master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    await until(
      async () => (await ask(replica, ['INFO', 'replication'])).includes('master_link_status:up'),
      20_000,
      100,
    );
    sentinel = await startRedisSentinel({ masterPort: master.port, quorum: 1 });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(targets.map((t) => t.stop()));
    await Promise.allSettled([sentinel, replica, master].map((s) => s?.stop()));
  });

  it('acknowledges a write once the replica has it; with the replica paused it fails NOT_REPLICATED, outcome unknown, within the timeout', async () => {
    const target = await start({ waitForReplicas: durable });
    const cache = redisCommands(target);
    // Running replica: each acknowledged write is on the replica at that moment.
    for (let i = 0; i < 20; i++) {
      expect(await cache.call('SET', 'w:k', String(i))).toBe('OK');
      expect(await ask(replica, ['GET', 'w:k'])).toBe(String(i));
    }

    // A transaction sent command by command: WAIT after EXEC, not inside the transaction (where it would be queued).
    const unpiped = () =>
      target
        .execute(
          async (r) => {
            await r.multi({ pipeline: false });
            await r.incr('w:count');
            return r.exec();
          },
          { name: 'multi' },
        )
        .catch((e: unknown) => e);
    expect(await unpiped()).toEqual([[null, 1]]);
    expect(await ask(replica, ['GET', 'w:count'])).toBe('1');
    await ask(master, ['DEL', 'w:count']);

    await replica.hang(); // SIGSTOP: it keeps its link, and acknowledges nothing
    try {
      // Not idempotent (INCR): sent once, never retried, the caller told it may have run.
      const startedAt = performance.now();
      const incr = await cache.call('INCR', 'w:count').catch((e: unknown) => e);
      const tookMs = performance.now() - startedAt;
      expect(incr).toMatchObject({
        code: 'ERR_OUTCOME_UNKNOWN',
        kind: 'transient',
        outcome: 'unknown',
        cause: { name: 'RedisDriverError', code: 'NOT_REPLICATED', replicas: 1, acknowledged: 0 },
      });
      expect(String((incr as Error).message)).toMatch(
        /0 of 1 replica confirmed it within 300 ms \(WAIT 1 300\)/,
      );
      expect(tookMs).toBeGreaterThanOrEqual(290);
      expect(tookMs).toBeLessThan(1500);
      expect(await ask(master, ['GET', 'w:count'])).toBe('1'); // applied on the primary, once

      // A pipeline and a MULTI/EXEC: one WAIT after the batch, the same verdict.
      const batch = (kind: 'pipeline' | 'multi') =>
        target
          .execute((r) => r[kind]().set('w:p', kind).incr('w:count').exec(), { name: kind })
          .catch((e: unknown) => e);
      const notReplicated = { outcome: 'unknown', cause: { code: 'NOT_REPLICATED' } };
      expect(await batch('pipeline')).toMatchObject(notReplicated);
      expect(await batch('multi')).toMatchObject(notReplicated);
      expect(await unpiped()).toMatchObject(notReplicated);
      expect(await ask(master, ['GET', 'w:count'])).toBe('4');

      // Idempotent (SET): retried (preset:redis retries transient failures), each attempt confirmed or not again.
      let retries = 0;
      target.on('retry', () => retries++);
      const set = await target
        .execute((r) => r.set('w:k', 'paused'), { idempotent: true, name: 'SET' })
        .catch((e: unknown) => e);
      expect(set).toMatchObject({ kind: 'transient', outcome: 'unknown', cause: { code: 'NOT_REPLICATED' } });
      expect(retries).toBe(target.policy.retry.maxRetries); // every attempt sent, each unconfirmed
      // The primary answered every time: the breaker stays closed and reads are served while the replica lags.
      expect(await cache.call('GET', 'w:k')).toBe('paused');
    } finally {
      await replica.resume();
    }
    // Resumed: it catches up, and writes are acknowledged again.
    await until(
      () =>
        cache.call('SET', 'w:k', 'back').then(
          () => true,
          () => false,
        ),
      5000,
      50,
    );
    expect(await ask(replica, ['GET', 'w:count'])).toBe('4');
  });

  it('never waits longer than the attempt has left: WAIT blocks the connection no longer than the attempt', async () => {
    const target = await start({ waitForReplicas: { replicas: 1, timeout: '5s' } });
    const cache = redisCommands(target);
    await replica.hang();
    try {
      const startedAt = performance.now();
      const r = await target
        .execute((c) => c.incr('w:late'), { name: 'INCR', attemptTimeout: '250ms' })
        .catch((e: unknown) => e);
      expect(r).toMatchObject({ outcome: 'unknown' });
      expect(performance.now() - startedAt).toBeLessThan(1000);
      // The target's commands share one connection, and Redis runs none of them while a WAIT there blocks: a read
      // answers at once only if WAIT was given the attempt's 250 ms, not the option's 5 s.
      const readAt = performance.now();
      expect(await cache.call('GET', 'w:late')).toBe('1');
      expect(performance.now() - readAt).toBeLessThan(400);
    } finally {
      await replica.resume();
    }
  });

  it('writes sent while a WAIT blocks share the next one: a paused replica holds reads back by one timeout, not one per write', async () => {
    const target = await start({ waitForReplicas: durable });
    const cache = redisCommands(target);
    await cache.call('SET', 'l:k', 'v');
    const before = await waitCalls(master);
    await replica.hang();
    try {
      const startedAt = performance.now();
      const writes = Array.from({ length: 10 }, () => cache.call('INCR', 'l:n').catch((e: unknown) => e));
      const read = await cache.call('GET', 'l:k');
      const readMs = performance.now() - startedAt;
      expect(read).toBe('v');
      // Redis runs none of the connection's commands while a WAIT there blocks: one WAIT (300 ms), not ten (3 s).
      expect(readMs).toBeLessThan(900);
      for (const w of await Promise.all(writes))
        expect(w).toMatchObject({ outcome: 'unknown', cause: { code: 'NOT_REPLICATED' } });
      expect((await waitCalls(master)) - before).toBe(2);
    } finally {
      await replica.resume();
    }
  });

  it('sends no WAIT for reads (single, pipelined, scripts marked read-only), one for each write', async () => {
    const target = await start({ waitForReplicas: durable });
    const cache = redisCommands(target);
    await cache.call('SET', 'r:k', 'v');
    const before = await waitCalls(master);
    await replica.hang(); // a WAIT now would take its whole timeout
    try {
      const startedAt = performance.now();
      expect(await cache.call('GET', 'r:k')).toBe('v');
      expect(
        await target.execute((c) => c.pipeline().get('r:k').exists('r:k').ttl('r:k').exec(), {
          idempotent: true,
        }),
      ).toEqual([
        [null, 'v'],
        [null, 1],
        [null, -1],
      ]);
      expect(await cache.call('EVAL_RO', "return redis.call('GET', KEYS[1])", '1', 'r:k')).toBe('v');
      expect(performance.now() - startedAt).toBeLessThan(250);
      expect(await waitCalls(master)).toBe(before);
    } finally {
      await replica.resume();
    }
    await cache.call('SET', 'r:k', 'w');
    await target.execute((c) => c.pipeline().set('r:a', '1').set('r:b', '2').exec(), { idempotent: true });
    expect(await waitCalls(master)).toBe(before + 2);
  });

  it(
    'a Sentinel failover under a steady write load: 0 acknowledged writes lost with it, some without',
    { timeout: 40_000 },
    async () => {
      // The Sentinel must see the replica in sync, or the failover has nowhere to go.
      await until(
        async () =>
          /flags\nslave\n[^]*master-link-status\nok/.test(
            await ask(sentinel, ['SENTINEL', 'REPLICAS', 'mymaster']),
          ),
        20_000,
        200,
      );
      const lanes = {
        durable: redisCommands(await start({ waitForReplicas: { replicas: 1, timeout: '500ms' } })),
        plain: redisCommands(await start({})),
      };
      const acknowledged = { durable: [] as string[], plain: [] as string[] };
      let stop = false;
      const load = (lane: 'durable' | 'plain') =>
        (async () => {
          for (let i = 0; !stop && i < 5000; i++) {
            const id = String(i);
            // RPUSH: not idempotent, never replayed; an acknowledged id must be on the new master.
            await lanes[lane].call('RPUSH', `f:${lane}`, id).then(
              () => acknowledged[lane].push(id),
              () => undefined,
            );
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
      const loads = [load('durable'), load('plain')];
      await new Promise((r) => setTimeout(r, 500));
      const fault = await faultNamed('sentinel-failover').start({
        store: 'redis',
        server: master,
        sentinel,
        durationMs: 1000,
      });
      await fault.heal();
      expect(fault.acted?.()).toBe(1);
      await new Promise((r) => setTimeout(r, 2500));
      stop = true;
      await Promise.all(loads);

      const now = Number(
        (await ask(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'])).split('\n')[1],
      );
      expect(now).toBe(replica.port);
      const onServer = async (lane: string) =>
        new Set(
          (await ask({ host: '127.0.0.1', port: now }, ['LRANGE', `f:${lane}`, '0', '-1'])).split('\n'),
        );
      const durableSet = await onServer('durable');
      const plainSet = await onServer('plain');
      const lost = {
        durable: acknowledged.durable.filter((id) => !durableSet.has(id)),
        plain: acknowledged.plain.filter((id) => !plainSet.has(id)),
      };
      console.log(
        `failover: durable lost ${lost.durable.length} of ${acknowledged.durable.length} acknowledged, plain ${lost.plain.length} of ${acknowledged.plain.length}`,
      );
      expect(acknowledged.durable.length).toBeGreaterThan(50);
      expect(lost.durable).toEqual([]);
      expect(lost.plain.length).toBeGreaterThan(0);
    },
  );
});
