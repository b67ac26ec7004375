import { describe, expect, it } from 'vitest';
import { idempotencyTable, isIdempotentCommand } from './idempotency.js';

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
