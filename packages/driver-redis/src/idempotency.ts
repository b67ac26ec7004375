/**
 * Whether a Redis command may be run twice without harm: `true`, `false`, or a rule over the
 * command's arguments (after the name), for commands whose flags change the answer (`SET … GET`).
 */
export type IdempotencyRule = boolean | ((args: readonly unknown[]) => boolean);

/** Command name (upper case) → rule. Commands not in the table are not idempotent. */
export type IdempotencyTable = Readonly<Record<string, IdempotencyRule>>;

const upper = (arg: unknown): string =>
  typeof arg === 'string'
    ? arg.toUpperCase()
    : Buffer.isBuffer(arg)
      ? arg.toString('latin1').toUpperCase()
      : '';

// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT|PXAT|KEEPTTL]`: options start after the value.
// GET returns the old value, which a replay would replace by our own new value; NX is a lock whose
// replay answers "not acquired" to the caller that holds it. Both are unsafe to replay.
const setRule = (args: readonly unknown[]): boolean =>
  !args.slice(2).some((a) => {
    const flag = upper(a);
    return flag === 'GET' || flag === 'NX';
  });

// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …`: INCR makes it an increment.
const zaddFlags = new Set(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']);
const zaddRule = (args: readonly unknown[]): boolean => {
  for (const a of args.slice(1)) {
    const flag = upper(a);
    if (!zaddFlags.has(flag)) return true;
    if (flag === 'INCR') return false;
  }
  return true;
};

// `LREM key count element`: count 0 removes every occurrence (a replay removes nothing more).
const lremRule = (args: readonly unknown[]): boolean => String(args[1]) === '0';

const reads = [
  // strings and keys
  'GET',
  'MGET',
  'GETRANGE',
  'SUBSTR',
  'STRLEN',
  'EXISTS',
  'TTL',
  'PTTL',
  'EXPIRETIME',
  'PEXPIRETIME',
  'TYPE',
  'KEYS',
  'SCAN',
  'RANDOMKEY',
  'DBSIZE',
  'DUMP',
  'OBJECT',
  'TOUCH',
  'LCS',
  // connection and server
  'PING',
  'ECHO',
  'TIME',
  'INFO',
  'LASTSAVE',
  'ROLE',
  // hashes
  'HGET',
  'HMGET',
  'HGETALL',
  'HKEYS',
  'HVALS',
  'HLEN',
  'HEXISTS',
  'HSTRLEN',
  'HSCAN',
  'HRANDFIELD',
  'HTTL',
  'HPTTL',
  // lists
  'LRANGE',
  'LLEN',
  'LINDEX',
  'LPOS',
  // sets
  'SMEMBERS',
  'SISMEMBER',
  'SMISMEMBER',
  'SCARD',
  'SSCAN',
  'SRANDMEMBER',
  'SINTER',
  'SINTERCARD',
  'SUNION',
  'SDIFF',
  // sorted sets
  'ZRANGE',
  'ZRANGEBYSCORE',
  'ZRANGEBYLEX',
  'ZREVRANGE',
  'ZREVRANGEBYSCORE',
  'ZREVRANGEBYLEX',
  'ZSCORE',
  'ZMSCORE',
  'ZRANK',
  'ZREVRANK',
  'ZCARD',
  'ZCOUNT',
  'ZLEXCOUNT',
  'ZSCAN',
  'ZRANDMEMBER',
  'ZINTER',
  'ZUNION',
  'ZDIFF',
  'ZINTERCARD',
  // bits, hyperloglog, geo, streams
  'GETBIT',
  'BITCOUNT',
  'BITPOS',
  'BITFIELD_RO',
  'PFCOUNT',
  'GEOPOS',
  'GEODIST',
  'GEOHASH',
  'GEOSEARCH',
  'GEORADIUS_RO',
  'GEORADIUSBYMEMBER_RO',
  'XRANGE',
  'XREVRANGE',
  'XLEN',
  'XINFO',
  'XPENDING',
  // read-only scripts
  'EVAL_RO',
  'EVALSHA_RO',
  'FCALL_RO',
];

// Writes that set a state rather than change it by a delta: a replay leaves the same data behind.
const stateWrites = [
  'MSET',
  'SETEX',
  'PSETEX',
  'SETRANGE',
  'SETBIT',
  'GETEX',
  'DEL',
  'UNLINK',
  'EXPIRE',
  'PEXPIRE',
  'EXPIREAT',
  'PEXPIREAT',
  'PERSIST',
  'HSET',
  'HMSET',
  'HDEL',
  'HEXPIRE',
  'HPEXPIRE',
  'HPERSIST',
  'LSET',
  'SADD',
  'SREM',
  'SMOVE',
  'ZREM',
  'ZREMRANGEBYSCORE',
  'ZREMRANGEBYLEX',
  'PFADD',
  'PFMERGE',
  'GEOADD',
  'XACK',
  'XDEL',
];

/**
 * The built-in table. Reads and state-setting writes are idempotent; `SET` unless `GET` or `NX`,
 * `ZADD` unless `INCR`, `LREM` only with count 0. Everything else — `INCR*`, `DECR*`, `APPEND`,
 * `LPUSH`/`RPUSH`/`LPOP`/`RPOP`/`RPOPLPUSH`/`LMOVE`, `LTRIM`, `HINCRBY`, `ZINCRBY`, `ZPOP*`, `XADD`,
 * `SETNX`, `GETSET`, `GETDEL`, `RENAME`, `PUBLISH`, `EVAL`, `MULTI`/`EXEC` — is not.
 */
export const defaultIdempotencyTable: IdempotencyTable = Object.freeze({
  ...Object.fromEntries(reads.map((name) => [name, true])),
  ...Object.fromEntries(stateWrites.map((name) => [name, true])),
  SET: setRule,
  ZADD: zaddRule,
  LREM: lremRule,
});

/**
 * The built-in table with `overrides` on top (names in any case), e.g.
 * `{ EVALSHA: true }` for scripts you know to be idempotent or `{ DEL: false }` when a replayed
 * DEL's reply (0 instead of 1) would mislead your code.
 */
export function idempotencyTable(
  overrides: Readonly<Record<string, IdempotencyRule>> = {},
): IdempotencyTable {
  const table: Record<string, IdempotencyRule> = { ...defaultIdempotencyTable };
  for (const [name, rule] of Object.entries(overrides)) table[name.toUpperCase()] = rule;
  return Object.freeze(table);
}

/** Whether `name args…` may be replayed after a failure that may have reached Redis, per `table`. */
export function isIdempotentCommand(
  name: string,
  args: readonly unknown[] = [],
  table: IdempotencyTable = defaultIdempotencyTable,
): boolean {
  const rule = table[name.toUpperCase()];
  if (rule === undefined) return false;
  return typeof rule === 'boolean' ? rule : rule(args);
}
