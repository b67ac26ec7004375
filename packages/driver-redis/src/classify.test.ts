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
  ])('%s → transient, refused unrun', (message, code) => {
    expect(classifyRedisError(reply(message))).toEqual({ kind: 'transient', code, sent: false });
  });

  it('READONLY → transient, refused unrun, by a read-only node (alive: the breaker does not count it)', () => {
    expect(classifyRedisError(reply("READONLY You can't write against a read only replica."))).toEqual({
      kind: 'transient',
      code: 'READONLY',
      sent: false,
      readOnlyNode: true,
    });
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
    expect(classifyRedisError(sys('ENOTFOUND', 'getaddrinfo'))).toEqual({
      kind: 'connection',
      code: 'ENOTFOUND',
      sent: false,
    });
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
    ).toEqual({ kind: 'connection', code: 'NOT_CONNECTED', sent: false });
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
    expect(classifyRedisError(new Error('All sentinels are unreachable and retry is disabled.'))).toEqual({
      kind: 'connection',
      code: 'NO_SENTINEL',
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
    expect(classifyRedisError(new DOMException('The operation was aborted', 'AbortError'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    expect(classifyRedisError('boom')).toEqual({ kind: 'unknown' });
    expect(classifyRedisError(new TypeError('x is not a function'))).toStrictEqual({ kind: 'fatal' });
  });
});

// The rules above and below state each expected classification literally (no loop over the table itself), so a
// change to any rule — kind, code, or whether it was sent — fails here. test/classify-real.test.ts produces every
// "never sent" rule with a real server and checks that the refused command did not run.
describe('classifyRedisError: the rest of the table, one rule each', () => {
  // ioredis's classes from redis-errors, by name: ioredis does not export them, and the driver never uses instanceof.
  const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

  it('ioredis refused before writing: never sent', () => {
    expect(classifyRedisError(new Error('None of startup nodes is available'))).toEqual({
      kind: 'connection',
      code: 'NO_NODE',
      sent: false,
    });
    expect(
      classifyRedisError(new Error('All sentinels are unreachable. Retrying from scratch after 100ms.')),
    ).toEqual({
      kind: 'connection',
      code: 'NO_SENTINEL',
      sent: false,
    });
  });

  it('the connection was lost, or the client closed, with the command maybe in flight: may have run', () => {
    // A pipeline's commands after a partial reply (ioredis throws an AbortError: the rule wins over "aborted").
    expect(classifyRedisError(named('AbortError', 'Command aborted due to connection close'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(classifyRedisError(named('AbortError', 'Cluster is ended.'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(classifyRedisError(new Error('Cluster is disconnected.'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(classifyRedisError(named('RedisError', 'Connection is aborted'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(
      classifyRedisError(named('RedisError', 'Connection is discarded because a new connection is made')),
    ).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
  });

  it('time limits: the reply may still come', () => {
    expect(
      classifyRedisError(new Error("Socket timeout. Expecting data, but didn't receive any in 1000ms.")),
    ).toEqual({ kind: 'timeout', code: 'SOCKET_TIMEOUT' });
    expect(classifyRedisError(named('TimeoutError', 'The operation timed out'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    expect(classifyRedisError(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
  });

  it('a cluster that kept redirecting: transient, may have run', () => {
    expect(
      classifyRedisError(
        new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 3999 127.0.0.1:7001'),
      ),
    ).toEqual({ kind: 'transient', code: 'TOO_MANY_REDIRECTIONS' });
  });

  it('reply errors: only a ReplyError is a reply (ioredis 6 has no ParserError); a reply without a code is fatal', () => {
    // ioredis 6 decodes the protocol itself and throws a plain Error on garbage: an error named ParserError is no
    // reply, so the max-clients words of an ERR reply do not count in it (its text is read as any error's).
    expect(classifyRedisError(named('ParserError', 'ERR max number of clients reached'))).toStrictEqual({
      kind: 'fatal',
      code: 'ERR',
    });
    expect(classifyRedisError(reply('LOADING Redis is loading the dataset in memory'))).toEqual({
      kind: 'transient',
      code: 'LOADING',
      sent: false,
    });
    // Strict: no `code` key at all, not one set to undefined.
    expect(classifyRedisError(reply('unknown reply without a code'))).toStrictEqual({ kind: 'fatal' });
    // The max-clients text is read on ERR replies only, in any case.
    expect(classifyRedisError(reply('ERR Max Number Of Clients Reached'))).toEqual({
      kind: 'throttled',
      code: 'MAXCLIENTS',
      sent: false,
    });
    expect(classifyRedisError(reply('WRONGTYPE max number of clients reached'))).toEqual({
      kind: 'fatal',
      code: 'WRONGTYPE',
    });
  });

  it('a reply’s text re-thrown by a wrapper (pipelines, scripts): read by its first word', () => {
    expect(classifyRedisError(new Error('LOADING Redis is loading the dataset in memory'))).toEqual({
      kind: 'transient',
      code: 'LOADING',
      sent: false,
    });
    expect(classifyRedisError(new Error("READONLY You can't write against a read only replica."))).toEqual({
      kind: 'transient',
      code: 'READONLY',
      sent: false,
      readOnlyNode: true,
    });
    expect(classifyRedisError(new Error('NOAUTH Authentication required.'))).toEqual({
      kind: 'auth',
      code: 'NOAUTH',
      sent: false,
    });
    expect(classifyRedisError(new Error('WRONGPASS invalid username-password pair'))).toEqual({
      kind: 'auth',
      code: 'WRONGPASS',
      sent: false,
    });
    expect(
      classifyRedisError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toEqual({
      kind: 'fatal',
      code: 'WRONGTYPE',
    });
    // Unlike a ReplyError's, a wrapped max-clients text is not read: fatal, with its first word.
    expect(classifyRedisError(new Error('ERR max number of clients reached'))).toEqual({
      kind: 'fatal',
      code: 'ERR',
    });
  });

  it('socket errors on a live connection keep their code and say nothing of sent', () => {
    expect(classifyRedisError(sys('ECONNABORTED'))).toEqual({ kind: 'connection', code: 'ECONNABORTED' });
    expect(classifyRedisError(sys('ERR_STREAM_DESTROYED'))).toEqual({
      kind: 'connection',
      code: 'ERR_STREAM_DESTROYED',
    });
    expect(classifyRedisError(sys('EHOSTUNREACH', 'connect'))).toEqual({
      kind: 'connection',
      code: 'EHOSTUNREACH',
      sent: false,
    });
  });
});

describe('classifyRedisError: TLS certificate errors', () => {
  const tlsError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('a refused server certificate is auth, never sent, and says what is wrong with it', () => {
    expect(
      classifyRedisError(
        tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      ),
    ).toStrictEqual({
      kind: 'auth',
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      sent: false,
      message:
        "TLS: the server's certificate is not signed by a CA this client trusts (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)",
    });
    expect(classifyRedisError(tlsError('CERT_HAS_EXPIRED', 'certificate has expired')).message).toBe(
      "TLS: the server's certificate has expired (CERT_HAS_EXPIRED: certificate has expired)",
    );
    const altname = classifyRedisError(
      tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
    );
    expect(altname).toMatchObject({ kind: 'auth', code: 'ERR_TLS_CERT_ALTNAME_INVALID', sent: false });
    expect(altname.message).toMatch(/does not name the host this client connected to/);
    expect(classifyRedisError(tlsError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')).kind).toBe(
      'auth',
    );
    // Refusals Node gives for a certificate that is not a server's, or a chain whose issuer's CRL the client lacks.
    for (const [code, says] of [
      ['INVALID_PURPOSE', "the server's certificate is not meant for a TLS server (its key usage)"],
      [
        'UNABLE_TO_GET_CRL',
        "the server's certificate has an issuer whose revocation list is not among this client's `crl`",
      ],
    ])
      expect(classifyRedisError(tlsError(code!, 'refused')), code).toStrictEqual({
        kind: 'auth',
        code,
        sent: false,
        message: `TLS: ${says} (${code}: refused)`,
      });
  });

  it('other TLS failures (a handshake cut, a protocol error) are not certificate errors', () => {
    expect(classifyRedisError(tlsError('ECONNRESET', 'Client network socket disconnected')).kind).toBe(
      'connection',
    );
    expect(classifyRedisError(tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')).kind).toBe(
      'fatal',
    );
  });
});

describe('replyCode', () => {
  it('is the first upper-case word', () => {
    expect(replyCode('READONLY You can’t write')).toBe('READONLY');
    expect(replyCode('LOADING')).toBe('LOADING');
    expect(replyCode('Connection is closed.')).toBeUndefined();
    // Only the first word: a code further on is not the reply's.
    expect(replyCode('a script failed: READONLY You can’t write')).toBeUndefined();
    expect(classifyRedisError(new Error('wrapped: LOADING Redis is loading'))).toStrictEqual({
      kind: 'fatal',
    });
  });
});
