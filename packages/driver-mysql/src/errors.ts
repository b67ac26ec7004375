import { isAttemptEndedError, type Classification } from '@reconnect/core';

/**
 * This driver's own error codes and what they mean. `local`: the driver itself failed the statement before it was
 * sent (a wait in its own queue, a connection it closed), which says nothing about the server — core retries it
 * without charge and neither its breaker nor passive health counts it.
 */
export const driverErrorCodes = {
  /** No pooled connection became free within the attempt's time: the call waited in the pool's own queue, unsent. */
  ACQUIRE_TIMEOUT: { kind: 'timeout', sent: false, local: true },
  /**
   * No pooled connection within the attempt's time because the new connection made for the call did not finish its
   * connect and handshake: nothing was sent, but the server did not answer (not local).
   */
  CONNECT_TIMEOUT: { kind: 'connection', sent: false },
  /** The statement was queued on a connection the driver destroyed before it was sent. */
  CONNECTION_DESTROYED: { kind: 'connection', sent: false, local: true },
  /**
   * The statement was added to a connection the client had closed before anything failed on it (its pool ended
   * for a reconnect, or the driver took it out of service): refused by mysql2 unsent.
   */
  CLOSED_BY_CLIENT: { kind: 'connection', sent: false, local: true },
  /** The statement was running when the driver destroyed its connection (its attempt ended, a timeout, close). */
  QUERY_ABANDONED: { kind: 'timeout' },
  /** A pooled connection failed its validation ping: it was discarded before anything was sent. */
  VALIDATION_FAILED: { kind: 'connection', sent: false },
  /**
   * A replica further behind its primary than `maxLag` (or with its replication stopped), as its last probe found:
   * the statement was not sent; the node counts as failing, so core routes reads elsewhere until it catches up.
   */
  REPLICA_LAGGING: { kind: 'connection', sent: false },
} as const satisfies Record<string, Classification>;

/** The code of an error raised by this driver. */
export type MySqlDriverErrorCode = keyof typeof driverErrorCodes;

/**
 * An error raised by the driver itself (not by mysql2 or the server), built complete: `code` is one of
 * {@link driverErrorCodes}, which also says whether anything was sent, so nothing is added to it afterwards.
 */
export class MySqlDriverError extends Error {
  override readonly name = 'MySqlDriverError';
  readonly code: MySqlDriverErrorCode;
  readonly fatal: boolean;

  constructor(code: MySqlDriverErrorCode, message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fatal = options?.fatal ?? false;
  }
}

/** True for a {@link MySqlDriverError}, from any copy of this package (by name and code, not `instanceof`). */
export function isMySqlDriverError(error: unknown): error is MySqlDriverError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return (
    e.name === 'MySqlDriverError' && typeof e.code === 'string' && Object.hasOwn(driverErrorCodes, e.code)
  );
}

const notSentMark = Symbol.for('@reconnect/driver-mysql.notSent');

/**
 * Whether the error was raised before its statement was written: one of this driver's errors whose code says so,
 * core's `AttemptEndedError`, or a foreign error {@link markNotSent} marked.
 */
export function isNotSent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[notSentMark] === true) return true;
  if (isMySqlDriverError(error)) return (driverErrorCodes[error.code] as Classification).sent === false;
  return isAttemptEndedError(error);
}

/**
 * Marks an error as raised before the statement was written, so `classify` says `sent: false`. Only for what is
 * learned after the error was made, by someone other than its maker: mysql2's failure of a connect while acquiring
 * a connection (pool.ts), a statement's error in a transaction that was then rolled back (transaction.ts). An error
 * that already says it (this driver's, by its code; core's `AttemptEndedError`) is returned untouched.
 */
export function markNotSent<T>(error: T): T {
  if (typeof error === 'object' && error !== null && !isNotSent(error) && Object.isExtensible(error)) {
    Object.defineProperty(error, notSentMark, { value: true, enumerable: false, configurable: true });
  }
  return error;
}

/** A statement refused unsent because its replica was found lagging (replica-lag.ts): `reason` says how far. */
export function laggingError(reason: string): MySqlDriverError {
  return new MySqlDriverError('REPLICA_LAGGING', `${reason} (statement not sent)`);
}
