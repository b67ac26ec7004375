import {
  classifySocketError,
  ErrorCodes,
  isAbortError,
  isAttemptEndedError,
  type Classification,
  type ErrorKind,
} from '@reconnect/core';
import { driverErrorCodes, isMySqlDriverError, isNotSent } from './errors.js';

/** How this driver classifies one server error number. */
export interface ServerErrorRule {
  readonly errno: number;
  /** The symbolic name (mysql2's `code`, or MariaDB's name when mysql2 has none). */
  readonly name: string;
  readonly kind: ErrorKind;
  /** `false` when the server refused before running anything (at the handshake, or a refused statement). */
  readonly sent?: false;
  /** The error means this node no longer takes writes (a failover demoted it): re-check the primary. */
  readonly readOnly?: true;
}

/**
 * Server error numbers with a kind other than `fatal` (and the fatal ones callers most often meet).
 * Errno first: MariaDB numbers missing from mysql2's table (1927, 1969, 4031…) arrive with `code` undefined.
 */
export const serverErrorRules: readonly ServerErrorRule[] = [
  // Pass by themselves: the transaction or statement was rolled back, rerun it.
  { errno: 1213, name: 'ER_LOCK_DEADLOCK', kind: 'transient' },
  { errno: 1205, name: 'ER_LOCK_WAIT_TIMEOUT', kind: 'transient' },
  { errno: 1614, name: 'ER_XA_RBDEADLOCK', kind: 'transient' },
  { errno: 1637, name: 'ER_TOO_MANY_CONCURRENT_TRXS', kind: 'transient' },
  // Read-only after a failover: the node was demoted; a fresh connection (or node) is needed.
  { errno: 1290, name: 'ER_OPTION_PREVENTS_STATEMENT', kind: 'transient', readOnly: true },
  { errno: 1792, name: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', kind: 'transient', readOnly: true },
  { errno: 1836, name: 'ER_READ_ONLY_MODE', kind: 'transient', readOnly: true },
  // Galera (MariaDB Cluster): "WSREP has not yet prepared node for application use".
  { errno: 1047, name: 'ER_UNKNOWN_COM_ERROR', kind: 'transient', sent: false },
  // Too many connections: refused at the handshake, nothing ran.
  { errno: 1040, name: 'ER_CON_COUNT_ERROR', kind: 'throttled', sent: false },
  { errno: 1203, name: 'ER_TOO_MANY_USER_CONNECTIONS', kind: 'throttled', sent: false },
  { errno: 1226, name: 'ER_USER_LIMIT_REACHED', kind: 'throttled', sent: false },
  { errno: 1129, name: 'ER_HOST_IS_BLOCKED', kind: 'throttled', sent: false },
  // Credentials and permissions.
  { errno: 1045, name: 'ER_ACCESS_DENIED_ERROR', kind: 'auth', sent: false },
  { errno: 1044, name: 'ER_DBACCESS_DENIED_ERROR', kind: 'auth', sent: false },
  { errno: 1698, name: 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', kind: 'auth', sent: false },
  { errno: 1130, name: 'ER_HOST_NOT_PRIVILEGED', kind: 'auth', sent: false },
  { errno: 1251, name: 'ER_NOT_SUPPORTED_AUTH_MODE', kind: 'auth', sent: false },
  { errno: 1862, name: 'ER_MUST_CHANGE_PASSWORD_LOGIN', kind: 'auth', sent: false },
  { errno: 1142, name: 'ER_TABLEACCESS_DENIED_ERROR', kind: 'auth' },
  { errno: 1143, name: 'ER_COLUMNACCESS_DENIED_ERROR', kind: 'auth' },
  { errno: 1227, name: 'ER_SPECIFIC_ACCESS_DENIED_ERROR', kind: 'auth' },
  // The connection ended under the statement: it may have run.
  { errno: 1053, name: 'ER_SERVER_SHUTDOWN', kind: 'connection' },
  { errno: 1927, name: 'ER_CONNECTION_KILLED', kind: 'connection' },
  { errno: 4031, name: 'ER_CLIENT_INTERACTION_TIMEOUT', kind: 'connection' },
  { errno: 1152, name: 'ER_ABORTING_CONNECTION', kind: 'connection' },
  { errno: 1158, name: 'ER_NET_READ_ERROR', kind: 'connection' },
  { errno: 1159, name: 'ER_NET_READ_INTERRUPTED', kind: 'connection' },
  { errno: 1160, name: 'ER_NET_ERROR_ON_WRITE', kind: 'connection' },
  { errno: 1161, name: 'ER_NET_WRITE_INTERRUPTED', kind: 'connection' },
  { errno: 1043, name: 'ER_HANDSHAKE_ERROR', kind: 'connection', sent: false },
  // Stopped by a time limit (max_statement_time, max_execution_time, KILL QUERY).
  { errno: 1969, name: 'ER_STATEMENT_TIMEOUT', kind: 'timeout' },
  { errno: 3024, name: 'ER_QUERY_TIMEOUT', kind: 'timeout' },
  { errno: 1317, name: 'ER_QUERY_INTERRUPTED', kind: 'timeout' },
  // The request itself is wrong: retrying will not help.
  { errno: 1062, name: 'ER_DUP_ENTRY', kind: 'fatal' },
  { errno: 1064, name: 'ER_PARSE_ERROR', kind: 'fatal' },
  { errno: 1146, name: 'ER_NO_SUCH_TABLE', kind: 'fatal' },
  { errno: 1406, name: 'ER_DATA_TOO_LONG', kind: 'fatal' },
  { errno: 1451, name: 'ER_ROW_IS_REFERENCED_2', kind: 'fatal' },
  { errno: 1452, name: 'ER_NO_REFERENCED_ROW_2', kind: 'fatal' },
  { errno: 1049, name: 'ER_BAD_DB_ERROR', kind: 'fatal', sent: false },
  { errno: 1153, name: 'ER_NET_PACKET_TOO_LARGE', kind: 'fatal' },
];

// One map for numbers and names alike, keyed by text: `1213`, `'1213'` and `'ER_LOCK_DEADLOCK'` find the same rule, and
// nothing else does (no parsing of a number out of a longer text).
const byKey = new Map<string, ServerErrorRule>();
for (const r of serverErrorRules) {
  byKey.set(String(r.errno), r);
  byKey.set(r.name, r);
}

/** The rule for a server error number or name (`1213`, `'1213'`, `'ER_LOCK_DEADLOCK'`), if the driver has one. */
export function serverErrorRule(code: number | string): ServerErrorRule | undefined {
  return byKey.get(String(code));
}

/** Error numbers that mean the node does not take writes (read-only after a failover). */
export const readOnlyErrnos: readonly number[] = serverErrorRules
  .filter((r) => r.readOnly === true)
  .map((r) => r.errno);
const readOnlySet: ReadonlySet<number | undefined> = new Set(readOnlyErrnos);

/** A server error number from a mysql2 error (an ERR packet: `errno` with `sqlState`), else undefined. */
export function serverErrno(error: unknown): number | undefined {
  // Object(): a primitive or null reads as an object without these keys.
  const e = Object(error) as { errno?: unknown; sqlState?: unknown; sqlMessage?: unknown };
  // Node's socket errors carry a negative errno too: only an ERR packet has sqlState / sqlMessage.
  if (typeof e.errno !== 'number' || e.errno <= 0) return undefined;
  if (typeof e.sqlState !== 'string' && typeof e.sqlMessage !== 'string') return undefined;
  return e.errno;
}

/** Whether the error says the node refused a write because it is read-only (1290, 1792, 1836). */
export function isReadOnlyError(error: unknown): boolean {
  return readOnlySet.has(serverErrno(error));
}

/**
 * A classification with the server error's symbolic name beside its number, so both can be matched
 * (`retry.retryOn.codes: [ER_LOCK_DEADLOCK]` or `[1213]`).
 */
export interface MySqlClassification extends Classification {
  /** The symbolic name of a server error (`ER_LOCK_DEADLOCK`), when known. */
  codeName?: string;
  /** Other spellings of `code` that name the same error (`['ER_LOCK_DEADLOCK']` for 1213). */
  aliases?: readonly (string | number)[];
}

// mysql2's own errors without a code, matched by message: mysql2 throws them as plain Errors with nothing else
// to tell them apart (the closed-state one carries `fatal`, as do others).
const messageRules: readonly { test: RegExp; classification: MySqlClassification }[] = [
  // Every call on a connection after its fatal error (a reset, the server's FIN); nothing was written. (A call on one
  // the client closed first is the driver's own CLOSED_BY_CLIENT, see guard.ts.)
  {
    test: /^Can't add new command when connection is in closed state/,
    classification: { kind: 'connection', code: 'CONNECTION_CLOSED', sent: false },
  },
  { test: /^Can't write in closed state/, classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  // The target closed the pool (a reconnect, stop) while the call waited in it or was being handed a connection:
  // the client's own doing, nothing about the server (local).
  {
    test: /^Pool is closed\./,
    classification: { kind: 'connection', code: 'POOL_CLOSED', sent: false, local: true },
  },
  // The pool's own queue is full (queueLimit): the client shed the call before sending, so it says nothing about the
  // server (local: neither the breaker nor passive health counts it). Being throttled, core does not retry it
  // transparently (a retry would go straight back into the full queue): retryOn and the budget judge it.
  {
    test: /^Queue limit reached\./,
    classification: { kind: 'throttled', code: 'QUEUE_LIMIT', sent: false, local: true },
  },
  {
    test: /^No connections available\./,
    classification: { kind: 'throttled', code: 'NO_CONNECTIONS', sent: false },
  },
];

// Without a rule: a serialization failure, a connection exception or an interruption by its SQLSTATE class.
function kindBySqlState(sqlState: unknown): ErrorKind {
  if (typeof sqlState !== 'string') return 'fatal';
  if (sqlState === '40001') return 'transient';
  if (sqlState.startsWith('08')) return 'connection';
  if (sqlState === '70100') return 'timeout';
  return 'fatal';
}

function fromServerErrno(errno: number, mysql2Code: unknown, sqlState: unknown): MySqlClassification {
  const r = byKey.get(String(errno));
  const name = r?.name ?? (typeof mysql2Code === 'string' ? mysql2Code : undefined);
  const out: MySqlClassification = { kind: r?.kind ?? kindBySqlState(sqlState), code: errno };
  if (name !== undefined) {
    out.codeName = name;
    out.aliases = [name];
  }
  if (r?.sent === false) out.sent = false;
  if (r?.readOnly === true) out.readOnlyNode = true;
  return out;
}

/**
 * Maps any error mysql2 (or this driver) throws onto the policy's vocabulary. `code` is the server's
 * error number for server errors (with the name in `codeName` / `aliases`), the Node or mysql2 code for
 * the others (`ECONNRESET`, `PROTOCOL_CONNECTION_LOST`, `PROTOCOL_SEQUENCE_TIMEOUT`), `ERR_ATTEMPT_ENDED` for
 * core's `AttemptEndedError`, or one of this driver's labels (`CONNECTION_CLOSED`, `ACQUIRE_TIMEOUT`, …).
 */
export function classifyMySqlError(error: unknown): MySqlClassification {
  // Refused by the attempt-bound pool (guard.ts) because its attempt had ended: never written.
  if (isAttemptEndedError(error)) return { kind: 'timeout', code: ErrorCodes.ATTEMPT_ENDED, sent: false };
  // Object(): a primitive or null reads as an object without a code or a message, and ends as `unknown` below.
  const e = Object(error) as { code?: unknown; sqlState?: unknown; message?: unknown };
  // The driver marks failures it saw before the statement was written (a connect while acquiring, a
  // failed validation ping, a command queued behind a destroyed one).
  const notSent = isNotSent(error);

  const errno = serverErrno(error);
  if (errno !== undefined) {
    const out = fromServerErrno(errno, e.code, e.sqlState);
    if (notSent) out.sent = false;
    return out;
  }

  // A server error on an idle connection (no command in flight: MySQL ≥ 8.0.24's 4031) reaches mysql2 as the
  // connection's own error, the number in `code` with neither errno nor sqlState: read as the server's number; an
  // unknown one, which ended the connection (fatal), as a lost connection.
  if (typeof e.code === 'number' && e.code > 0 && (error as { fatal?: unknown }).fatal === true) {
    const out = fromServerErrno(e.code, undefined, undefined);
    if (!byKey.has(String(e.code))) out.kind = 'connection';
    return out;
  }

  if (typeof e.code === 'string') {
    // By class and code: another library's `code: 'ACQUIRE_TIMEOUT'` is not this driver's.
    if (isMySqlDriverError(error)) return { ...driverErrorCodes[error.code], code: error.code };
    const socket = classifySocketError(error);
    if (socket !== undefined) return notSent ? { ...socket, sent: false } : socket;
    if (
      e.code === 'PROTOCOL_CONNECTION_LOST' ||
      e.code === 'PROTOCOL_ERROR' ||
      e.code === 'PROTOCOL_UNEXPECTED_PACKET'
    )
      return notSent
        ? { kind: 'connection', code: e.code, sent: false }
        : { kind: 'connection', code: e.code };
    if (e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') return { kind: 'timeout', code: e.code };
    if (e.code.startsWith('HANDSHAKE_')) return { kind: 'fatal', code: e.code, sent: false };
  }

  // Every rule is anchored on a text of mysql2's own: a missing message ('undefined') matches none.
  const message = String(e.message);
  const byMessage = messageRules.find((r) => r.test.test(message));
  if (byMessage !== undefined) return { ...byMessage.classification };
  if (isAbortError(error)) return { kind: 'timeout', code: 'ABORTED' };
  if (notSent) return { kind: 'connection', sent: false };
  // Programming errors (bind parameters with undefined, a callback given to the promise API): never sent.
  if (error instanceof TypeError || error instanceof RangeError) return { kind: 'fatal', sent: false };
  return { kind: 'unknown' };
}

const sameCode = (mine: string | number | undefined, listed: string | number): boolean =>
  mine !== undefined && String(mine) === String(listed);

/** Whether a classification's code (or one of its aliases) is listed in `codes` (names and numbers alike). */
export function codeMatches(c: MySqlClassification, codes: readonly (string | number)[]): boolean {
  return codes.some(
    (listed) => sameCode(c.code, listed) || c.aliases?.some((alias) => sameCode(alias, listed)) === true,
  );
}
