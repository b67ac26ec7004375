import {
  isConfigError,
  resolvePolicy,
  type ConfigError,
  type ExecuteOptions,
  type Target,
} from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from './client.js';
import { redisCommands } from './commands.js';
import {
  checkGuardCoversDeadline,
  deadlineOf,
  defaultIdempotencyKeyTtlMs,
  guardKeyOf,
  hashTagOf,
  idempotencyKeyTtlMs,
  newCallToken,
  runGuarded,
} from './write-once.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('hash tags and guard keys', () => {
  it('the tag is the text between the first { and the next }, when not empty; otherwise the whole key', () => {
    expect(hashTagOf('user:{42}:balance')).toBe('42');
    expect(hashTagOf('{a}{b}')).toBe('a');
    expect(hashTagOf('x{a}')).toBe('a');
    expect(hashTagOf('plain')).toBe('plain');
    expect(hashTagOf('half{open')).toBe('half{open');
    expect(hashTagOf('a{}b{c}')).toBe('a{}b{c}');
    expect(hashTagOf('{}')).toBe('{}');
  });

  it('the guard carries the key’s tag, so Redis Cluster hashes both alike', () => {
    expect(guardKeyOf('user:{42}:balance', 'order-7')).toBe('reconnect:once:{42}:order-7');
    expect(guardKeyOf('stock:9', 'order-7')).toBe('reconnect:once:{stock:9}:order-7');
    // The idempotency key comes after the tag: a brace in it does not move the slot.
    expect(guardKeyOf('stock:9', '{x}')).toBe('reconnect:once:{stock:9}:{x}');
  });

  it('call tokens are unique and never contain the separator the script splits at', () => {
    const tokens = Array.from({ length: 1000 }, () => newCallToken());
    expect(new Set(tokens).size).toBe(1000);
    expect(tokens.some((t) => t.includes(':'))).toBe(false);
  });
});

describe('the guard’s TTL', () => {
  it('defaults to one hour; a duration or milliseconds of at least 1 s are taken', () => {
    expect(defaultIdempotencyKeyTtlMs).toBe(3_600_000);
    expect(idempotencyKeyTtlMs(undefined)).toBe(3_600_000);
    expect(idempotencyKeyTtlMs('10m')).toBe(600_000);
    expect(idempotencyKeyTtlMs(1000)).toBe(1000);
    expect(idempotencyKeyTtlMs('1.5s')).toBe(1500);
  });

  it('anything else is a ConfigError naming the option and what it expects', () => {
    for (const bad of ['999ms', 999, 0, -5, 'soon', '']) {
      const error = configError(() => idempotencyKeyTtlMs(bad));
      expect(error.issues).toEqual([
        {
          path: ['idempotencyKeyTtl'],
          kind: 'invalid_idempotency_key_ttl',
          message: `The TTL of idempotency keys must be a duration of at least 1s (got ${JSON.stringify(bad)})`,
          expected: 'a duration like 10m or 1h, or milliseconds ≥ 1000',
        },
      ]);
    }
  });

  it('must outlive the call’s deadline, and a call without a deadline is refused', () => {
    expect(() => checkGuardCoversDeadline(10_000, 9_999)).not.toThrow();
    for (const [ttl, deadline] of [
      [10_000, 10_000],
      [10_000, 20_000],
      [10_000, 0],
    ] as const) {
      const error = configError(() => checkGuardCoversDeadline(ttl, deadline));
      expect(error.issues[0]).toMatchObject({
        path: ['idempotencyKeyTtl'],
        kind: 'idempotency_key_ttl_too_short',
      });
      expect(error.issues[0]!.message).toContain(deadline === 0 ? 'needs a deadline' : `(${deadline} ms)`);
    }
    expect(deadlineOf(undefined, 10_000)).toBe(10_000);
    expect(deadlineOf('2s', 10_000)).toBe(2000);
    expect(deadlineOf(500, 10_000)).toBe(500);
  });
});

/** A target that records what it was asked to execute, running the operation on `client`. */
function recordingTarget(policy = resolvePolicy({}), client?: RedisClient) {
  const executed: ExecuteOptions[] = [];
  const target = {
    policy,
    execute: (op: (c: RedisClient) => Promise<unknown>, options: ExecuteOptions = {}) => {
      executed.push(options);
      return client === undefined ? Promise.resolve(undefined) : op(client);
    },
  } as unknown as Target<RedisClient>;
  return { target, executed };
}

describe('redisCommands().callOnce', () => {
  it('is executed as idempotent under the command’s name, whatever the options say', async () => {
    const { target, executed } = recordingTarget();
    const cache = redisCommands(target);
    await cache.callOnce('k', 'incrby', 'counter', 1);
    await cache.callOnceWith({ deadline: '2s', idempotent: false } as never, 'k', 'INCR', 'counter');
    expect(executed).toEqual([
      { idempotent: true, name: 'INCRBY' },
      { deadline: '2s', idempotent: true, name: 'INCR' },
    ]);
  });

  it('sends one EVALSHA with the guard, the key, the TTL and the command; EVAL when the script is missing', async () => {
    const sent: unknown[][] = [];
    const noscript = Object.assign(new Error('NOSCRIPT No matching script.'), { name: 'ReplyError' });
    const client = {
      call: (...args: unknown[]) => {
        sent.push(args);
        return args[0] === 'EVALSHA' ? Promise.reject(noscript) : Promise.resolve([2, 'stored']);
      },
    } as unknown as RedisClient;
    const cache = redisCommands(recordingTarget(resolvePolicy({}), client).target, {
      idempotencyKeyTtl: '5m',
    });
    expect(await cache.callOnce('k', 'HINCRBY', 'h:{1}', 'f', 2)).toEqual({
      reply: 'stored',
      alreadyApplied: true,
    });
    expect(sent.map((a) => a[0])).toEqual(['EVALSHA', 'EVAL']);
    expect(sent[0]!.slice(2)).toEqual([
      2,
      'reconnect:once:{1}:k',
      'h:{1}',
      300_000,
      expect.any(String),
      'HINCRBY',
      'f',
      2,
    ]);
    expect(sent[1]!.slice(2)).toEqual(sent[0]!.slice(2));
    expect(sent[0]![1]).toMatch(/^[0-9a-f]{40}$/);
  });

  it('another error of EVALSHA is the caller’s, without a second run', async () => {
    const wrongType = Object.assign(new Error('WRONGTYPE Operation against a key'), { name: 'ReplyError' });
    let runs = 0;
    const client = { call: () => (runs++, Promise.reject(wrongType)) } as unknown as RedisClient;
    const write = {
      guard: 'g',
      key: 'k',
      ttlMs: 1000,
      deadlineMs: 500,
      token: 't',
      command: 'INCR',
      args: [],
    };
    await expect(runGuarded(client, write)).rejects.toBe(wrongType);
    expect(runs).toBe(1);
  });

  it('without a TTL of its own, a write takes the client’s (here none: 1 hour) and checks it against the deadline', async () => {
    const sent: unknown[][] = [];
    const client = {
      call: (...args: unknown[]) => (sent.push(args), Promise.resolve([0, 1])),
    } as unknown as RedisClient;
    const write = { guard: 'g', key: 'k', ttlMs: undefined, token: 't', command: 'INCR', args: [] };
    expect(await runGuarded(client, { ...write, deadlineMs: 10_000 })).toEqual({
      reply: 1,
      alreadyApplied: false,
    });
    expect(sent[0]![5]).toBe(3_600_000);
    for (const deadlineMs of [0, 3_600_000]) {
      const refused = await runGuarded(client, { ...write, deadlineMs }).catch((e: unknown) => e);
      expect(isConfigError(refused)).toBe(true);
    }
    expect(sent).toHaveLength(1);
  });

  it('refuses, unsent, a TTL that does not outlive the deadline (the policy’s or the call’s)', async () => {
    const { target, executed } = recordingTarget(resolvePolicy({ retry: { deadline: '10s' } }));
    expect(configError(() => redisCommands(target, { idempotencyKeyTtl: '1' })).issues[0]!.kind).toBe(
      'invalid_idempotency_key_ttl',
    );
    const short = redisCommands(target, { idempotencyKeyTtl: '10s' });
    const refused = await short.callOnce('k', 'INCR', 'c').catch((e: unknown) => e);
    expect(isConfigError(refused)).toBe(true);
    const longCall = await redisCommands(target, { idempotencyKeyTtl: '1h' })
      .callOnceWith({ deadline: '2h' }, 'k', 'INCR', 'c')
      .catch((e: unknown) => e);
    expect(isConfigError(longCall)).toBe(true);
    const badOverride = await redisCommands(target)
      .callOnceWith({ idempotencyKeyTtl: 'x' }, 'k', 'INCR', 'c')
      .catch((e: unknown) => e);
    expect(isConfigError(badOverride)).toBe(true);
    expect(executed).toEqual([]);
    await redisCommands(target).callOnceWith({ idempotencyKeyTtl: '11s' }, 'k', 'INCR', 'c');
    expect(executed).toHaveLength(1);
  });
});
