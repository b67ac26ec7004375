import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../proxy/fault-proxy.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { openRedisAdmin } from './admin.js';
import { faultNamed } from './catalogue.js';

// Network faults of the catalogue on a real redis-server behind the fault proxy: each takes effect on what a
// client through the proxy sees, checked against the server through a direct admin session.

describe('network faults through the fault proxy, on a throwaway Redis', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startFaultProxy({ target: server.options });
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop();
  });
  const env = () => ({ store: 'redis' as const, server, proxy, durationMs: 1000 });

  it('latency-spike: the write applies at once on the server, its reply comes ≥ 200 ms later; fast again after heal', async () => {
    const client = await openRedisAdmin({ host: proxy.host, port: proxy.port });
    const direct = await openRedisAdmin(server.options);
    try {
      await direct.run('DEL spike');
      const active = await faultNamed('latency-spike').start(env());
      const t0 = performance.now();
      const reply = client.run('INCR spike', 3000);
      let appliedAt: number | undefined;
      while (appliedAt === undefined && performance.now() - t0 < 1000) {
        if ((await direct.run('GET spike')) === '1') appliedAt = performance.now() - t0;
        else await new Promise((r) => setTimeout(r, 5));
      }
      expect(await reply).toBe('1');
      const replied = performance.now() - t0;
      expect(appliedAt).toBeLessThan(150); // the request was not delayed
      expect(replied).toBeGreaterThanOrEqual(195); // the reply was
      await active.heal();
      const t1 = performance.now();
      expect(await client.run('INCR spike')).toBe('2');
      expect(performance.now() - t1).toBeLessThan(150);
    } finally {
      await client.close();
      await direct.close();
    }
  });
});
