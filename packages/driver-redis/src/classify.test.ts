import { AttemptEndedError } from '@reconnect/core';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { classifyRedisError, replyCode } from './classify.js';
import { RedisDriverError } from './errors.js';

// ioredis's MaxRetriesPerRequestError and ClusterAllFailedError are not exported; the driver matches them by
// name, as here.
class MaxRetriesPerRequestError extends Error {
  override get name() {
    return 'MaxRetriesPerRequestError';
  }
}
class ClusterAllFailedError extends Error {
  override get name() {
    return 'ClusterAllFailedError';
  }
}
const reply = (message: string): Error => new (ReplyError as new (m: string) => Error)(message);
const sys = (code: string, syscall?: string) =>
  Object.assign(new Error(`${syscall ?? 'read'} ${code}`), { code, syscall });

describe('classifyRedisError', () => {
  it.each([
    ['LOADING Redis is loading the dataset in memory', 'LOADING'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'BUSY'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'TRYAGAIN'],
    ['CLUSTERDOWN The cluster is down', 'CLUSTERDOWN'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no', 'MASTERDOWN'],
    ["READONLY You can't write against a read only replica.", 'READONLY'],
  ])('%s → transient, refused unrun', (message, code) => {
    expect(classifyRedisError(reply(message))).toEqual({ kind: 'transient', code, sent: false });
  });

  it.each([
    ['NOAUTH Authentication required.', 'NOAUTH'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS'],
    ["NOPERM User x has no permissions to run the 'get' command", 'NOPERM'],
  ])('%s → auth', (message, code) => {
    expect(classifyRedisError(reply(message))).toEqual({ kind: 'auth', code, sent: false });
  });

  it('other replies are fatal with the reply’s first word as code', () => {
    expect(classifyRedisError(reply("ERR unknown command 'FOO'"))).toEqual({ kind: 'fatal', code: 'ERR' });
    expect(
      classifyRedisError(reply('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toEqual({
      kind: 'fatal',
      code: 'WRONGTYPE',
    });
    expect(classifyRedisError(reply('ERR max number of clients reached'))).toEqual({
      kind: 'throttled',
      code: 'MAXCLIENTS',
      sent: false,
    });
  });

  it('socket errors: refused before sending is sent:false; lost on a live connection is unknown', () => {
    expect(classifyRedisError(sys('ECONNREFUSED', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(classifyRedisError(sys('ENOTFOUND', 'getaddrinfo'))).toMatchObject({ sent: false });
    expect(classifyRedisError(sys('ETIMEDOUT', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ETIMEDOUT',
      sent: false,
    });
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      const c = classifyRedisError(sys(code));
      expect(c).toEqual({ kind: 'connection', code });
      expect(c.sent).toBeUndefined();
    }
  });

  it('ioredis’s own messages', () => {
    expect(
      classifyRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toEqual({
      kind: 'connection',
      code: 'NOT_CONNECTED',
      sent: false,
    });
    expect(
      classifyRedisError(new Error("Cluster isn't ready and enableOfflineQueue options is false")),
    ).toMatchObject({ sent: false });
    expect(classifyRedisError(new Error('Connection is closed.'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(classifyRedisError(new Error('Command timed out'))).toEqual({
      kind: 'timeout',
      code: 'COMMAND_TIMEOUT',
    });
    expect(
      classifyRedisError(
        new MaxRetriesPerRequestError('Reached the max retries per request limit (which is 0).'),
      ),
    ).toEqual({
      kind: 'connection',
      code: 'MAX_RETRIES_PER_REQUEST',
      // /readyz and logs must not speak of maxRetriesPerRequest, an option users cannot set here.
      message: 'The connection to Redis was lost with the command in flight; it may have run',
    });
    expect(
      classifyRedisError(new Error('All sentinels are unreachable and retry is disabled.')),
    ).toMatchObject({
      kind: 'connection',
      sent: false,
    });
  });

  it('ioredis’s ClusterAllFailedError by its name, whatever its message', () => {
    for (const message of ['Failed to refresh slots cache.', 'something else'])
      expect(classifyRedisError(new ClusterAllFailedError(message))).toEqual({
        kind: 'connection',
        code: 'CLUSTER_ALL_FAILED',
      });
  });

  it('core’s AttemptEndedError by its code, never by its message', () => {
    const ended = new AttemptEndedError();
    expect(classifyRedisError(ended)).toEqual({ kind: 'timeout', code: 'ERR_ATTEMPT_ENDED', sent: false });
    // The same text on a plain Error is not the same error.
    expect(classifyRedisError(new Error(ended.message))).toEqual({ kind: 'fatal' });
  });

  it('the driver’s own errors by name and code, never by message', () => {
    for (const message of ['Connection is closed.', 'closed without an error'])
      expect(classifyRedisError(new RedisDriverError('CONNECTION_CLOSED', message))).toEqual({
        kind: 'connection',
        code: 'CONNECTION_CLOSED',
      });
  });

  it('an aborted wait is a timeout; anything that is not an Error is unknown', () => {
    expect(classifyRedisError(new DOMException('The operation was aborted', 'AbortError'))).toMatchObject({
      kind: 'timeout',
    });
    expect(classifyRedisError('boom')).toEqual({ kind: 'unknown' });
    expect(classifyRedisError(new TypeError('x is not a function'))).toEqual({ kind: 'fatal' });
  });
});

describe('replyCode', () => {
  it('is the first upper-case word', () => {
    expect(replyCode('READONLY You can’t write')).toBe('READONLY');
    expect(replyCode('LOADING')).toBe('LOADING');
    expect(replyCode('Connection is closed.')).toBeUndefined();
  });
});
