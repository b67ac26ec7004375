import { createHash, randomBytes } from 'node:crypto';
import { ConfigError, parseDuration } from '@reconnect/core';
import { replyCode } from './classify.js';
import type { RedisClient } from './client.js';
import { knownStateOf } from './client-state.js';

// A write fenced by an idempotency key (issue #27). The command and a guard key run in one Lua script, so Redis
// applies both or neither: the first run executes the command and stores its reply in the guard (with a TTL);
// any later run with the same guard finds it, does nothing and answers the stored reply. A replay after a lost
// reply or a timed-out attempt is therefore harmless, and the engine may retry the write like an idempotent one.
//
// The guard carries a token per call, so a run can tell "an earlier attempt of this same call applied it" (the
// caller's write was applied: `alreadyApplied: false`) from "another call with the same key applied it"
// (`alreadyApplied: true`). KEYS[1] is the guard, KEYS[2] the written key; ARGV: TTL in ms, token, command, args.
const script = `local stored = redis.call('GET', KEYS[1])
if stored then
  local split = string.find(stored, ':', 1, true)
  local by = 2
  if string.sub(stored, 1, split - 1) == ARGV[2] then by = 1 end
  return {by, cmsgpack.unpack(string.sub(stored, split + 1))}
end
local reply = redis.call(ARGV[3], KEYS[2], unpack(ARGV, 4))
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. cmsgpack.pack(reply), 'PX', ARGV[1])
return {0, reply}`;

const scriptSha = createHash('sha1').update(script).digest('hex');

/** What a write run through an idempotency key answers. */
export interface OnceReply<T> {
  /**
   * The command's reply as a Lua script returns it (integers, strings, arrays, `null`; `OK` for a status) — the
   * reply Redis gave when the write was applied, also when an earlier attempt or an earlier call applied it.
   */
  readonly reply: T;
  /** True when an earlier call with the same idempotency key had applied the write: this call changed nothing. */
  readonly alreadyApplied: boolean;
}

/** How long a guard lives when no TTL is given: 1 hour. */
export const defaultIdempotencyKeyTtlMs = 3_600_000;

/** The shortest TTL a guard may have (1 s): shorter would not outlive the retries it exists for. */
export const minIdempotencyKeyTtlMs = 1000;

/**
 * The hash tag Redis Cluster hashes `key` by: the text between its first `{` and the next `}` when not empty,
 * otherwise the whole key.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/**
 * The guard key of a write to `key` under `idempotencyKey`: `reconnect:once:{<hash tag of key>}:<idempotencyKey>`,
 * in the same Cluster slot as `key` (a key without a tag and with a `}` in it cannot be matched: Redis Cluster
 * then refuses the script with CROSSSLOT, before running it).
 */
export function guardKeyOf(key: string, idempotencyKey: string): string {
  return `reconnect:once:{${hashTagOf(key)}}:${idempotencyKey}`;
}

/**
 * A guard TTL in milliseconds from a duration (`'1h'`, `90000`), or the default; a ConfigError naming `path` when it
 * is not a duration of at least 1 s.
 */
export function idempotencyKeyTtlMs(
  value: number | string | undefined,
  path: readonly (string | number)[] = ['idempotencyKeyTtl'],
): number {
  if (value === undefined) return defaultIdempotencyKeyTtlMs;
  const ms = parseDuration(value);
  if (ms !== undefined && ms >= minIdempotencyKeyTtlMs) return Math.ceil(ms);
  throw new ConfigError([
    {
      path: [...path],
      kind: 'invalid_idempotency_key_ttl',
      message: `The TTL of idempotency keys must be a duration of at least 1s (got ${JSON.stringify(value)})`,
      expected: 'a duration like 10m or 1h, or milliseconds ≥ 1000',
    },
  ]);
}

/**
 * Refuses a guarded write whose retries could outlive its guard: a replay after the guard expired would apply the
 * write twice. `deadlineMs` is the call's (0: none, which no TTL can cover).
 */
export function checkGuardCoversDeadline(ttlMs: number, deadlineMs: number): void {
  if (deadlineMs > 0 && deadlineMs < ttlMs) return;
  throw new ConfigError([
    {
      path: ['idempotencyKeyTtl'],
      kind: 'idempotency_key_ttl_too_short',
      message:
        deadlineMs === 0
          ? 'A write with an idempotency key needs a deadline (retry.deadline is 0: its replays would have no end, and could come after the guard expired)'
          : `The idempotency key's TTL (${ttlMs} ms) must be longer than the call's deadline (${deadlineMs} ms): a replay after the guard expired would apply the write twice`,
      expected: `a TTL longer than the deadline`,
    },
  ]);
}

/** The call's deadline in ms: its own `deadline` option, else the policy's. */
export function deadlineOf(deadline: number | string | undefined, policyDeadlineMs: number): number {
  if (deadline === undefined) return policyDeadlineMs;
  return parseDuration(deadline) ?? policyDeadlineMs;
}

// One token per call, unique in the process and across processes: a random prefix and a counter.
const tokenPrefix = randomBytes(9).toString('base64url');
let tokenCounter = 0;

/** A fresh token for one guarded call (no `:` in it: the script splits the guard's value at the first one). */
export function newCallToken(): string {
  tokenCounter += 1;
  return `${tokenPrefix}${tokenCounter.toString(36)}`;
}

/** The arguments of one guarded write, fixed for every attempt of its call. */
export interface GuardedWrite {
  readonly guard: string;
  readonly key: string;
  /** The guard's TTL given to the call or its `redisCommands`; else the target's option, else the default. */
  readonly ttlMs: number | undefined;
  /** The call's deadline, which a TTL taken from the target's options must outlive (checked before sending). */
  readonly deadlineMs: number;
  readonly token: string;
  readonly command: string;
  readonly args: readonly (string | Buffer | number)[];
}

/**
 * Runs one attempt of a guarded write on `client`: EVALSHA, or EVAL when the server does not have the script yet
 * (NOSCRIPT: nothing ran). Replays of the same `write` apply it at most once. A TTL from the target's options that
 * does not outlive the deadline is refused here, unsent (a ConfigError, not retried).
 */
export async function runGuarded<T>(client: RedisClient, write: GuardedWrite): Promise<OnceReply<T>> {
  let ttlMs = write.ttlMs;
  if (ttlMs === undefined) {
    ttlMs = knownStateOf(client)?.idempotencyKeyTtlMs ?? defaultIdempotencyKeyTtlMs;
    checkGuardCoversDeadline(ttlMs, write.deadlineMs);
  }
  const rest = [2, write.guard, write.key, ttlMs, write.token, write.command, ...write.args];
  let answer: unknown;
  try {
    answer = await client.call('EVALSHA', scriptSha, ...rest);
  } catch (error) {
    if (!(error instanceof Error) || replyCode(error.message) !== 'NOSCRIPT') throw error;
    answer = await client.call('EVAL', script, ...rest);
  }
  const [by, reply] = answer as [number, T];
  return { reply, alreadyApplied: by === 2 };
}
