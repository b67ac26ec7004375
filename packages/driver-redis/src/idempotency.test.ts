import { describe, expect, it } from 'vitest';
import { defaultIdempotencyTable, idempotencyTable, isIdempotentCommand } from './idempotency.js';

describe('isIdempotentCommand', () => {
  it.each([
    ['GET', ['k']],
    ['mget', ['a', 'b']],
    ['EXISTS', ['k']],
    ['TTL', ['k']],
    ['SET', ['k', 'v']],
    ['SET', ['k', 'v', 'EX', 60]],
    ['SET', ['k', 'v', 'KEEPTTL']],
    ['SET', ['k', 'GET']], // the value happens to be "GET": still a plain SET
    ['SET', ['k', 'v', 'XX']],
    ['DEL', ['k']],
    ['EXPIRE', ['k', 10]],
    ['HGET', ['h', 'f']],
    ['HSET', ['h', 'f', 'v']],
    ['SADD', ['s', 'm']],
    ['SREM', ['s', 'm']],
    ['ZADD', ['z', 1, 'm']],
    ['ZADD', ['z', 'XX', 'CH', 1, 'INCR']], // member named INCR
    ['LREM', ['l', 0, 'x']],
  ] as const)('%s %j is idempotent', (name, args) => {
    expect(isIdempotentCommand(name, args)).toBe(true);
  });

  it.each([
    ['INCR', ['k']],
    ['INCRBY', ['k', 2]],
    ['DECR', ['k']],
    ['APPEND', ['k', 'x']],
    ['LPUSH', ['l', 'x']],
    ['RPUSH', ['l', 'x']],
    ['LPOP', ['l']],
    ['RPOPLPUSH', ['a', 'b']],
    ['LMOVE', ['a', 'b', 'LEFT', 'RIGHT']],
    ['LTRIM', ['l', 1, -1]],
    ['LREM', ['l', 1, 'x']],
    ['HINCRBY', ['h', 'f', 1]],
    ['ZINCRBY', ['z', 1, 'm']],
    ['ZADD', ['z', 'INCR', 1, 'm']],
    ['ZADD', ['z', 'nx', 'incr', 1, 'm']],
    ['SET', ['k', 'v', 'GET']],
    ['SET', ['k', 'v', 'nx', 'EX', 10]],
    ['SETNX', ['k', 'v']],
    ['GETSET', ['k', 'v']],
    ['XADD', ['s', '*', 'f', 'v']],
    ['PUBLISH', ['c', 'm']],
    ['EVAL', ['return 1', 0]],
    ['SOMETHING_NEW', []],
  ] as const)('%s %j is not idempotent', (name, args) => {
    expect(isIdempotentCommand(name, args)).toBe(false);
  });

  it('reads Buffer flags too', () => {
    expect(isIdempotentCommand('SET', ['k', 'v', Buffer.from('get')])).toBe(false);
  });
});

describe('idempotencyTable', () => {
  it('lets the user override entries in any case, keeping the rest', () => {
    const table = idempotencyTable({ evalsha: true, DEL: false, set: (args) => args.length === 2 });
    expect(isIdempotentCommand('EVALSHA', ['sha', 0], table)).toBe(true);
    expect(isIdempotentCommand('DEL', ['k'], table)).toBe(false);
    expect(isIdempotentCommand('SET', ['k', 'v'], table)).toBe(true);
    expect(isIdempotentCommand('SET', ['k', 'v', 'EX', 1], table)).toBe(false);
    expect(isIdempotentCommand('GET', ['k'], table)).toBe(true);
    expect(isIdempotentCommand('INCR', ['k'], table)).toBe(false);
  });
});

// Every entry of the built-in table, written out here (not read from the table), so that dropping, misspelling or
// adding one fails: a command wrongly in it may be replayed after it ran.
describe('defaultIdempotencyTable, entry by entry', () => {
  const reads = [
    ...['GET', 'MGET', 'GETRANGE', 'SUBSTR', 'STRLEN', 'EXISTS', 'TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME'],
    ...['TYPE', 'KEYS', 'SCAN', 'RANDOMKEY', 'DBSIZE', 'DUMP', 'OBJECT', 'TOUCH', 'LCS'],
    ...['PING', 'ECHO', 'TIME', 'INFO', 'LASTSAVE', 'ROLE'],
    ...['HGET', 'HMGET', 'HGETALL', 'HKEYS', 'HVALS', 'HLEN', 'HEXISTS', 'HSTRLEN', 'HSCAN', 'HRANDFIELD'],
    ...['HTTL', 'HPTTL', 'LRANGE', 'LLEN', 'LINDEX', 'LPOS'],
    ...['SMEMBERS', 'SISMEMBER', 'SMISMEMBER', 'SCARD', 'SSCAN', 'SRANDMEMBER', 'SINTER', 'SINTERCARD'],
    ...['SUNION', 'SDIFF'],
    ...[
      'ZRANGE',
      'ZRANGEBYSCORE',
      'ZRANGEBYLEX',
      'ZREVRANGE',
      'ZREVRANGEBYSCORE',
      'ZREVRANGEBYLEX',
      'ZSCORE',
    ],
    ...['ZMSCORE', 'ZRANK', 'ZREVRANK', 'ZCARD', 'ZCOUNT', 'ZLEXCOUNT', 'ZSCAN', 'ZRANDMEMBER', 'ZINTER'],
    ...['ZUNION', 'ZDIFF', 'ZINTERCARD'],
    ...[
      'GETBIT',
      'BITCOUNT',
      'BITPOS',
      'BITFIELD_RO',
      'PFCOUNT',
      'GEOPOS',
      'GEODIST',
      'GEOHASH',
      'GEOSEARCH',
    ],
    ...['GEORADIUS_RO', 'GEORADIUSBYMEMBER_RO', 'XRANGE', 'XREVRANGE', 'XLEN', 'XINFO', 'XPENDING'],
    ...['EVAL_RO', 'EVALSHA_RO', 'FCALL_RO'],
  ];
  const stateWrites = [
    ...['MSET', 'SETEX', 'PSETEX', 'SETRANGE', 'SETBIT', 'GETEX', 'DEL', 'UNLINK', 'EXPIRE', 'PEXPIRE'],
    ...[
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
    ],
    ...['SADD', 'SREM', 'SMOVE', 'ZREM', 'ZREMRANGEBYSCORE', 'ZREMRANGEBYLEX', 'PFADD', 'PFMERGE', 'GEOADD'],
    ...['XACK', 'XDEL'],
  ];

  it('holds exactly these commands: the reads, the state-setting writes, and SET, ZADD and LREM by rule', () => {
    expect(Object.keys(defaultIdempotencyTable).sort()).toEqual(
      [...reads, ...stateWrites, 'SET', 'ZADD', 'LREM'].sort(),
    );
  });

  it('every read and every state-setting write is idempotent, whatever its arguments', () => {
    for (const name of [...reads, ...stateWrites]) {
      expect(isIdempotentCommand(name, ['k', 'v', 'NX', 'GET', 'INCR']), name).toBe(true);
      expect(isIdempotentCommand(name.toLowerCase()), name).toBe(true);
    }
  });

  it('the rules read their arguments after the key (and the value, for SET)', () => {
    // A sorted set whose key is a flag's name: the flags start after the key.
    expect(isIdempotentCommand('ZADD', ['INCR', 1, 'm'])).toBe(true);
    expect(isIdempotentCommand('ZADD', ['z', 'GT', 'CH', 1, 'm'])).toBe(true);
    expect(isIdempotentCommand('ZADD', ['z', 'LT', 'INCR', 1, 'm'])).toBe(false);
    // A key or a value named like a flag is not a flag.
    expect(isIdempotentCommand('SET', ['NX', 'GET'])).toBe(true);
    expect(isIdempotentCommand('SET', ['k', 'v', 'PX', 100, 'NX'])).toBe(false);
    expect(isIdempotentCommand('LREM', ['l', '0', 'x'])).toBe(true);
    expect(isIdempotentCommand('LREM', ['l', -2, 'x'])).toBe(false);
    expect(isIdempotentCommand('SET', ['k', 'v', Buffer.from('NX')])).toBe(false);
    expect(isIdempotentCommand('SET', ['k', 'v', Buffer.from('xx')])).toBe(true);
    // Every ZADD flag is read as one, up to the first score: INCR after any of them still makes an increment.
    for (const flag of ['NX', 'XX', 'GT', 'LT', 'CH'])
      expect(isIdempotentCommand('ZADD', ['z', flag, 'INCR', 1, 'm']), flag).toBe(false);
    // Nothing but flags (no score): nothing to increment.
    expect(isIdempotentCommand('ZADD', ['z', 'XX'])).toBe(true);
  });

  it('idempotencyTable() without overrides is the built-in table', () => {
    expect(Object.keys(idempotencyTable()).sort()).toEqual(Object.keys(defaultIdempotencyTable).sort());
  });

  it('is frozen, and so is a table with overrides', () => {
    expect(Object.isFrozen(defaultIdempotencyTable)).toBe(true);
    expect(Object.isFrozen(idempotencyTable({ EVALSHA: true }))).toBe(true);
  });
});
