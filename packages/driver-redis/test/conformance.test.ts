import { join } from 'node:path';
import { runDriverConformance, startRedis, type RedisServer } from '@reconnect/testkit';
import { redisDriver, redisOptionsSchema, type RedisClient, type RedisDriverOptions } from '../src/index.js';

const options = (endpoint: { host: string; port: number }): RedisDriverOptions =>
  redisOptionsSchema.parse({ host: endpoint.host, port: endpoint.port });

// The testkit's suite on one throwaway redis-server: crash, hang, blackhole, reset, lost reply to INCR,
// bad credentials, stop. The measured table is written beside this file for the README.
runDriverConformance<RedisDriverOptions, RedisClient, RedisServer>({
  driver: redisDriver,
  // The default user keeps no password (the testkit's readiness PING needs it); `app` has one, from the
  // config file so it survives restart().
  server: () => startRedis({ config: { user: 'app on >app-password ~* &* +@all' } }),
  options,
  badAuthOptions: (endpoint) =>
    redisOptionsSchema.parse({
      host: endpoint.host,
      port: endpoint.port,
      username: 'app',
      password: 'not-the-password',
    }),
  operations: {
    idempotentRead: (redis) => redis.get('conformance'),
    nonIdempotentWrite: (redis) => redis.incr('conformance:writes'),
    countWrites: async (redis) => Number((await redis.get('conformance:writes')) ?? 0),
  },
  reportFile: process.env['RECONNECT_REPORT_DIR']
    ? join(process.env['RECONNECT_REPORT_DIR'], 'redis-conformance.md')
    : undefined,
});
