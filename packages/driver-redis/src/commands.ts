import type { ExecuteOptions, Target } from '@reconnect/core';
import type { RedisClient } from './client.js';
import {
  defaultIdempotencyTable,
  idempotencyTable,
  isIdempotentCommand,
  type IdempotencyRule,
  type IdempotencyTable,
} from './idempotency.js';

/** An argument of a Redis command as ioredis takes it. */
export type RedisArgument = string | Buffer | number;

/** Options of {@link redisCommands}. */
export interface RedisCommandsOptions {
  /** Rules on top of the built-in table, e.g. `{ EVALSHA: true }` or `{ DEL: false }`. */
  idempotency?: Readonly<Record<string, IdempotencyRule>>;
}

/** Per-call options: those of `execute`, with `idempotent` defaulting to the table's verdict. */
export type RedisCallOptions = Omit<ExecuteOptions, 'name'>;

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
  return {
    target,
    table,
    call: <T>(name: string, ...args: RedisArgument[]) => callWith<T>({}, name, ...args),
    callWith,
    isIdempotent: (name, args = []) => isIdempotentCommand(name, args, table),
  };
}
