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
  readOnlyErrnos,
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

// Issue #25: every rule of the table pinned with its expected classification written out — what a server error
// number means is stated here, not read back from the table (a rule changed in the table fails its line).
describe('classifyMySqlError: the server error table, rule by rule', () => {
  const pinned = [
    [1213, 'ER_LOCK_DEADLOCK', { kind: 'transient', code: 1213 }],
    [1205, 'ER_LOCK_WAIT_TIMEOUT', { kind: 'transient', code: 1205 }],
    [1614, 'ER_XA_RBDEADLOCK', { kind: 'transient', code: 1614 }],
    [1637, 'ER_TOO_MANY_CONCURRENT_TRXS', { kind: 'transient', code: 1637 }],
    [1290, 'ER_OPTION_PREVENTS_STATEMENT', { kind: 'transient', code: 1290, readOnlyNode: true }],
    [1792, 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', { kind: 'transient', code: 1792, readOnlyNode: true }],
    [1836, 'ER_READ_ONLY_MODE', { kind: 'transient', code: 1836, readOnlyNode: true }],
    [1047, 'ER_UNKNOWN_COM_ERROR', { kind: 'transient', code: 1047, sent: false }],
    [1040, 'ER_CON_COUNT_ERROR', { kind: 'throttled', code: 1040, sent: false }],
    [1203, 'ER_TOO_MANY_USER_CONNECTIONS', { kind: 'throttled', code: 1203, sent: false }],
    [1226, 'ER_USER_LIMIT_REACHED', { kind: 'throttled', code: 1226, sent: false }],
    [1129, 'ER_HOST_IS_BLOCKED', { kind: 'throttled', code: 1129, sent: false }],
    [1045, 'ER_ACCESS_DENIED_ERROR', { kind: 'auth', code: 1045, sent: false }],
    [1044, 'ER_DBACCESS_DENIED_ERROR', { kind: 'auth', code: 1044, sent: false }],
    [1698, 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', { kind: 'auth', code: 1698, sent: false }],
    [1130, 'ER_HOST_NOT_PRIVILEGED', { kind: 'auth', code: 1130, sent: false }],
    [1251, 'ER_NOT_SUPPORTED_AUTH_MODE', { kind: 'auth', code: 1251, sent: false }],
    [1862, 'ER_MUST_CHANGE_PASSWORD_LOGIN', { kind: 'auth', code: 1862, sent: false }],
    [1142, 'ER_TABLEACCESS_DENIED_ERROR', { kind: 'auth', code: 1142 }],
    [1143, 'ER_COLUMNACCESS_DENIED_ERROR', { kind: 'auth', code: 1143 }],
    [1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', { kind: 'auth', code: 1227 }],
    [1053, 'ER_SERVER_SHUTDOWN', { kind: 'connection', code: 1053 }],
    [1927, 'ER_CONNECTION_KILLED', { kind: 'connection', code: 1927 }],
    [4031, 'ER_CLIENT_INTERACTION_TIMEOUT', { kind: 'connection', code: 4031 }],
    [1152, 'ER_ABORTING_CONNECTION', { kind: 'connection', code: 1152 }],
    [1158, 'ER_NET_READ_ERROR', { kind: 'connection', code: 1158 }],
    [1159, 'ER_NET_READ_INTERRUPTED', { kind: 'connection', code: 1159 }],
    [1160, 'ER_NET_ERROR_ON_WRITE', { kind: 'connection', code: 1160 }],
    [1161, 'ER_NET_WRITE_INTERRUPTED', { kind: 'connection', code: 1161 }],
    [1043, 'ER_HANDSHAKE_ERROR', { kind: 'connection', code: 1043, sent: false }],
    [1969, 'ER_STATEMENT_TIMEOUT', { kind: 'timeout', code: 1969 }],
    [3024, 'ER_QUERY_TIMEOUT', { kind: 'timeout', code: 3024 }],
    [1317, 'ER_QUERY_INTERRUPTED', { kind: 'timeout', code: 1317 }],
    [1062, 'ER_DUP_ENTRY', { kind: 'fatal', code: 1062 }],
    [1064, 'ER_PARSE_ERROR', { kind: 'fatal', code: 1064 }],
    [1146, 'ER_NO_SUCH_TABLE', { kind: 'fatal', code: 1146 }],
    [1406, 'ER_DATA_TOO_LONG', { kind: 'fatal', code: 1406 }],
    [1451, 'ER_ROW_IS_REFERENCED_2', { kind: 'fatal', code: 1451 }],
    [1452, 'ER_NO_REFERENCED_ROW_2', { kind: 'fatal', code: 1452 }],
    [1049, 'ER_BAD_DB_ERROR', { kind: 'fatal', code: 1049, sent: false }],
    [1153, 'ER_NET_PACKET_TOO_LARGE', { kind: 'fatal', code: 1153 }],
  ] as const;

  it.each(pinned)('%i %s → %o, named by the driver when mysql2 has no name', (errno, name, expected) => {
    // Strict: no `sent` key at all where the rule says nothing about it (may have run).
    const named = { ...expected, codeName: name, aliases: [name] };
    // HY000, the general SQLSTATE: the rule decides, not the SQLSTATE class.
    expect(classifyMySqlError(serverError(errno, undefined))).toStrictEqual(named);
    expect(classifyMySqlError(serverError(errno, name))).toStrictEqual(named);
    expect(serverErrorRule(errno)?.name).toBe(name);
    expect(serverErrorRule(String(errno))?.errno).toBe(errno);
    expect(serverErrorRule(name)?.errno).toBe(errno);
  });

  it('the table has these rules and no others (a new rule needs its line above)', () => {
    expect(serverErrorRules.map((r) => r.errno)).toEqual(pinned.map(([errno]) => errno));
  });

  it('a rule beats its SQLSTATE class: 1927 (70100) stays a lost connection, 1213 (40001) its own rule', () => {
    expect(classifyMySqlError(serverError(1927, undefined, '70100'))).toStrictEqual({
      kind: 'connection',
      code: 1927,
      codeName: 'ER_CONNECTION_KILLED',
      aliases: ['ER_CONNECTION_KILLED'],
    });
    expect(classifyMySqlError(serverError(1045, undefined, '08004'))).toStrictEqual({
      kind: 'auth',
      code: 1045,
      codeName: 'ER_ACCESS_DENIED_ERROR',
      aliases: ['ER_ACCESS_DENIED_ERROR'],
      sent: false,
    });
  });

  it('without a rule, the SQLSTATE class decides: 40001, 08xxx, 70100; any other class or none is fatal', () => {
    expect(classifyMySqlError(serverError(4999, undefined, '40001'))).toStrictEqual({
      kind: 'transient',
      code: 4999,
    });
    expect(classifyMySqlError(serverError(4998, undefined, '08S01'))).toStrictEqual({
      kind: 'connection',
      code: 4998,
    });
    expect(classifyMySqlError(serverError(4996, undefined, '70100'))).toStrictEqual({
      kind: 'timeout',
      code: 4996,
    });
    // 08 is a prefix: a class that merely ends in 08 is not a connection exception.
    expect(classifyMySqlError(serverError(4995, undefined, 'HY008'))).toStrictEqual({
      kind: 'fatal',
      code: 4995,
    });
    expect(classifyMySqlError(serverError(4994, 'ER_SOMETHING', '42000'))).toStrictEqual({
      kind: 'fatal',
      code: 4994,
      codeName: 'ER_SOMETHING',
      aliases: ['ER_SOMETHING'],
    });
    // An ERR packet read without its SQLSTATE (a 4.0-era reply): only the message says it is the server's.
    const bare = Object.assign(new Error('no state'), { errno: 4993, sqlMessage: 'no state' });
    expect(classifyMySqlError(bare)).toStrictEqual({ kind: 'fatal', code: 4993 });
    // A code that is not a name (a wrapper that copied the number into it) is not taken for one.
    const numbered = Object.assign(serverError(4992, undefined), { code: 4992 });
    expect(classifyMySqlError(numbered)).toStrictEqual({ kind: 'fatal', code: 4992 });
  });

  it('a server error the driver learned was not sent (a statement of a rolled-back transaction) says so', () => {
    expect(classifyMySqlError(markNotSent(serverError(1213, 'ER_LOCK_DEADLOCK', '40001')))).toStrictEqual({
      kind: 'transient',
      code: 1213,
      codeName: 'ER_LOCK_DEADLOCK',
      aliases: ['ER_LOCK_DEADLOCK'],
      sent: false,
    });
  });
});

describe('classifyMySqlError: a server error on an idle connection (number in code, fatal)', () => {
  it('is read as the server number; an unknown one is a lost connection; a non-fatal or non-positive one is not', () => {
    const idle = (code: unknown, fatal: unknown = true) => Object.assign(new Error('idle'), { code, fatal });
    expect(classifyMySqlError(idle(4031))).toEqual({
      kind: 'connection',
      code: 4031,
      codeName: 'ER_CLIENT_INTERACTION_TIMEOUT',
      aliases: ['ER_CLIENT_INTERACTION_TIMEOUT'],
    });
    expect(classifyMySqlError(idle(1290))).toMatchObject({
      kind: 'transient',
      code: 1290,
      readOnlyNode: true,
    });
    expect(classifyMySqlError(idle(9999))).toEqual({ kind: 'connection', code: 9999 });
    expect(classifyMySqlError(idle(4031, false))).toEqual({ kind: 'unknown' });
    expect(classifyMySqlError(idle(0))).toEqual({ kind: 'unknown' });
  });
});

describe('serverErrno, serverErrorRule, isReadOnlyError, codeMatches', () => {
  it('serverErrno: a positive number with sqlState or sqlMessage, nothing else', () => {
    expect(serverErrno({ errno: 1213, sqlState: '40001' })).toBe(1213);
    expect(serverErrno({ errno: 1213, sqlMessage: 'Deadlock found' })).toBe(1213);
    expect(serverErrno({ errno: 1213 })).toBeUndefined();
    expect(serverErrno({ errno: 0, sqlState: 'HY000' })).toBeUndefined();
    expect(serverErrno({ errno: -104, sqlState: 'HY000' })).toBeUndefined();
    expect(serverErrno({ errno: '1213', sqlState: '40001' })).toBeUndefined();
    expect(serverErrno({ sqlState: '40001', sqlMessage: 'no number' })).toBeUndefined();
    expect(serverErrno(null)).toBeUndefined();
    expect(serverErrno(undefined)).toBeUndefined();
    expect(serverErrno(1213)).toBeUndefined();
  });

  it('serverErrorRule: a number, its digits or its name; nothing that merely contains them', () => {
    expect(serverErrorRule(1290)).toStrictEqual({
      errno: 1290,
      name: 'ER_OPTION_PREVENTS_STATEMENT',
      kind: 'transient',
      readOnly: true,
    });
    expect(serverErrorRule('1290')).toBe(serverErrorRule(1290));
    expect(serverErrorRule('ER_OPTION_PREVENTS_STATEMENT')).toBe(serverErrorRule(1290));
    for (const near of ['1290x', 'x1290', ' 1290', '12900', '129', 'er_option_prevents_statement', ''])
      expect(serverErrorRule(near), near).toBeUndefined();
    expect(serverErrorRule(9999)).toBeUndefined();
  });

  it('isReadOnlyError: exactly 1290, 1792 and 1836 from a server error', () => {
    expect(readOnlyErrnos).toEqual([1290, 1792, 1836]);
    expect(isReadOnlyError(serverError(1290, undefined))).toBe(true);
    expect(isReadOnlyError(serverError(1792, undefined))).toBe(true);
    expect(isReadOnlyError(serverError(1836, undefined))).toBe(true);
    expect(isReadOnlyError(serverError(1213, undefined))).toBe(false);
    expect(isReadOnlyError(new Error('read-only'))).toBe(false);
    expect(isReadOnlyError(undefined)).toBe(false);
  });

  it('codeMatches: the code or an alias, by number or name; one listed code is enough', () => {
    const c = classifyMySqlError(serverError(1213, undefined));
    expect(codeMatches(c, [1213])).toBe(true);
    expect(codeMatches(c, ['1213'])).toBe(true);
    expect(codeMatches(c, ['ER_LOCK_DEADLOCK'])).toBe(true);
    expect(codeMatches(c, [1205, 'ER_LOCK_DEADLOCK'])).toBe(true);
    expect(codeMatches(c, [1205, 'ER_LOCK_WAIT_TIMEOUT'])).toBe(false);
    expect(codeMatches(c, [])).toBe(false);
    // No code and no aliases: nothing matches, not even the text 'undefined'.
    expect(codeMatches({ kind: 'unknown' }, ['undefined', 1213])).toBe(false);
    expect(codeMatches({ kind: 'connection', code: 'ECONNRESET' }, ['ECONNRESET'])).toBe(true);
    expect(codeMatches({ kind: 'connection', code: 'ECONNRESET' }, ['EPIPE'])).toBe(false);
    expect(codeMatches({ kind: 'fatal', aliases: ['ER_X'] }, ['ER_X'])).toBe(true);
    expect(codeMatches({ kind: 'fatal', aliases: ['ER_X'] }, ['undefined'])).toBe(false);
    // One alias of several is enough; none at all matches nothing.
    expect(codeMatches({ kind: 'fatal', aliases: ['ER_X', 'ER_Y'] }, ['ER_Y'])).toBe(true);
    expect(codeMatches({ kind: 'fatal', aliases: [] }, ['ER_X'])).toBe(false);
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
    // The pool's own load shedding (queueLimit): the client's doing, not the server's — local, so the breaker does not
    // open on it (the chaos sweep at 1 000 ops/s: ~2 400 such refusals opened preset:mysql's breaker and failed
    // ~1 000 operations issued after the server was back), and the call retries within its deadline.
    expect(classifyMySqlError(new Error('Queue limit reached.'))).toEqual({
      kind: 'throttled',
      code: 'QUEUE_LIMIT',
      sent: false,
      local: true,
    });
    expect(classifyMySqlError(mysql2('PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout'))).toEqual({
      kind: 'timeout',
      code: 'PROTOCOL_SEQUENCE_TIMEOUT',
    });
  });

  it("mysql2's protocol codes: a broken protocol is a lost connection; HANDSHAKE_ refusals fatal, not sent", () => {
    for (const code of ['PROTOCOL_ERROR', 'PROTOCOL_UNEXPECTED_PACKET']) {
      expect(classifyMySqlError(mysql2(code)), code).toStrictEqual({ kind: 'connection', code });
      expect(classifyMySqlError(markNotSent(mysql2(code))), code).toStrictEqual({
        kind: 'connection',
        code,
        sent: false,
      });
    }
    // mysql2 3.24 never raises PROTOCOL_PACKETS_OUT_OF_ORDER (a packet out of order is a console warning): no rule.
    expect(classifyMySqlError(mysql2('PROTOCOL_PACKETS_OUT_OF_ORDER'))).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(mysql2('HANDSHAKE_NO_SSL_SUPPORT'))).toStrictEqual({
      kind: 'fatal',
      code: 'HANDSHAKE_NO_SSL_SUPPORT',
      sent: false,
    });
    expect(classifyMySqlError(mysql2('HANDSHAKE_UNKNOWN_ERROR'))).toStrictEqual({
      kind: 'fatal',
      code: 'HANDSHAKE_UNKNOWN_ERROR',
      sent: false,
    });
    expect(classifyMySqlError(mysql2('NOT_HANDSHAKE_'))).toStrictEqual({ kind: 'unknown' });
    // A code nobody knows, with nothing else to go by.
    expect(classifyMySqlError(mysql2('ERR_SOMETHING_ELSE'))).toStrictEqual({ kind: 'unknown' });
    // A driver code on an error this driver did not make is not the driver's.
    expect(classifyMySqlError(mysql2('ACQUIRE_TIMEOUT'))).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(mysql2('toString'))).toStrictEqual({ kind: 'unknown' });
  });

  it("mysql2's messages are read from their start only; each rule's own classification", () => {
    expect(classifyMySqlError(new Error("Can't write in closed state"))).toStrictEqual({
      kind: 'connection',
      code: 'CONNECTION_CLOSED',
    });
    expect(classifyMySqlError(new Error('No connections available.'))).toStrictEqual({
      kind: 'throttled',
      code: 'NO_CONNECTIONS',
      sent: false,
    });
    for (const text of [
      "Can't add new command when connection is in closed state",
      "Can't write in closed state",
      'Pool is closed.',
      'Queue limit reached.',
      'No connections available.',
    ])
      expect(classifyMySqlError(new Error(`wrapped: ${text}`)), text).toStrictEqual({ kind: 'unknown' });
    // The dot is a dot.
    expect(classifyMySqlError(new Error('Pool is closedX'))).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(new Error('Queue limit reachedX'))).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(new Error('No connections availableX'))).toStrictEqual({ kind: 'unknown' });
    // A message that is not a text, or none at all.
    expect(classifyMySqlError({ message: 42 })).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError({})).toStrictEqual({ kind: 'unknown' });
  });

  it('marked not sent with nothing else to go by: a connection failure, not sent (not local)', () => {
    expect(classifyMySqlError(markNotSent(new Error('handshake went wrong')))).toStrictEqual({
      kind: 'connection',
      sent: false,
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
    expect(classifyMySqlError(new RangeError('Invalid array length'))).toStrictEqual({
      kind: 'fatal',
      sent: false,
    });
    expect(classifyMySqlError(new Error('something else'))).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError('boom')).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(null)).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(undefined)).toStrictEqual({ kind: 'unknown' });
    expect(classifyMySqlError(1213)).toStrictEqual({ kind: 'unknown' });
  });
});
