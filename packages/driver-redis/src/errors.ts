import { REDACTED, type Classification } from '@reconnect/core';

// Commands whose arguments carry credentials. ioredis attaches `{ name, args }` of the failing command
// to reply errors, so a refused AUTH would otherwise carry the password into logs and spans.
const secretCommands = new Set(['auth', 'hello', 'migrate', 'acl']);

/**
 * Removes credentials from an ioredis error in place (the `command.args` of AUTH / HELLO / MIGRATE /
 * ACL, nested `lastNodeError` and `previousErrors`) and returns it. Safe on any value.
 */
export function redactRedisError<T>(error: T, seen = new Set<unknown>()): T {
  if (typeof error !== 'object' || error === null || seen.has(error)) return error;
  seen.add(error);
  const e = error as {
    command?: { name?: unknown; args?: unknown };
    lastNodeError?: unknown;
    previousErrors?: unknown;
    cause?: unknown;
  };
  const command = e.command;
  if (
    command !== undefined &&
    typeof command.name === 'string' &&
    secretCommands.has(command.name.toLowerCase())
  ) {
    if (Array.isArray(command.args)) command.args = command.args.map(() => REDACTED);
  }
  redactRedisError(e.lastNodeError, seen);
  redactRedisError(e.cause, seen);
  if (Array.isArray(e.previousErrors)) for (const p of e.previousErrors) redactRedisError(p, seen);
  return error;
}

/** This driver's own error codes and how `classify` reads them. */
export const driverErrorCodes = {
  /**
   * The client closed without emitting an error to say why (ioredis's own "Connection is closed." names the same
   * loss): a command in flight may have run.
   */
  CONNECTION_CLOSED: { kind: 'connection' },
  /**
   * The server is at `maxclients`: it refused the connection before running anything (issue #26). The reply itself
   * (`ERR max number of clients reached`) is rarely read, so the driver checks and says so (server-busy.ts).
   */
  MAXCLIENTS: { kind: 'throttled', sent: false },
  /**
   * `waitForReplicas`: the write was applied on the primary, but fewer replicas than asked confirmed it (WAIT) within
   * the time given: a failover now may lose it. Outcome unknown: a non-idempotent operation is never repeated, an
   * idempotent one is retried where the policy retries `transient` (preset:redis does) or names `NOT_REPLICATED` in
   * `retryOn.codes`. The primary answered: passive health counts it alive, and like a read-only node's refusal it
   * does not count toward the breaker (`readOnlyNode`), so reads are not refused because replicas lag.
   */
  NOT_REPLICATED: { kind: 'transient', readOnlyNode: true },
} as const satisfies Record<string, Classification>;

/** The code of an error raised by this driver. */
export type RedisDriverErrorCode = keyof typeof driverErrorCodes;

/**
 * An error raised by the driver itself (not by ioredis or the server); `code` is one of {@link driverErrorCodes},
 * and with the name it is how {@link isRedisDriverError} (and `classify`) recognise it, never the message.
 */
export class RedisDriverError extends Error {
  override readonly name = 'RedisDriverError';
  readonly code: RedisDriverErrorCode;

  constructor(code: RedisDriverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True for a {@link RedisDriverError}, from any copy of this package (by name and code, not `instanceof`). */
export function isRedisDriverError(error: unknown): error is RedisDriverError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return (
    e.name === 'RedisDriverError' && typeof e.code === 'string' && Object.hasOwn(driverErrorCodes, e.code)
  );
}

/**
 * A write the primary applied and fewer replicas than `waitForReplicas.replicas` confirmed within the time WAIT was
 * given (the option's `timeout`, or less when the attempt had less time left), or whose WAIT failed (`cause`). Its
 * code is `NOT_REPLICATED`; its outcome is unknown: the write is on the primary and may yet reach a replica, or be lost
 * in a failover.
 */
export class NotReplicatedError extends RedisDriverError {
  /** The replicas asked for. */
  readonly replicas: number;
  /** The replicas that confirmed the write (WAIT's reply); 0 when WAIT itself failed. */
  readonly acknowledged: number;
  /** How long WAIT was given, in ms. */
  readonly timeoutMs: number;

  constructor(replicas: number, acknowledged: number, timeoutMs: number, options?: { cause?: unknown }) {
    const cause = options?.cause;
    const why =
      cause === undefined
        ? `${acknowledged} of ${replicas} replica${replicas === 1 ? '' : 's'} confirmed it within ${timeoutMs} ms (WAIT ${replicas} ${timeoutMs})`
        : `WAIT ${replicas} ${timeoutMs} failed: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`;
    super(
      'NOT_REPLICATED',
      `Write not confirmed by replicas: ${why}. It was applied on the primary and may be lost in a failover`,
      cause === undefined ? undefined : { cause },
    );
    this.replicas = replicas;
    this.acknowledged = acknowledged;
    this.timeoutMs = timeoutMs;
  }
}
