import { join } from 'node:path';
import { makeTempDir } from '../cleanup/temp-dir.js';
import { redisPing } from '../net/probes.js';
import { findBinary } from './binaries.js';
import { launch, type BaseServerOptions } from './launch.js';
import { redisBinary, writeRedisConfig, type RedisServer } from './redis.js';

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions extends BaseServerOptions {
  /** The master's name, as clients ask for it. Default `mymaster`. */
  masterName?: string;
  /** The monitored master; default host 127.0.0.1. */
  masterHost?: string;
  masterPort: number;
  /** Sentinels that must agree the master is down. Default 1. */
  quorum?: number;
  /** `down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
  /** `failover-timeout`. Default 3000. */
  failoverTimeoutMs?: number;
  /** Further sentinel.conf directives (written after the monitor lines). */
  config?: Readonly<Record<string, string | number>>;
  binary?: string;
}

/**
 * Starts a Redis Sentinel (`redis-server sentinel.conf --sentinel`) monitoring `masterPort`,
 * on a free port, and waits until it answers PING. Start several for a quorum.
 */
export async function startRedisSentinel(options: RedisSentinelOptions): Promise<RedisServer> {
  const command = findBinary(redisBinary, options.binary);
  const name = options.masterName ?? 'mymaster';
  const server = await launch(options, (port) => {
    const dir = makeTempDir('redis-sentinel');
    const conf = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file at run time, so it lives in the writable temp dir.
    writeRedisConfig(conf, {
      port,
      bind: '127.0.0.1',
      dir,
      'sentinel monitor': `${name} ${options.masterHost ?? '127.0.0.1'} ${options.masterPort} ${options.quorum ?? 1}`,
      'sentinel down-after-milliseconds': `${name} ${options.downAfterMs ?? 1000}`,
      'sentinel failover-timeout': `${name} ${options.failoverTimeoutMs ?? 3000}`,
      ...options.config,
    });
    return {
      kind: 'redis-sentinel',
      command,
      args: [conf, '--sentinel'],
      dir,
      dataDir: dir,
      port,
      url: `redis://127.0.0.1:${port}`,
      ready: redisPing,
    };
  });
  return Object.assign(server, { options: { host: server.host, port: server.port } });
}
