// Writes with an idempotency key (issue #27) against a throwaway redis-server: the write is retried like an
// idempotent command, and a replay — after a lost reply, a timed-out attempt still queued on a hung server, or a
// second call with the same key — never applies it twice.
import {
  createTarget,
  isConfigError,
  isOutcomeUnknownError,
  type PolicyInput,
  type Target,
} from '@reconnect/core';
import { startFaultProxy, startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  guardKeyOf,
  redisCommands,
  redisDriver,
  redisOptionsSchema,
  type RedisClient,
} from '../src/index.js';
import { until } from './helpers.js';
import { preset, startTarget } from './target-helpers.js';

const server = useServer(() => startRedis());
const targets: Target<RedisClient>[] = [];
let admin: Redis;
beforeAll(async () => {
  admin = new Redis({ port: server().port, lazyConnect: true, retryStrategy: () => 50 });
  admin.on('error', () => undefined);
  await admin.connect();
  return () => admin.disconnect();
});
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
});
async function target(port: number, policy: PolicyInput): Promise<Target<RedisClient>> {
  const t = await startTarget(port, policy);
  targets.push(t);
  return t;
}
/** How often Redis ran a command (INFO commandstats), e.g. how many guarded writes reached it. */
async function calls(command: string): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

// Attempts cut at 300 ms; a hung server is found by a probe within ~350 ms; an 8 s deadline outlasts the hangs.
const racePolicy: PolicyInput = {
  retry: { attemptTimeout: '300ms', deadline: '8s', maxRetries: 20 },
  healthCheck: { enabled: true, interval: '200ms', timeout: '150ms', failureThreshold: 1 },
  reconnect: { backoff: { type: 'exponential', base: '50ms', factor: 2, max: '200ms', jitter: 'full' } },
  circuitBreaker: { enabled: false },
};

describe('a write with an idempotency key', () => {
  it('is applied once; a second call with the key answers the first reply with alreadyApplied', async () => {
    const cache = redisCommands(await target(server().port, preset('redis')), { idempotencyKeyTtl: '10m' });
    expect(await cache.callOnce('o-1', 'INCRBY', 'once:counter', 5)).toEqual({
      reply: 5,
      alreadyApplied: false,
    });
    expect(await cache.callOnce('o-1', 'INCRBY', 'once:counter', 5)).toEqual({
      reply: 5,
      alreadyApplied: true,
    });
    expect(await cache.callOnce('o-2', 'INCRBY', 'once:counter', 5)).toEqual({
      reply: 10,
      alreadyApplied: false,
    });
    expect(await admin.get('once:counter')).toBe('10');
    // The guard lives for the TTL given (10 min), in the written key's slot.
    const ttl = await admin.pttl(guardKeyOf('once:counter', 'o-1'));
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    // Status and null replies survive the guard: SET answers OK, SET … NX on a taken key answers null.
    expect(await cache.callOnce('s-1', 'SET', 'once:lock', 'a', 'NX')).toEqual({
      reply: 'OK',
      alreadyApplied: false,
    });
    expect(await cache.callOnce('s-1', 'SET', 'once:lock', 'a', 'NX')).toEqual({
      reply: 'OK',
      alreadyApplied: true,
    });
    expect(await cache.callOnce('s-2', 'SET', 'once:lock', 'b', 'NX')).toEqual({
      reply: null,
      alreadyApplied: false,
    });
    expect(await cache.callOnce('s-2', 'SET', 'once:lock', 'b', 'NX')).toEqual({
      reply: null,
      alreadyApplied: true,
    });
    expect(await admin.get('once:lock')).toBe('a');
    // Array replies too.
    await admin.rpush('once:list', 'x', 'y', 'z');
    expect(await cache.callOnce('l-1', 'LPOP', 'once:list', 2)).toEqual({
      reply: ['x', 'y'],
      alreadyApplied: false,
    });
    expect(await cache.callOnce('l-1', 'LPOP', 'once:list', 2)).toEqual({
      reply: ['x', 'y'],
      alreadyApplied: true,
    });
    expect(await admin.lrange('once:list', 0, -1)).toEqual(['z']);
  });

  it('under a keyPrefix, the written key and its guard both carry it', async () => {
    const t = createTarget({
      name: 'prefixed',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ port: server().port, keyPrefix: 'app:' }),
      policy: preset('redis'),
    });
    await t.start();
    targets.push(t);
    const cache = redisCommands(t);
    expect(await cache.callOnce('p-1', 'INCRBY', 'prefixed:n', 2)).toEqual({
      reply: 2,
      alreadyApplied: false,
    });
    expect(await cache.callOnce('p-1', 'INCRBY', 'prefixed:n', 2)).toEqual({
      reply: 2,
      alreadyApplied: true,
    });
    expect(await admin.get('app:prefixed:n')).toBe('2');
    expect(await admin.exists(`app:${guardKeyOf('prefixed:n', 'p-1')}`)).toBe(1);
  });

  it('the target’s idempotencyKeyTtl option sets the guard’s TTL, and one shorter than the deadline is refused unsent', async () => {
    const withTtl = (ttl: string, name: string) =>
      createTarget({
        name,
        driver: redisDriver,
        options: redisOptionsSchema.parse({ port: server().port, idempotencyKeyTtl: ttl }),
        policy: preset('redis'), // deadline 10 s
      });
    const t = withTtl('2m', 'ttl-2m');
    const short = withTtl('5s', 'ttl-5s');
    targets.push(t, short);
    await Promise.all([t.start(), short.start()]);
    expect(await redisCommands(t).callOnce('t-1', 'INCR', 'ttl:n')).toEqual({
      reply: 1,
      alreadyApplied: false,
    });
    const ttl = await admin.pttl(guardKeyOf('ttl:n', 't-1'));
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    // The call's own TTL wins over the option.
    await redisCommands(t).callOnceWith({ idempotencyKeyTtl: '30s' }, 't-2', 'INCR', 'ttl:n');
    expect(await admin.pttl(guardKeyOf('ttl:n', 't-2'))).toBeLessThanOrEqual(30_000);
    const refused = await redisCommands(short)
      .callOnce('t-3', 'INCR', 'ttl:short')
      .catch((e: unknown) => e);
    expect(isConfigError(refused), String(refused)).toBe(true);
    expect(await admin.exists('ttl:short', guardKeyOf('ttl:short', 't-3'))).toBe(0);
  });

  it('a command Redis refuses is not applied and leaves no guard: the error reaches the caller', async () => {
    const cache = redisCommands(await target(server().port, preset('redis')));
    await admin.set('once:text', 'not a number');
    const error = await cache.callOnce('e-1', 'INCRBY', 'once:text', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^ERR value is not an integer/);
    expect(await admin.exists(guardKeyOf('once:text', 'e-1'))).toBe(0);
    expect(await admin.get('once:text')).toBe('not a number');
  });

  it('whose reply is lost is retried and applied once; the same write without a key is told unknown', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const cache = redisCommands(await target(proxy.port, preset('redis')));
      await cache.callOnce('warm-1', 'INCR', 'lost:warm'); // the script is loaded: the next attempt is one EVALSHA
      await admin.set('lost:counter', '0');
      const before = await calls('evalsha');
      proxy.cutAfter(0, 'toClient');
      expect(await cache.callOnce('lost-1', 'INCR', 'lost:counter')).toEqual({
        reply: 1,
        alreadyApplied: false,
      });
      // Two runs reached Redis (the one whose reply was lost, and the replay), one effect.
      expect((await calls('evalsha')) - before).toBe(2);
      expect(await admin.get('lost:counter')).toBe('1');

      // Without a key nothing changes: the plain INCR is not replayed, and its caller is told the outcome is unknown.
      proxy.cutAfter(0, 'toClient');
      const error = await cache.call('INCR', 'lost:counter').catch((e: unknown) => e);
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      expect(await admin.get('lost:counter')).toBe('2');
    } finally {
      await proxy.close();
    }
  });

  it('an attempt queued on a hung server (SIGSTOP), replayed on a new connection: one effect after SIGCONT', async () => {
    const t = await target(server().port, racePolicy);
    const cache = redisCommands(t);
    await cache.callOnce('warm-2', 'INCR', 'race:warm');
    const before = await calls('evalsha');
    let retries = 0;
    t.on('retry', () => retries++);
    let reconnects = 0;
    t.on('reconnect', () => reconnects++);
    await server().hang();
    const write = cache.callOnce('race-1', 'INCRBY', 'race:counter', 7);
    try {
      // The first attempt timed out with its EVALSHA written to the hung server, and the target dropped that
      // connection: the replay waits for a new one.
      await until(() => retries >= 1 && t.state === 'reconnecting', 3000);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await server().resume();
    }
    expect(await write).toEqual({ reply: 7, alreadyApplied: false });
    expect(reconnects).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 200));
    const ran = (await calls('evalsha')) - before;
    console.log(
      `SIGSTOP race: ${retries} retries, ${ran} runs of the script reached Redis, counter ${await admin.get('race:counter')}`,
    );
    expect(ran).toBeGreaterThanOrEqual(2); // the queued attempt ran after SIGCONT, and so did the replay
    expect(await admin.get('race:counter')).toBe('7');
  });

  it('two calls with one key, both queued on a hung server on two connections: one applies, one is told so', async () => {
    // No health check: neither target drops its connection during the hang, so each call is sent exactly once.
    const quiet: PolicyInput = { ...racePolicy, healthCheck: { enabled: false } };
    const [a, b] = [
      redisCommands(await target(server().port, quiet)),
      redisCommands(await target(server().port, quiet)),
    ];
    await a.callOnce('warm-3', 'INCR', 'dup:warm');
    const before = await calls('evalsha');
    await server().hang();
    const options = { attemptTimeout: '5s' };
    let both: Promise<unknown>;
    try {
      both = Promise.all([
        a.callOnceWith(options, 'dup-1', 'INCRBY', 'dup:counter', 3),
        b.callOnceWith(options, 'dup-1', 'INCRBY', 'dup:counter', 3),
      ]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await server().resume();
    }
    const replies = (await both) as { reply: number; alreadyApplied: boolean }[];
    expect(replies.map((r) => r.reply)).toEqual([3, 3]);
    expect(replies.filter((r) => r.alreadyApplied)).toHaveLength(1);
    expect((await calls('evalsha')) - before).toBe(2);
    expect(await admin.get('dup:counter')).toBe('3');
  });
});
