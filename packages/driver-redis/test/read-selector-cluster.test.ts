import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createTarget, type Target } from '@reconnect/core';
import {
  openRedisAdmin,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisServer,
} from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { until } from './helpers.js';
import { preset } from './target-helpers.js';

// `cluster.readSelector: least-latency` on a real Redis Cluster (3 masters, 3 replicas): reads of one key go to its
// shard's replica (scaleReads 'slave'), which the client reaches through the testkit's fault proxy (natMap). When the
// proxy delays the replica's replies, reads move to the shard's master within a few reads, and back to the replica
// once it is fast again. ioredis's own choice (readSelector 'random') keeps sending every read to the slow replica.

const run = promisify(execFile);
const SLOW_MS = 25;

async function ask(port: number, command: string[]): Promise<string> {
  const a = await openRedisAdmin({ host: '127.0.0.1', port });
  try {
    return await a.run(command);
  } finally {
    await a.close();
  }
}

type SlotRange = [number, number, [string, number], ...[string, number][]];

async function clusterSlots(port: number): Promise<SlotRange[]> {
  const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    return (await r.call('CLUSTER', 'SLOTS')) as SlotRange[];
  } finally {
    r.disconnect();
  }
}

/** GETs a node served so far (INFO commandstats). */
async function getsServed(port: number): Promise<number> {
  return Number(/cmdstat_get:calls=(\d+)/.exec(await ask(port, ['INFO', 'commandstats']))?.[1] ?? 0);
}

describe('cluster.readSelector least-latency: replica reads avoid a slow replica (real cluster)', () => {
  const nodes: RedisServer[] = [];
  let proxy: FaultProxy | undefined;
  let masterPort = 0;
  let replicaPort = 0;
  const targets: Target<RedisClient>[] = [];
  const key = 'read:k';

  beforeAll(async () => {
    for (let i = 0; i < 6; i++)
      nodes.push(await startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-node-timeout': 15000 } }));
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
    // Every node agrees the cluster is up, and the key's shard lists its replica in CLUSTER SLOTS.
    await until(
      async () =>
        (await Promise.all(nodes.map((n) => ask(n.port, ['CLUSTER', 'INFO']).catch(() => '')))).every((i) =>
          i.includes('cluster_state:ok'),
        ),
      20_000,
      200,
    );
    // Every node lists a replica beside each master in CLUSTER SLOTS (what ioredis reads its slot table from):
    // Redis leaves a replica out until its replication has started.
    const slot = Number(await ask(nodes[0]!.port, ['CLUSTER', 'KEYSLOT', key]));
    await until(
      async () => {
        const tables = await Promise.all(nodes.map((n) => clusterSlots(n.port).catch(() => [])));
        if (!tables.every((t) => t.length === 3 && t.every((range) => range.length >= 4))) return false;
        const range = tables[0]!.find(([from, to]) => slot >= from && slot <= to)!;
        masterPort = range[2][1];
        replicaPort = range[3]![1];
        return true;
      },
      20_000,
      100,
    );
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: replicaPort } });
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(targets.map((t) => t.stop()));
    await proxy?.close();
    await Promise.allSettled(nodes.map((n) => n.stop()));
  });

  async function start(readSelector: 'least-latency' | 'random'): Promise<Target<RedisClient>> {
    const target = createTarget({
      name: `reads-${readSelector}`,
      driver: redisDriver,
      options: redisOptionsSchema.parse({
        cluster: {
          nodes: [`127.0.0.1:${masterPort}`],
          scaleReads: 'slave',
          readSelector,
          natMap: { [`127.0.0.1:${replicaPort}`]: { host: proxy!.host, port: proxy!.port } },
        },
      }),
      policy: preset('redis'),
    });
    targets.push(target);
    await target.start();
    await target.execute((r) => r.set(key, 'v'), { idempotent: true });
    return target;
  }

  /** `count` GETs one after another: how many took at least SLOW_MS, and how many each node served. */
  async function reads(target: Target<RedisClient>, count: number) {
    const [m0, r0] = [await getsServed(masterPort), await getsServed(replicaPort)];
    let slow = 0;
    for (let i = 0; i < count; i++) {
      const at = performance.now();
      expect(await target.execute((r) => r.get(key), { idempotent: true })).toBe('v');
      if (performance.now() - at >= SLOW_MS) slow++;
    }
    const [m1, r1] = [await getsServed(masterPort), await getsServed(replicaPort)];
    return { slow, master: m1 - m0, replica: r1 - r0 };
  }

  it('least-latency: reads leave the slowed replica for the master, and come back when it is fast again', async () => {
    const target = await start('least-latency');
    // Healthy: the replica serves the reads (the master one now and then, as the yardstick). Its first replies,
    // on a fresh connection, may be slow; then the master serves until the replica's average has faded.
    await until(async () => (await reads(target, 100)).replica >= 90, 5000, 0);
    const healthy = await reads(target, 300);
    expect(healthy.replica).toBeGreaterThan(270);
    proxy!.latency(SLOW_MS, 'toClient', { jitterMs: 10 });
    try {
      // At most a read a second waits on the slow replica (the one that tries whether it still is slow).
      const slowed = await reads(target, 600);
      expect(slowed.slow).toBeLessThan(30);
      expect(slowed.master).toBeGreaterThan(550);
    } finally {
      proxy!.latency(0, 'toClient');
    }
    // Fast again: the next read that tries it (one a second) finds it fast, and the reads are back on it.
    await until(async () => (await reads(target, 100)).replica >= 90, 5000, 0);
    const after = await reads(target, 300);
    expect(after.slow).toBeLessThan(5); // the machine's own stalls, not the replica
    expect(after.replica).toBeGreaterThan(270);
    await target.stop();
  }, 60_000);

  it("random (ioredis's own choice): every read waits on the slowed replica", async () => {
    const target = await start('random');
    proxy!.latency(SLOW_MS, 'toClient', { jitterMs: 10 });
    try {
      const slowed = await reads(target, 40);
      expect(slowed.slow).toBe(40);
      expect(slowed.replica).toBe(40);
    } finally {
      proxy!.latency(0, 'toClient');
    }
    await target.stop();
  }, 30_000);
});
