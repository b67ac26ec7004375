// What a failure is, and what each kind of failure means to every part of the core. The schema (retryOn.errors),
// the errors, the executor (retry, breaker), the target (passive health, reconnect) and the driver contract
// all read this one module, so a kind's meaning is decided once.

/**
 * What kind of failure an error is, in the words a policy's `retry.retryOn.errors` uses.
 * - `connection`: the connection could not be made or was lost;
 * - `timeout`: no answer in time;
 * - `throttled`: the server asked the client to slow down (HTTP 429, "too many connections");
 * - `transient`: the server answered with an error that is expected to pass (deadlock, LOADING, 503);
 * - `auth`: credentials were refused; retrying will not help;
 * - `fatal`: the request itself is wrong; retrying will not help;
 * - `unknown`: the driver cannot tell.
 */
export type ErrorKind = 'connection' | 'timeout' | 'throttled' | 'transient' | 'auth' | 'fatal' | 'unknown';

/** Every {@link ErrorKind}, in a stable order. */
export const errorKinds = [
  'connection',
  'timeout',
  'throttled',
  'transient',
  'auth',
  'fatal',
  'unknown',
] as const satisfies readonly ErrorKind[];

/** A driver's verdict on one error. */
export interface Classification {
  kind: ErrorKind;
  /** The driver-native code (`ER_LOCK_DEADLOCK`, `1213`, `READONLY`, an HTTP status), matched by `retryOn.codes`. */
  code?: string | number;
  /**
   * Other spellings of `code`, also matched by `retryOn.codes`: a MySQL error is `code: 1213` with
   * `aliases: ['ER_LOCK_DEADLOCK']`, so a policy may name it either way.
   */
  aliases?: readonly (string | number)[];
  /** HTTP status, for HTTP drivers; matched by `retryOn.statusCodes`. */
  statusCode?: number;
  /**
   * Whether the request reached the server. `false` proves it did not (connect refused, never written),
   * so even a non-idempotent operation may be retried; `true` or absent means it may have run.
   */
  sent?: boolean;
  /**
   * The client itself failed the request before sending it: its pool closing for a reconnect, a connection it
   * recycled, a wait in its own queue that ran out. Only with `sent: false`. It says nothing about the server: it
   * is retried without charge to the retry budget or `retry.maxRetries` (within the deadline, whatever `retryOn`
   * says), and neither the breaker nor passive health counts it. gRPC calls these transparent retries.
   */
  local?: boolean;
  /** A server hint (Retry-After, a throttling reply) for the minimum wait before the next attempt. */
  retryAfterMs?: number;
  /**
   * The server refused a write because this node is read-only (a failover demoted it, `read_only` is on: Redis
   * `READONLY`, MySQL 1290 / 1792 / 1836). It is up and answering, so the breaker counts it as alive, not as a
   * failure: a target's reads are not refused because its writes are.
   */
  readOnlyNode?: boolean;
  /**
   * What the error means, in the user's words, where the client's own text misleads (ioredis's
   * "max retries per request limit (which is 0)" is a lost connection). Health snapshots and logs show it.
   */
  message?: string;
}

/** What one {@link ErrorKind} means to the parts of the core. */
export interface KindMeaning {
  /** Retried when a policy lists no `retryOn.errors` of its own (the built-in defaults list these). */
  readonly retriedByDefault: boolean;
  /** Counts as a failure for the circuit breaker (the server is unwell); otherwise the server answered. */
  readonly breakerFailure: boolean;
  /** An operation failing so is a passive health failure of its node / target (no answer at all). */
  readonly healthFailure: boolean;
  /** Proves the server is up and answering (passive health counts it as a success). */
  readonly serverAnswered: boolean;
  /** Retrying cannot fix it: the first connect fails at once, `start()` rejects without retrying. */
  readonly final: boolean;
  /**
   * A connect refused so says the server is full, not down (too many connections, maxclients): the reconnect is
   * backed off but not counted toward `reconnect.maxRetries`.
   */
  readonly busy: boolean;
}

/**
 * The one table of what each kind means. Whether a request was *sent* is not a property of its kind: the driver
 * says it per error (`Classification.sent`), and a failure before the operation ran proves it was not.
 */
export const kindMeanings: Readonly<Record<ErrorKind, KindMeaning>> = {
  connection: {
    retriedByDefault: true,
    breakerFailure: true,
    healthFailure: true,
    serverAnswered: false,
    final: false,
    busy: false,
  },
  timeout: {
    retriedByDefault: true,
    breakerFailure: true,
    healthFailure: true,
    serverAnswered: false,
    final: false,
    busy: false,
  },
  throttled: {
    retriedByDefault: false,
    breakerFailure: true,
    healthFailure: false,
    serverAnswered: true,
    final: false,
    busy: true,
  },
  transient: {
    retriedByDefault: false,
    breakerFailure: true,
    healthFailure: false,
    serverAnswered: true,
    final: false,
    busy: false,
  },
  auth: {
    retriedByDefault: false,
    breakerFailure: false,
    healthFailure: false,
    serverAnswered: true,
    final: true,
    busy: false,
  },
  fatal: {
    retriedByDefault: false,
    breakerFailure: false,
    healthFailure: false,
    serverAnswered: true,
    final: true,
    busy: false,
  },
  unknown: {
    retriedByDefault: false,
    breakerFailure: false,
    healthFailure: false,
    serverAnswered: false,
    final: false,
    busy: false,
  },
};

/** The kinds the built-in defaults retry (`retry.retryOn.errors`). */
export const defaultRetryKinds: readonly ErrorKind[] = errorKinds.filter(
  (k) => kindMeanings[k].retriedByDefault,
);
