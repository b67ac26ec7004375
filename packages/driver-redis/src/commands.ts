import type { ExecuteOptions, Target } from '@reconnect/core';
import type { RedisClient } from './client.js';
import {
  defaultIdempotencyTable,
  idempotencyTable,
  isIdempotentCommand,
  type IdempotencyRule,
  type IdempotencyTable,
} from './idempotency.js';
import {
  checkGuardCoversDeadline,
  deadlineOf,
  guardKeyOf,
  idempotencyKeyTtlMs,
  newCallToken,
  runGuarded,
  type OnceReply,
} from './write-once.js';

/** An argument of a Redis command as ioredis takes it. */
export type RedisArgument = string | Buffer | number;

/** Options of {@link redisCommands}. */
export interface RedisCommandsOptions {
  /** Rules on top of the built-in table, e.g. `{ EVALSHA: true }` or `{ DEL: false }`. */
  idempotency?: Readonly<Record<string, IdempotencyRule>>;
  /**
   * How long the guard of a write run with an idempotency key lives (`callOnce`): a duration (`'10m'`, `'1h'`) or
   * milliseconds, at least 1 s and longer than the deadline of the calls. Default: the target's `idempotencyKeyTtl`
   * option, else 1 hour.
   */
  idempotencyKeyTtl?: number | string;
}

/** Per-call options: those of `execute`, with `idempotent` defaulting to the table's verdict. */
export type RedisCallOptions = Omit<ExecuteOptions, 'name'>;

/** Per-call options of a write with an idempotency key: those of `execute` (it is always retryable), and its TTL. */
export type RedisOnceOptions = Omit<ExecuteOptions, 'name' | 'idempotent'> & {
  /** Overrides {@link RedisCommandsOptions.idempotencyKeyTtl} for this call. */
  idempotencyKeyTtl?: number | string;
};

/** Commands sent through a target, each marked idempotent (or not) from the command table. */
export interface RedisCommands {
  /** The target the commands run on. */
  readonly target: Target<RedisClient>;
  /** The table in use. */
  readonly table: IdempotencyTable;
  /** Runs `name args…` with the target's policy; idempotent per the table. */
  call<T = unknown>(name: string, ...args: RedisArgument[]): Promise<T>;
  /** {@link RedisCommands.call} with per-call options (signal, deadline, or an explicit `idempotent`). */
  callWith<T = unknown>(options: RedisCallOptions, name: string, ...args: RedisArgument[]): Promise<T>;
  /** Whether `name args…` counts as idempotent under this table. */
  isIdempotent(name: string, args?: readonly RedisArgument[]): boolean;
  /**
   * Runs the write `name key args…` at most once per `idempotencyKey`, retried like an idempotent command: the
   * command and a guard (`SET guard NX PX ttl`, holding the reply) run in one script, so a replay — after a lost
   * reply, a timeout, a reconnect — finds the guard and answers the stored reply without running the command again.
   * `key` is the key the command writes (its first argument); the guard goes into its Cluster slot.
   */
  callOnce<T = unknown>(
    idempotencyKey: string,
    name: string,
    key: string,
    ...args: RedisArgument[]
  ): Promise<OnceReply<T>>;
  /** {@link RedisCommands.callOnce} with per-call options (signal, deadline, the guard's TTL). */
  callOnceWith<T = unknown>(
    options: RedisOnceOptions,
    idempotencyKey: string,
    name: string,
    key: string,
    ...args: RedisArgument[]
  ): Promise<OnceReply<T>>;
}

/**
 * Wraps a Redis target so each command is marked idempotent automatically:
 * `GET`, `SET k v EX 60`, `DEL`, `HSET`, `SADD`, `ZADD` (without INCR) may be replayed after a lost
 * reply; `INCR`, `LPUSH`, `SET … GET`, `SET … NX` never are — their callers get `outcome: 'unknown'`.
 *
 * ```ts
 * const cache = redisCommands(manager.target('cache'));
 * await cache.call('GET', 'user:1');   // retried through a reconnect
 * await cache.call('INCR', 'hits');    // sent at most once
 * await cache.callOnce('order-7', 'INCRBY', 'stock:42', -1); // retried, applied once per key
 * ```
 */
export function redisCommands(
  target: Target<RedisClient>,
  options: RedisCommandsOptions = {},
): RedisCommands {
  const table =
    options.idempotency === undefined ? defaultIdempotencyTable : idempotencyTable(options.idempotency);
  const callWith = <T>(callOptions: RedisCallOptions, name: string, ...args: RedisArgument[]): Promise<T> =>
    target.execute((client) => client.call(name, ...args) as Promise<T>, {
      ...callOptions,
      idempotent: callOptions.idempotent ?? isIdempotentCommand(name, args, table),
      name: name.toUpperCase(),
    });
  const ttlMs =
    options.idempotencyKeyTtl === undefined ? undefined : idempotencyKeyTtlMs(options.idempotencyKeyTtl);
  // Async so that a refused TTL rejects like every other failure of the call, instead of throwing.
  const callOnceWith = async <T>(
    onceOptions: RedisOnceOptions,
    idempotencyKey: string,
    name: string,
    key: string,
    ...args: RedisArgument[]
  ): Promise<OnceReply<T>> => {
    const { idempotencyKeyTtl, ...executeOptions } = onceOptions;
    const ttl = idempotencyKeyTtl === undefined ? ttlMs : idempotencyKeyTtlMs(idempotencyKeyTtl);
    const deadlineMs = deadlineOf(executeOptions.deadline, target.policy.retry.deadline);
    // A TTL given here is checked now; one from the target's options is known only to its client, and is checked
    // there (runGuarded), still before anything is sent.
    if (ttl !== undefined) checkGuardCoversDeadline(ttl, deadlineMs);
    const write = {
      guard: guardKeyOf(key, idempotencyKey),
      key,
      ttlMs: ttl,
      deadlineMs,
      token: newCallToken(),
      command: name,
      args,
    };
    return target.execute((client) => runGuarded<T>(client, write), {
      ...executeOptions,
      idempotent: true,
      name: name.toUpperCase(),
    });
  };
  return {
    target,
    table,
    call: <T>(name: string, ...args: RedisArgument[]) => callWith<T>({}, name, ...args),
    callWith,
    isIdempotent: (name, args = []) => isIdempotentCommand(name, args, table),
    callOnce: <T>(idempotencyKey: string, name: string, key: string, ...args: RedisArgument[]) =>
      callOnceWith<T>({}, idempotencyKey, name, key, ...args),
    callOnceWith,
  };
}
