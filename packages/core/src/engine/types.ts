import type { Classification } from '../error-kinds.js';
import type { NodeAddress } from '../node-address.js';
import type { DbTarget } from '../telemetry/db-target.js';
import type { AbortListener } from './lazy-signal.js';

/** What an operation receives besides the client, for each attempt. */
export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted at the attempt timeout, at the deadline, and when the caller aborts. Pass it to the client. */
  readonly signal: AbortSignal;
  /**
   * Whether the attempt was cut short (its timeout, the deadline, the caller's abort): `signal.aborted`, read
   * without making the signal, which is made on first read (for a driver that checks every request it sends).
   */
  readonly aborted: boolean;
  /** The reason `signal` aborted with (an AttemptTimeoutError, a DeadlineExceededError, the caller's reason), read without making it. */
  readonly reason: unknown;
  /**
   * Calls `listener` once if the attempt is cut short, without making `signal` (an AbortController and an event
   * listener cost about a kilobyte): what a driver's attempt-bound client listens with. Not called when already
   * aborted: check `aborted` first. {@link offAbort} removes it. An object's `handleEvent()` is called, as an
   * EventTarget's would be: a driver's attempt-bound view can be its own listener, with no closure per attempt.
   */
  onAbort(listener: AbortListener): void;
  /** Removes a listener {@link onAbort} added. */
  offAbort(listener: AbortListener): void;
  /** The node this attempt runs on, for multi-node targets. */
  readonly node: NodeAddress | undefined;
  /**
   * How long the operation may run, in ms: the attempt timeout or what was left of the deadline when it started,
   * whichever is shorter (this call's own, not only the policy's); `Infinity` when neither bounds it. For a driver
   * that sets a client's own per-request timeout; `signal` says when the attempt has actually ended.
   */
  readonly timeoutMs: number;
}

/** One operation against a target's client. Called once per attempt. */
export type Operation<Client, T> = (client: Client, ctx: AttemptContext) => T | PromiseLike<T>;

/** Per-call options of `execute`; durations as in the policy file (`2s`) or milliseconds. */
export interface ExecuteOptions {
  /**
   * Whether running the operation twice is harmless. Only idempotent operations are retried after a
   * failure that may have reached the server; others fail with `outcome: 'unknown'`.
   */
  idempotent?: boolean;
  /** Aborts the operation: the running attempt and any wait between attempts. */
  signal?: AbortSignal;
  /** Overrides the policy's `retry.deadline` for this call. */
  deadline?: number | string;
  /** Overrides the policy's `retry.attemptTimeout` for this call. */
  attemptTimeout?: number | string;
  /**
   * The operation's name, e.g. the command: `GET`, `SELECT`, `search`. The operation span's and
   * `db.client.operation.duration`'s `db.operation.name` (keep it low in cardinality: no ids or values).
   */
  name?: string;
  /** The table, key space or index the operation works on: `db.collection.name` on its span and metric. */
  collection?: string;
  /**
   * The query text, recorded as `db.query.text` with its literals replaced by `?` only when the process opts in
   * (`RECONNECT_OTEL_QUERY_TEXT=true`); never on metrics.
   */
  query?: string;
  /**
   * The operation only reads: a multi-node target may serve it from a node with the role `replica`
   * (a live one, else the primary). Other operations go only to nodes that are not replicas.
   */
  readOnly?: boolean;
}

/** A client (and the node it talks to) handed to one attempt. */
export interface Lease<Client> {
  readonly client: Client;
  readonly node?: NodeAddress | undefined;
}

/** What the executor asks of the target when an attempt needs a client. */
export interface AcquireRequest {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Aborted at the operation's deadline or by the caller: stop waiting for a connection then. Do not keep
   * listening once acquire has settled: the same object is the attempt's {@link AttemptContext} afterwards, and
   * its signal then also aborts at the attempt timeout.
   */
  readonly signal: AbortSignal;
  /** Whether `signal` has aborted, read without making it (it is made on first read). */
  readonly aborted: boolean;
  /** The reason `signal` aborted with, read without making it. */
  readonly reason: unknown;
  /**
   * Calls `listener` once when `signal` aborts, without making the signal: what a source that waits (for a
   * reconnect) listens with, at a fraction of an AbortSignal listener's cost. {@link offAbort} removes it. An object
   * listener's `handleEvent()` is called, as an EventTarget's would be (a waiting record is then its own listener).
   */
  onAbort(listener: AbortListener): void;
  /** Removes a listener {@link onAbort} added. */
  offAbort(listener: AbortListener): void;
  /** The node the previous attempt failed on: pick a different one when one is alive. */
  readonly avoid: NodeAddress | undefined;
  /** Absolute time (on the target's clock) the operation's deadline falls at. */
  readonly deadlineAt: number;
  /** The operation's attempt timeout (a per-call `attemptTimeout` or the policy's) in ms; 0: no limit. */
  readonly attemptTimeoutMs: number;
  /** The caller declared the operation read-only: a replica may serve it. */
  readonly readOnly: boolean;
  /**
   * The context this attempt's operation will receive (its `node` is set once a client is acquired): what a
   * driver's `bindAttempt` binds the client to.
   */
  readonly context: AttemptContext;
}

/** The outcome of one attempt, reported back to the target (passive health, node pool, breaker). */
export type AttemptReport =
  | { readonly ok: true; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly durationMs: number;
      readonly error: unknown;
      readonly classification: Classification;
      /**
       * Set when the executor itself cut the attempt short: `timeout` (the policy's attemptTimeout — a
       * health signal), `deadline` (the caller's overall deadline ran out first — says nothing about the
       * server, so passive health ignores it), `aborted` (the caller's signal: says nothing either), `hedged`
       * (another attempt of a hedged read answered first: not a failure; its duration is a lower bound of the
       * node's latency). Every attempt handed a lease reports, even one stopped before its operation ran
       * (`deadline` or `aborted` with `classification.sent` false): a source can count the leases in use.
       */
      readonly interrupt?: 'timeout' | 'deadline' | 'aborted' | 'hedged';
    };

/** What {@link ConnectionSource.acquire} answers when it will hand a {@link LeaseReceiver} its lease itself. */
export const leaseDeliveredLater: unique symbol = Symbol('acquire.deliveredLater');

/** The key of {@link LeaseReceiver}'s method (a symbol: the request is also the operation's context). */
export const receiveLease: unique symbol = Symbol('acquire.receiveLease');

/**
 * A request that takes its lease from the source directly (the executor's attempts are): an outage can queue tens
 * of thousands of waiting operations, and a promise with its two resolving functions and a `then` per wait is
 * most of what each one costs. Called once, with a lease (or a promise of one) or with the error that ended the
 * wait; a call after the wait was cut short (deadline, abort) is ignored.
 */
export interface LeaseReceiver<Client> {
  [receiveLease](lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error?: unknown): void;
}

/** Whether `request` takes its lease directly (see {@link LeaseReceiver}). */
export function receivesLeases<Client>(request: object): request is LeaseReceiver<Client> {
  return receiveLease in request;
}

/**
 * How the executor reaches the target's connections. The lifecycle implements it: `acquire` waits
 * for a reconnect (bounded by `signal`), triggers the on-demand probe, picks a node.
 * Errors thrown by `acquire` should be ReconnectErrors with `outcome: 'not_sent'` when nothing was sent.
 */
export interface ConnectionSource<Client> {
  /**
   * A lease now, a promise of one, or — only for a request that is a {@link LeaseReceiver} (the executor's own
   * attempts) — {@link leaseDeliveredLater}: the source keeps the request and hands it the lease (or the error)
   * when the wait ends, so that a wait holds no promise of the source's own.
   */
  acquire(request: AcquireRequest): Lease<Client> | Promise<Lease<Client>> | typeof leaseDeliveredLater;
  report?(lease: Lease<Client>, report: AttemptReport): void;
  /**
   * Asked when an operation gives up at its deadline with nothing sent: an error that says better why no
   * client came (a target that never connected), thrown instead of the deadline error; `undefined` otherwise.
   */
  unavailable?(): Error | undefined;
  /** What the target's telemetry says of its database (system, namespace, server), for spans and metrics. */
  dbTarget?(): DbTarget | undefined;
  /**
   * Whether the source believes its server is up. When it says `false` (reconnecting), an open breaker is not
   * consulted: `acquire` decides what the operation does (wait for the reconnect, or fail fast).
   */
  connected?(): boolean;
  /** While not connected: what the last attempt to connect failed with (a give-up names it: the likelier why). */
  lastConnectError?(): unknown;
  /**
   * Whether a hedge of a read now running on `avoid` could go to another live node (`retry.hedge`): a source
   * without it is never hedged.
   */
  hedgeable?(avoid: NodeAddress, readOnly: boolean): boolean;
}
