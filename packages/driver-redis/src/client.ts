import type { RandomSource, ResolvedPolicy } from '@reconnect/core';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { parseNode, type RedisDriverOptions } from './options.js';
import { followPolicy, policyWantsLatency, readSelector, type ReadSelector } from './read-selector.js';
import {
  clusterOptions,
  connectionOptions,
  reconnectStrategy,
  type ReconnectStrategyOptions,
} from './policy-mapping.js';

/** The client this driver hands to operations: an ioredis `Redis` (standalone or Sentinel) or `Cluster`. */
export type RedisClient = Redis | Cluster;

/** What {@link createRedisClient} needs besides the options. */
export interface CreateClientContext {
  policy: ResolvedPolicy;
  /** The target's name, used for `CLIENT SETNAME` unless `connectionName` is given. */
  target: string;
  random?: RandomSource;
  /** See {@link ReconnectStrategyOptions.deferred}: true while the lifecycle runs the reconnect schedule. */
  deferReconnect?: () => boolean;
}

function tlsOf(tls: RedisDriverOptions['tls']): ConnectionOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  return tls === true ? {} : tls;
}

// The URL's parts as ioredis options (the schema refuses host/port/username/password/db beside a URL).
function fromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const out: RedisOptions = {};
  if (u.hostname !== '') out.host = u.hostname;
  if (u.port !== '') out.port = Number(u.port);
  if (u.username !== '') out.username = decodeURIComponent(u.username);
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') out.db = Number(db);
  if (u.protocol === 'rediss:') out.tls = {};
  return out;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// Options the user may set that ioredis takes as they are.
function passThrough(o: RedisDriverOptions, target: string): RedisOptions {
  return defined({
    username: o.username,
    password: o.password,
    db: o.db,
    tls: tlsOf(o.tls),
    connectionName: o.connectionName ?? `reconnect:${target}`,
    keyPrefix: o.keyPrefix,
    protocol: o.protocol,
    family: o.family,
    keepAlive: o.keepAlive,
    noDelay: o.noDelay,
    enableAutoPipelining: o.enableAutoPipelining,
    stringNumbers: o.stringNumbers,
    readOnly: o.readOnly,
    showFriendlyErrorStack: o.showFriendlyErrorStack,
  });
}

// ioredis's constructor wants `replyMapping` exactly typed under exactOptionalPropertyTypes.
function newRedis(options: RedisOptions): Redis {
  return new Redis(options as RedisOptions & { replyMapping?: 'legacy' });
}

// Node connections of a cluster: ioredis itself forces `retryStrategy: null` (the cluster refreshes its
// slot table instead) and an offline queue (a node connection is lazy), so those keys are not ours to set.
function nodeOptions(options: RedisOptions): NonNullable<ClusterOptions['redisOptions']> {
  const { retryStrategy: _r, enableOfflineQueue: _q, readOnly: _ro, ...rest } = options;
  return rest;
}

// The `scaleReads` function of a Cluster whose reads may go to replicas (read-selector.ts), unless the options ask
// for ioredis's own random choice; without `readSelector` it follows the policy's `pool.selector`.
function clusterReads(
  c: NonNullable<RedisDriverOptions['cluster']>,
  ctx: CreateClientContext,
): ReadSelector | undefined {
  if (c.scaleReads !== 'slave' && c.scaleReads !== 'all') return undefined;
  if (c.readSelector === 'random') return undefined;
  const byLatency = c.readSelector === 'least-latency' || policyWantsLatency(ctx.policy);
  return readSelector(c.scaleReads, byLatency, ctx.random);
}

/** Which topology the options describe. */
export function topologyOf(options: RedisDriverOptions): 'standalone' | 'sentinel' | 'cluster' {
  if (options.cluster !== undefined) return 'cluster';
  if (options.sentinels !== undefined) return 'sentinel';
  return 'standalone';
}

/**
 * Builds the ioredis client for validated options under a policy, not yet connected (`lazyConnect`).
 * The policy's settings are applied last, so nothing in the options can undo them.
 */
export function createRedisClient(options: RedisDriverOptions, ctx: CreateClientContext): RedisClient {
  const policyOptions = connectionOptions(ctx.policy);
  const user = passThrough(options, ctx.target);
  const strategy: ReconnectStrategyOptions = {};
  if (ctx.random !== undefined) strategy.random = ctx.random;
  if (ctx.deferReconnect !== undefined) strategy.deferred = ctx.deferReconnect;
  const retryStrategy = reconnectStrategy(ctx.policy, strategy);

  if (options.cluster !== undefined) {
    const c = options.cluster;
    const nodes = c.nodes.map((n) => parseNode(n, 6379));
    const reads = clusterReads(c, ctx);
    const clusterOpts: ClusterOptions = {
      ...defined({
        scaleReads: reads?.choose ?? c.scaleReads,
        natMap: c.natMap,
        maxRedirections: c.maxRedirections,
        slotsRefreshInterval: c.slotsRefreshInterval,
        slotsRefreshTimeout: c.slotsRefreshTimeout,
        retryDelayOnFailover: c.retryDelayOnFailover,
        retryDelayOnClusterDown: c.retryDelayOnClusterDown,
        retryDelayOnTryAgain: c.retryDelayOnTryAgain,
        keyPrefix: options.keyPrefix,
        enableAutoPipelining: options.enableAutoPipelining,
      }),
      // Node connections never reconnect by themselves (ioredis forces retryStrategy null for them):
      // the cluster refreshes its slot table and the cluster-level strategy below is the one loop.
      redisOptions: nodeOptions({ ...user, ...policyOptions }),
      ...clusterOptions(ctx.policy, strategy),
    };
    const cluster = new Cluster(
      nodes,
      clusterOpts as ClusterOptions & { redisOptions?: { replyMapping?: 'legacy' } },
    );
    if (reads !== undefined && c.readSelector === undefined) followPolicy(cluster, reads);
    return cluster;
  }

  if (options.sentinels !== undefined) {
    return newRedis({
      ...user,
      sentinels: options.sentinels.map((n) => parseNode(n, 26379)),
      name: options.name ?? '',
      ...defined({
        role: options.role,
        sentinelUsername: options.sentinelUsername,
        sentinelPassword: options.sentinelPassword,
      }),
      failoverDetector: options.failoverDetector ?? true,
      // One round over the sentinels per attempt; between rounds the policy's backoff (retryStrategy) waits.
      sentinelRetryStrategy: () => null,
      ...policyOptions,
      retryStrategy,
    });
  }

  const url = options.url === undefined ? {} : fromUrl(options.url);
  return newRedis({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 6379,
    ...url,
    ...user,
    ...policyOptions,
    retryStrategy,
  });
}
