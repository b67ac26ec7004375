import { AttemptEndedError, decideRetry, resolvePolicy, type Classification } from '@reconnect/core';

/** Whether a policy's `retryOn` retries this classification (core's public decision, for an idempotent call). */
function matchesRetryOn(
  retryOn: ReturnType<typeof resolvePolicy>['retry']['retryOn'],
  c: Classification,
): boolean {
  const policy = resolvePolicy({}).retry;
  const ctx = { attempt: 1, classification: c, idempotent: true, node: undefined, elapsedMs: 0 };
  return decideRetry({ ...policy, retryOn }, new Error('x'), c, ctx) === 'retryable';
}
import { presets } from '@reconnect/policies';
import { describe, expect, it } from 'vitest';
import {
  classifyMySqlError,
  codeMatches,
  isReadOnlyError,
  serverErrno,
  serverErrorRule,
  serverErrorRules,
} from './classify.js';
import { markNotSent, MySqlDriverError } from './errors.js';

// What mysql2 builds from an ERR packet (lib/packets/packet.js asError): code is undefined for numbers
// missing from its table (MariaDB's 1927, 1969).
const serverError = (
  errno: number,
  code: string | undefined,
  sqlState = 'HY000',
  message = 'server says no',
) => Object.assign(new Error(message), { errno, code, sqlState, sqlMessage: message, fatal: false });
const sys = (code: string, syscall?: string) =>
  Object.assign(new Error(`${syscall ?? 'read'} ${code}`), { code, errno: -104, syscall, fatal: true });
const mysql2 = (code: string, message = code) => Object.assign(new Error(message), { code, fatal: true });

describe('classifyMySqlError: server errors, errno first', () => {
  it.each([
    [1213, 'ER_LOCK_DEADLOCK', 'transient', undefined],
    [1205, 'ER_LOCK_WAIT_TIMEOUT', 'transient', undefined],
    [1040, 'ER_CON_COUNT_ERROR', 'throttled', false],
    [1290, 'ER_OPTION_PREVENTS_STATEMENT', 'transient', undefined],
    [1792, 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'transient', undefined],
    [1836, 'ER_READ_ONLY_MODE', 'transient', undefined],
    [1045, 'ER_ACCESS_DENIED_ERROR', 'auth', false],
    [1062, 'ER_DUP_ENTRY', 'fatal', undefined],
    [1064, 'ER_PARSE_ERROR', 'fatal', undefined],
    [1146, 'ER_NO_SUCH_TABLE', 'fatal', undefined],
    [1406, 'ER_DATA_TOO_LONG', 'fatal', undefined],
    [1451, 'ER_ROW_IS_REFERENCED_2', 'fatal', undefined],
    [1452, 'ER_NO_REFERENCED_ROW_2', 'fatal', undefined],
    [1053, 'ER_SERVER_SHUTDOWN', 'connection', undefined],
    [4031, 'ER_CLIENT_INTERACTION_TIMEOUT', 'connection', undefined],
  ] as const)('%i %s → %s (sent %s)', (errno, name, kind, sent) => {
    const c = classifyMySqlError(serverError(errno, name));
    expect(c).toMatchObject({ kind, code: errno, codeName: name, aliases: [name] });
    expect(c.sent).toBe(sent);
  });

  it('classifies MariaDB numbers mysql2 has no name for (code undefined) by errno, naming them itself', () => {
    expect(classifyMySqlError(serverError(1927, undefined, '70100', 'Connection was killed'))).toMatchObject({
      kind: 'connection',
      code: 1927,
      codeName: 'ER_CONNECTION_KILLED',
    });
    expect(classifyMySqlError(serverError(1969, undefined, '70100'))).toMatchObject({
      kind: 'timeout',
      code: 1969,
      codeName: 'ER_STATEMENT_TIMEOUT',
    });
    // An unknown number keeps its number; its SQLSTATE class still says what it is.
    expect(classifyMySqlError(serverError(4999, undefined, '40001'))).toEqual({
      kind: 'transient',
      code: 4999,
    });
    expect(classifyMySqlError(serverError(4998, undefined, '08S01'))).toEqual({
      kind: 'connection',
      code: 4998,
    });
    expect(classifyMySqlError(serverError(4997, 'ER_SOMETHING', '42000'))).toMatchObject({
      kind: 'fatal',
      code: 4997,
    });
  });

  it('does not take a Node socket error (negative errno, no sqlState) for a server error', () => {
    expect(serverErrno(sys('ECONNRESET'))).toBeUndefined();
    expect(serverErrno(serverError(1213, 'ER_LOCK_DEADLOCK'))).toBe(1213);
  });

  it('every rule is matchable from retry.retryOn.codes by number and by name (core matches the aliases)', () => {
    const retryOn = (codes: (string | number)[]) =>
      resolvePolicy({ retry: { retryOn: { errors: [], codes } } }).retry.retryOn;
    for (const r of serverErrorRules) {
      const c = classifyMySqlError(serverError(r.errno, r.name));
      expect(matchesRetryOn(retryOn([r.errno]), c), `${r.errno}`).toBe(true);
      expect(matchesRetryOn(retryOn([String(r.errno)]), c), `'${r.errno}'`).toBe(true);
      expect(matchesRetryOn(retryOn([r.name]), c), r.name).toBe(true);
      expect(codeMatches(c, [r.name]), r.name).toBe(true);
      expect(c.aliases, r.name).toEqual([r.name]);
      expect(serverErrorRule(r.name)).toBe(r);
      expect(serverErrorRule(r.errno)).toBe(r);
    }
  });

  it("preset:mysql's retryOn retries deadlock, lock wait, too many connections and the read-only errors", () => {
    const retryOn = resolvePolicy(presets['mysql']!.policy).retry.retryOn;
    for (const errno of [1213, 1205, 1040, 1290, 1792, 1836])
      expect(matchesRetryOn(retryOn, classifyMySqlError(serverError(errno, undefined))), String(errno)).toBe(
        true,
      );
    for (const errno of [1062, 1064, 1146, 1045])
      expect(matchesRetryOn(retryOn, classifyMySqlError(serverError(errno, undefined))), String(errno)).toBe(
        false,
      );
  });

  it('read-only errors are told apart (a reason to re-check the primary)', () => {
    expect([1290, 1792, 1836].map((n) => isReadOnlyError(serverError(n, undefined)))).toEqual([
      true,
      true,
      true,
    ]);
    expect(isReadOnlyError(serverError(1062, 'ER_DUP_ENTRY'))).toBe(false);
  });
});

describe('classifyMySqlError: connection errors and mysql2’s own', () => {
  it('connect-phase socket errors prove not sent; a lost connection during a statement is unknown', () => {
    expect(classifyMySqlError(sys('ECONNREFUSED', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(classifyMySqlError(sys('ENOTFOUND', 'getaddrinfo'))).toMatchObject({ sent: false });
    // mysql2's own connect timeout: syscall 'connect'.
    expect(classifyMySqlError(sys('ETIMEDOUT', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ETIMEDOUT',
      sent: false,
    });
    for (const code of ['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']) {
      const c = classifyMySqlError(
        code.startsWith('E') ? sys(code) : mysql2(code, 'Connection lost: The server closed the connection.'),
      );
      expect(c).toEqual({ kind: 'connection', code });
      expect(c.sent).toBeUndefined();
    }
    // The same loss while the driver was still acquiring the connection (handshake): nothing was sent.
    expect(classifyMySqlError(markNotSent(sys('ECONNRESET')))).toEqual({
      kind: 'connection',
      code: 'ECONNRESET',
      sent: false,
    });
    expect(classifyMySqlError(markNotSent(mysql2('PROTOCOL_CONNECTION_LOST')))).toMatchObject({
      sent: false,
    });
  });

  it("mysql2's messages without a code", () => {
    // After a fatal error (a reset, the server's FIN): not sent, but the server's doing, not local. (On a connection
    // the client closed first, the driver refuses the statement itself: CLOSED_BY_CLIENT, below.)
    const closed = Object.assign(new Error("Can't add new command when connection is in closed state"), {
      fatal: true,
    });
    expect(classifyMySqlError(closed)).toEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
      sent: false,
    });
    // The target closed the pool (a reconnect) while the call waited in it: the client's own doing.
    expect(classifyMySqlError(new Error('Pool is closed.'))).toEqual({
      kind: 'connection',
      code: 'POOL_CLOSED',
      sent: false,
      local: true,
    });
    // Marked not sent by the acquire that got it (as every failure while acquiring is): still local.
    expect(classifyMySqlError(markNotSent(new Error('Pool is closed.')))).toEqual({
      kind: 'connection',
      code: 'POOL_CLOSED',
      sent: false,
      local: true,
    });
    // Load shedding by design (queueLimit): refused at once and not retried unless the policy says so — a transparent
    // retry would put the call straight back into the queue the limit bounds.
    expect(classifyMySqlError(new Error('Queue limit reached.'))).toEqual({
      kind: 'throttled',
      code: 'QUEUE_LIMIT',
      sent: false,
    });
    expect(classifyMySqlError(mysql2('PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout'))).toEqual({
      kind: 'timeout',
      code: 'PROTOCOL_SEQUENCE_TIMEOUT',
    });
  });

  it("the driver's own errors", () => {
    // A wait in the pool's own queue ran out: the client's queue, not the server (local).
    expect(classifyMySqlError(new MySqlDriverError('ACQUIRE_TIMEOUT', 'x'))).toEqual({
      kind: 'timeout',
      code: 'ACQUIRE_TIMEOUT',
      sent: false,
      local: true,
    });
    // The wait was on the server: the handshake of the connection made for the call got no answer in time.
    expect(classifyMySqlError(new MySqlDriverError('CONNECT_TIMEOUT', 'x'))).toEqual({
      kind: 'connection',
      code: 'CONNECT_TIMEOUT',
      sent: false,
    });
    // Queued behind a statement on a connection the driver destroyed.
    expect(classifyMySqlError(new MySqlDriverError('CONNECTION_DESTROYED', 'x'))).toEqual({
      kind: 'connection',
      code: 'CONNECTION_DESTROYED',
      sent: false,
      local: true,
    });
    // Added to a connection the client had closed (its pool ended for a reconnect, the driver took it out of service).
    expect(classifyMySqlError(new MySqlDriverError('CLOSED_BY_CLIENT', 'x'))).toEqual({
      kind: 'connection',
      code: 'CLOSED_BY_CLIENT',
      sent: false,
      local: true,
    });
    expect(classifyMySqlError(new MySqlDriverError('QUERY_ABANDONED', 'x'))).toEqual({
      kind: 'timeout',
      code: 'QUERY_ABANDONED',
    });
    // The ping reached (or tried to reach) the server: not local.
    expect(classifyMySqlError(new MySqlDriverError('VALIDATION_FAILED', 'x'))).toEqual({
      kind: 'connection',
      code: 'VALIDATION_FAILED',
      sent: false,
    });
  });

  it('nothing that touched the server is local, not even when it was not sent', () => {
    const touched = [
      sys('ECONNREFUSED', 'connect'),
      sys('ETIMEDOUT', 'connect'),
      sys('ECONNRESET'),
      sys('EPIPE'),
      mysql2('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.'),
      mysql2('PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout'),
      // What failed while acquiring a connection (a handshake lost, refused): marked not sent, still the server's.
      markNotSent(sys('ECONNRESET')),
      markNotSent(mysql2('PROTOCOL_CONNECTION_LOST')),
      // Server replies: refused at the handshake, a statement rolled back by a deadlock (marked by the transaction).
      serverError(1040, 'ER_CON_COUNT_ERROR'),
      serverError(1045, 'ER_ACCESS_DENIED_ERROR', '28000'),
      markNotSent(serverError(1213, 'ER_LOCK_DEADLOCK', '40001')),
      serverError(1927, undefined, '70100'),
    ];
    for (const error of touched) expect(classifyMySqlError(error).local, String(error)).toBeUndefined();
  });

  it('core’s AttemptEndedError by its code, never by its message', () => {
    const ended = new AttemptEndedError();
    expect(classifyMySqlError(ended)).toEqual({ kind: 'timeout', code: 'ERR_ATTEMPT_ENDED', sent: false });
    // The same text on a plain Error is not the same error.
    expect(classifyMySqlError(new Error(ended.message))).toEqual({ kind: 'unknown' });
  });

  it('aborted waits are timeouts; programming errors fatal and unsent; anything else unknown', () => {
    expect(classifyMySqlError(new DOMException('aborted', 'AbortError'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    expect(classifyMySqlError(new TypeError('Bind parameters must not contain undefined'))).toEqual({
      kind: 'fatal',
      sent: false,
    });
    expect(classifyMySqlError(new Error('something else'))).toEqual({ kind: 'unknown' });
    expect(classifyMySqlError('boom')).toEqual({ kind: 'unknown' });
  });
});
