import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTarget, type Target } from '@reconnect/core';
import { openRedisAdmin, startRedis, type RedisServer } from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCommands, redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { until } from './helpers.js';
import { preset } from './target-helpers.js';

// `waitForReplicas` on Redis Cluster: WAIT counts the replicas of the shard a write went to, so it is sent to that
// shard's master. With one shard's replica paused, writes there fail NOT_REPLICATED and writes to the others do not.

const run = promisify(execFile);

async function ask(port: number, command: string[]): Promise<string> {
  const a = await openRedisAdmin({ host: '127.0.0.1', port });
  try {
    return await a.run(command);
  } finally {
    await a.close();
  }
}

describe('waitForReplicas on Redis Cluster: WAIT on the shard the write went to', () => {
  const nodes: RedisServer[] = [];
  let target: Target<RedisClient> | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      // A long node timeout: the replica paused below must not be failed over or failed.
      nodes.push(await startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-node-timeout': 15000 } }));
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const linked = async (n: RedisServer) => {
      const info = await ask(n.port, ['INFO', 'replication']).catch(() => '');
      return /role:slave/.test(info) && /master_link_status:up/.test(info);
    };
    await until(
      async () =>
        (await Promise.all(nodes.map((n) => ask(n.port, ['CLUSTER', 'INFO']).catch(() => '')))).every((i) =>
          i.includes('cluster_state:ok'),
        ),
      20_000,
      200,
    );
    await until(async () => (await Promise.all(nodes.map(linked))).filter(Boolean).length === 3, 20_000, 100);
  }, 90_000);

  afterAll(async () => {
    await target?.stop();
    await Promise.allSettled(nodes.map((n) => n.stop()));
  });

  it('a paused replica fails the writes of its shard only (plain and pipelined); reads and other shards go on', async () => {
    target = createTarget({
      name: 'shards',
      driver: redisDriver,
      options: redisOptionsSchema.parse({
        cluster: { nodes: nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`) },
        waitForReplicas: { replicas: 1, timeout: '300ms' },
      }),
      policy: preset('redis'),
    });
    await target.start();
    const cache = redisCommands(target);
    // Two keys on different shards, and the replica of the first one's shard.
    const slots = (await target.execute((r) => r.call('CLUSTER', 'SLOTS'), { idempotent: true })) as [
      number,
      number,
      [string, number],
      [string, number],
    ][];
    const shardOf = async (key: string) => {
      const slot = Number(
        await target!.execute((r) => r.call('CLUSTER', 'KEYSLOT', key), { idempotent: true }),
      );
      return slots.find(([from, to]) => slot >= from && slot <= to)!;
    };
    const a = '{a}:k';
    const shardA = await shardOf(a);
    let b = '';
    for (let i = 0; b === ''; i++) if ((await shardOf(`{b${i}}:k`))[0] !== shardA[0]) b = `{b${i}}:k`;
    expect(await cache.call('SET', a, '1')).toBe('OK');
    expect(await cache.call('SET', b, '1')).toBe('OK');

    // The replica of the first key's shard, by its own word (the masters' slot table may not list it yet).
    const masterOf = async (n: RedisServer) =>
      Number(/master_port:(\d+)/.exec(await ask(n.port, ['INFO', 'replication']))?.[1] ?? 0);
    const ofA = await Promise.all(
      nodes.map(async (n) => ((await masterOf(n)) === shardA[2][1] ? n : undefined)),
    );
    const replicaA = ofA.find((n) => n !== undefined)!;
    await replicaA.hang();
    try {
      // Several rounds: a WAIT sent to any master but the write's would pass now and then, never every round.
      for (let round = 1; round <= 4; round++) {
        expect(await cache.call('INCR', a).catch((e: unknown) => e)).toMatchObject({
          outcome: 'unknown',
          cause: { code: 'NOT_REPLICATED' },
        });
        const startedAt = performance.now();
        expect(await cache.call('INCR', b)).toBe(1 + round);
        expect(performance.now() - startedAt).toBeLessThan(250);
      }
      expect(
        await target
          .execute((r) => r.pipeline().set('{a}:p', 'x').incr(a).exec(), { name: 'pipeline' })
          .catch((e: unknown) => e),
      ).toMatchObject({ outcome: 'unknown', cause: { code: 'NOT_REPLICATED' } });
      // The other shard's replica is running: confirmed there, at once.
      const startedAt = performance.now();
      expect(
        await target.execute((r) => r.pipeline().set(b.replace(':k', ':p'), 'x').get(b).exec(), {
          idempotent: true,
        }),
      ).toBeDefined();
      expect(await cache.call('GET', a)).toBe('6'); // a read on the paused shard: no WAIT
      expect(performance.now() - startedAt).toBeLessThan(250);
    } finally {
      await replicaA.resume();
    }
    await until(
      () =>
        cache.call('SET', a, 'back').then(
          () => true,
          () => false,
        ),
      5000,
      50,
    );
  });
});
