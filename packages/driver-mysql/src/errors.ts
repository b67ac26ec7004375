import type { Classification } from '@reconnect/core';

const notSentMark = Symbol.for('@reconnect/driver-mysql.notSent');

/**
 * Marks an error as raised before the statement was written (a connect while acquiring a connection, a
 * failed validation ping, a command queued behind a destroyed one), so `classify` says `sent: false`.
 */
export function markNotSent<T>(error: T): T {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    Object.defineProperty(error, notSentMark, { value: true, enumerable: false, configurable: true });
  }
  return error;
}

/** Whether {@link markNotSent} marked the error. */
export function isNotSent(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[notSentMark] === true
  );
}

/** This driver's own error codes and what they mean. */
export const driverErrorCodes = {
  /** No pooled connection became free within the attempt's time: nothing was sent. */
  ACQUIRE_TIMEOUT: { kind: 'timeout', sent: false },
  /** The statement was queued on a connection the driver destroyed before it was sent. */
  CONNECTION_DESTROYED: { kind: 'connection', sent: false },
  /** The statement was running when the driver destroyed its connection (its attempt ended, a timeout, close). */
  QUERY_ABANDONED: { kind: 'timeout' },
  /** A pooled connection failed its validation ping: it was discarded before anything was sent. */
  VALIDATION_FAILED: { kind: 'connection', sent: false },
} as const satisfies Record<string, Classification>;

/** The code of an error raised by this driver. */
export type MySqlDriverErrorCode = keyof typeof driverErrorCodes;

/** An error raised by the driver itself (not by mysql2 or the server); `code` is one of {@link driverErrorCodes}. */
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
