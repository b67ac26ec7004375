// Redis: a throwaway redis-server (AOF, fsync always, so an acknowledged write survives the crash),
// crashed with SIGKILL and restarted on the same port. Raw client: ioredis at its defaults.
import { Redis } from 'ioredis';
import { startRedis } from '@reconnect/testkit';

/** @returns {import('./scenario.js').Scenario} */
export function redisScenario() {
  /** @type {import('@reconnect/testkit').RedisServer | undefined} */
  let server;
  const key = (lane) => `demo:writes:${lane}`;
  return {
    store: 'redis',
    title: 'Redis',
    target: 'cache',
    driverName: 'redis',
    placeholderEnv: { DEMO_REDIS_URL: 'redis://127.0.0.1:1' },
    driverPackage: '@reconnect/driver-redis',
    rawName: 'raw ioredis (defaults)',
    /** The throwaway server (after `setup`), for runners that play their own faults (bench/chaos). */
    handle: () => server,
    readName: 'GET',
    writeName: 'RPUSH',
    async setup() {
      server = await startRedis({ persistence: 'aof' });
      return { DEMO_REDIS_URL: `redis://${server.host}:${server.port}` };
    },
    rawClient: () => {
      const client = new Redis({ host: server.host, port: server.port });
      // What any application does: listen for errors, so ioredis does not print "Unhandled error event".
      client.on('error', () => {});
      return client;
    },
    closeRaw: async (client) => client.disconnect(),
    read: (client) => client.get('demo:key'),
    write: (client, lane, id) => client.rpush(key(lane), id),
    async serverWrites(lane) {
      const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
      try {
        await client.connect();
        return await client.lrange(key(lane), 0, -1);
      } finally {
        client.disconnect();
      }
    },
    faults: (s) => [
      {
        name: `Redis crash (SIGKILL), restart after ${3 * s} s`,
        short: 'crash',
        back: 'Redis restarted (accepting connections)',
        at: 3 * s,
        for: 3 * s,
        start: () => server.kill(),
        end: () => server.restart(),
      },
    ],
    async teardown() {
      await server?.stop();
    },
  };
}
