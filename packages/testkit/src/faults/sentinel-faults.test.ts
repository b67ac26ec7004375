import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { startRedisSentinel } from '../servers/redis-sentinel.js';
import { until } from '../util/wait.js';
import { openRedisAdmin } from './admin.js';
import { faultNamed } from './catalogue.js';

// The Sentinel failover of the catalogue on a real master, replica and Sentinel: after it the Sentinel names the
// replica as master, the replica is one, and the old master becomes its replica (a write there answers READONLY).

async function ask(server: { host: string; port: number }, command: string[]): Promise<string> {
  const a = await openRedisAdmin(server);
  try {
    return await a.run(command);
  } finally {
    await a.close();
  }
}

describe('sentinel-failover on a master, a replica and a Sentinel', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisServer;
  beforeAll(async () => {
    master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    sentinel = await startRedisSentinel({ masterPort: master.port, quorum: 1 });
    await until(
      async () => (await ask(replica, ['INFO', 'replication'])).includes('master_link_status:up'),
      20_000,
      100,
    );
    await until(
      async () =>
        /flags\nslave\n[^]*master-link-status\nok/.test(
          await ask(sentinel, ['SENTINEL', 'REPLICAS', 'mymaster']),
        ),
      20_000,
      200,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([sentinel, replica, master].map((s) => s?.stop()));
  });

  it(
    'promotes the replica and demotes the master the clients wrote to; heal waits for the Sentinel to say so',
    { timeout: 45_000 },
    async () => {
      // Written and replicated (WAIT on the same session) before the failover.
      const writer = await openRedisAdmin(master);
      try {
        expect(await writer.run(['SET', 'k', 'before'])).toBe('OK');
        expect(await writer.run(['WAIT', '1', '2000'])).toBe('1');
      } finally {
        await writer.close();
      }
      const fault = await faultNamed('sentinel-failover').start({
        store: 'redis',
        server: master,
        sentinel,
        durationMs: 1000,
      });
      await fault.heal();
      expect(fault.acted?.()).toBe(1);
      expect(await ask(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'])).toBe(
        `127.0.0.1\n${replica.port}`,
      );
      expect((await ask(replica, ['ROLE'])).split('\n')[0]).toBe('master');
      expect(await ask(replica, ['GET', 'k'])).toBe('before'); // what was replicated before survives
      // Healed means whole again: the old master already follows the new one (a write there is refused), and the
      // new master has its replica (a write can be confirmed by one).
      expect((await ask(master, ['ROLE'])).split('\n')[0]).toBe('slave');
      await expect(ask(master, ['SET', 'k', 'after'])).rejects.toThrow(/READONLY/);
      expect(await ask(replica, ['INFO', 'replication'])).toMatch(/connected_slaves:1/);
    },
  );
});
