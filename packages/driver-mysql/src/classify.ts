import {
  classifySocketError,
  ErrorCodes,
  isAbortError,
  isAttemptEndedError,
  type Classification,
  type ErrorKind,
} from '@reconnect/core';
import { driverErrorCodes, isNotSent } from './errors.js';

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

const rule = (
  errno: number,
  name: string,
  kind: ErrorKind,
  extra: { sent?: false; readOnly?: true } = {},
): ServerErrorRule => ({ errno, name, kind, ...extra });

/**
 * Server error numbers with a kind other than `fatal` (and the fatal ones callers most often meet).
 * Errno first: MariaDB numbers missing from mysql2's table (1927, 1969, 4031…) arrive with `code` undefined.
 */
export const serverErrorRules: readonly ServerErrorRule[] = [
  // Pass by themselves: the transaction or statement was rolled back, rerun it.
  rule(1213, 'ER_LOCK_DEADLOCK', 'transient'),
  rule(1205, 'ER_LOCK_WAIT_TIMEOUT', 'transient'),
  rule(1614, 'ER_XA_RBDEADLOCK', 'transient'),
  rule(1637, 'ER_TOO_MANY_CONCURRENT_TRXS', 'transient'),
  // Read-only after a failover: the node was demoted; a fresh connection (or node) is needed.
  rule(1290, 'ER_OPTION_PREVENTS_STATEMENT', 'transient', { readOnly: true }),
  rule(1792, 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'transient', { readOnly: true }),
  rule(1836, 'ER_READ_ONLY_MODE', 'transient', { readOnly: true }),
  // Galera (MariaDB Cluster): "WSREP has not yet prepared node for application use".
  rule(1047, 'ER_UNKNOWN_COM_ERROR', 'transient', { sent: false }),
  // Too many connections: refused at the handshake, nothing ran.
  rule(1040, 'ER_CON_COUNT_ERROR', 'throttled', { sent: false }),
  rule(1203, 'ER_TOO_MANY_USER_CONNECTIONS', 'throttled', { sent: false }),
  rule(1226, 'ER_USER_LIMIT_REACHED', 'throttled', { sent: false }),
  rule(1129, 'ER_HOST_IS_BLOCKED', 'throttled', { sent: false }),
  // Credentials and permissions.
  rule(1045, 'ER_ACCESS_DENIED_ERROR', 'auth', { sent: false }),
  rule(1044, 'ER_DBACCESS_DENIED_ERROR', 'auth', { sent: false }),
  rule(1698, 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'auth', { sent: false }),
  rule(1130, 'ER_HOST_NOT_PRIVILEGED', 'auth', { sent: false }),
  rule(1251, 'ER_NOT_SUPPORTED_AUTH_MODE', 'auth', { sent: false }),
  rule(1862, 'ER_MUST_CHANGE_PASSWORD_LOGIN', 'auth', { sent: false }),
  rule(1142, 'ER_TABLEACCESS_DENIED_ERROR', 'auth'),
  rule(1143, 'ER_COLUMNACCESS_DENIED_ERROR', 'auth'),
  rule(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'auth'),
  // The connection ended under the statement: it may have run.
  rule(1053, 'ER_SERVER_SHUTDOWN', 'connection'),
  rule(1927, 'ER_CONNECTION_KILLED', 'connection'),
  rule(4031, 'ER_CLIENT_INTERACTION_TIMEOUT', 'connection'),
  rule(1152, 'ER_ABORTING_CONNECTION', 'connection'),
  rule(1158, 'ER_NET_READ_ERROR', 'connection'),
  rule(1159, 'ER_NET_READ_INTERRUPTED', 'connection'),
  rule(1160, 'ER_NET_ERROR_ON_WRITE', 'connection'),
  rule(1161, 'ER_NET_WRITE_INTERRUPTED', 'connection'),
  rule(1043, 'ER_HANDSHAKE_ERROR', 'connection', { sent: false }),
  // Stopped by a time limit (max_statement_time, max_execution_time, KILL QUERY).
  rule(1969, 'ER_STATEMENT_TIMEOUT', 'timeout'),
  rule(3024, 'ER_QUERY_TIMEOUT', 'timeout'),
  rule(1317, 'ER_QUERY_INTERRUPTED', 'timeout'),
  // The request itself is wrong: retrying will not help.
  rule(1062, 'ER_DUP_ENTRY', 'fatal'),
  rule(1064, 'ER_PARSE_ERROR', 'fatal'),
  rule(1146, 'ER_NO_SUCH_TABLE', 'fatal'),
  rule(1406, 'ER_DATA_TOO_LONG', 'fatal'),
  rule(1451, 'ER_ROW_IS_REFERENCED_2', 'fatal'),
  rule(1452, 'ER_NO_REFERENCED_ROW_2', 'fatal'),
  rule(1049, 'ER_BAD_DB_ERROR', 'fatal', { sent: false }),
  rule(1153, 'ER_NET_PACKET_TOO_LARGE', 'fatal'),
];

const byErrno = new Map(serverErrorRules.map((r) => [r.errno, r]));
const byName = new Map(serverErrorRules.map((r) => [r.name, r]));

/** The rule for a server error number or name (`1213`, `'1213'`, `'ER_LOCK_DEADLOCK'`), if the driver has one. */
export function serverErrorRule(code: number | string): ServerErrorRule | undefined {
  if (typeof code === 'number') return byErrno.get(code);
  return /^\d+$/.test(code) ? byErrno.get(Number(code)) : byName.get(code);
}

/** Error numbers that mean the node does not take writes (read-only after a failover). */
export const readOnlyErrnos: readonly number[] = serverErrorRules
  .filter((r) => r.readOnly === true)
  .map((r) => r.errno);
const readOnlySet = new Set(readOnlyErrnos);

/** A server error number from a mysql2 error (an ERR packet: `errno` with `sqlState`), else undefined. */
export function serverErrno(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { errno?: unknown; sqlState?: unknown; sqlMessage?: unknown };
  // Node's socket errors carry a negative errno too: only an ERR packet has sqlState / sqlMessage.
  if (typeof e.errno !== 'number' || e.errno <= 0) return undefined;
  if (typeof e.sqlState !== 'string' && typeof e.sqlMessage !== 'string') return undefined;
  return e.errno;
}

/** Whether the error says the node refused a write because it is read-only (1290, 1792, 1836). */
export function isReadOnlyError(error: unknown): boolean {
  const errno = serverErrno(error);
  return errno !== undefined && readOnlySet.has(errno);
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
  { test: /^Queue limit reached\./, classification: { kind: 'throttled', code: 'QUEUE_LIMIT', sent: false } },
  {
    test: /^No connections available\./,
    classification: { kind: 'throttled', code: 'NO_CONNECTIONS', sent: false },
  },
];

function fromServerErrno(errno: number, mysql2Code: unknown): MySqlClassification {
  const r = byErrno.get(errno);
  const name = r?.name ?? (typeof mysql2Code === 'string' ? mysql2Code : undefined);
  const out: MySqlClassification = { kind: r?.kind ?? 'fatal', code: errno };
  if (name !== undefined) {
    out.codeName = name;
    out.aliases = [name];
  }
  if (r?.sent === false) out.sent = false;
  return out;
}

// Without a rule: a serialization failure, a connection exception or an interruption by its SQLSTATE class.
function bySqlState(out: MySqlClassification, sqlState: unknown): MySqlClassification {
  if (typeof sqlState !== 'string' || byErrno.has(Number(out.code))) return out;
  if (sqlState === '40001') return { ...out, kind: 'transient' };
  if (sqlState.startsWith('08')) return { ...out, kind: 'connection' };
  if (sqlState === '70100') return { ...out, kind: 'timeout' };
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
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null)) return { kind: 'unknown' };
  const e = error as Error & { code?: unknown; sqlState?: unknown; fatal?: unknown };
  // The driver marks failures it saw before the statement was written (a connect while acquiring, a
  // failed validation ping, a command queued behind a destroyed one).
  const notSent = isNotSent(error);

  const errno = serverErrno(error);
  if (errno !== undefined) {
    const out = bySqlState(fromServerErrno(errno, e.code), e.sqlState);
    if (notSent) out.sent = false;
    return out;
  }

  if (typeof e.code === 'string') {
    const label = driverErrorCodes[e.code as keyof typeof driverErrorCodes];
    if (label !== undefined) return { ...label, code: e.code };
    const socket = classifySocketError(error);
    if (socket !== undefined) return notSent ? { ...socket, sent: false } : socket;
    if (
      e.code === 'PROTOCOL_CONNECTION_LOST' ||
      e.code.startsWith('PROTOCOL_PACKETS') ||
      e.code === 'PROTOCOL_ERROR' ||
      e.code === 'PROTOCOL_UNEXPECTED_PACKET'
    )
      return notSent
        ? { kind: 'connection', code: e.code, sent: false }
        : { kind: 'connection', code: e.code };
    if (e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') return { kind: 'timeout', code: e.code };
    if (e.code.startsWith('HANDSHAKE_')) return { kind: 'fatal', code: e.code, sent: false };
  }

  const message = typeof e.message === 'string' ? e.message : '';
  const byMessage = messageRules.find((r) => r.test.test(message));
  if (byMessage !== undefined) return { ...byMessage.classification };
  if (isAbortError(error)) return { kind: 'timeout', code: 'ABORTED' };
  if (notSent) return { kind: 'connection', sent: false };
  // Programming errors (bind parameters with undefined, a callback given to the promise API): never sent.
  if (error instanceof TypeError || error instanceof RangeError) return { kind: 'fatal', sent: false };
  return { kind: 'unknown' };
}

/** Whether a classification's code (or one of its aliases) is listed in `codes` (names and numbers alike). */
export function codeMatches(c: MySqlClassification, codes: readonly (string | number)[]): boolean {
  const mine = [c.code, ...(c.aliases ?? [])].filter((x) => x !== undefined).map(String);
  return codes.some((code) => mine.includes(String(code)));
}
