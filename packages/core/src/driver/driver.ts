import type { ZodType } from 'zod';
import type { Classification } from '../error-kinds.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { AttemptContext } from '../engine/types.js';
import type { NodeAddress } from '../node-address.js';

export type { Classification, ErrorKind } from '../error-kinds.js';
export type { NodeAddress } from '../node-address.js';

/**
 * Reports a client's own view of its connection, for clients that reconnect by themselves
 * (ioredis). The lifecycle follows these reports instead of running a second reconnect loop.
 */
export interface ConnectionMonitor {
  /** The client lost its connection (and is now reconnecting by itself, or has given up). */
  down(error: unknown): void;
  /** The client is connected and ready again. */
  up(): void;
}

/** What {@link Driver.connect} receives besides the options. */
export interface ConnectContext {
  /** The node to connect to, for multi-node targets; absent when the client owns its topology. */
  node?: NodeAddress;
  /** Aborted when the connect attempt must be abandoned (timeout, stop). */
  signal: AbortSignal;
  /** The target's fully resolved policy, so a driver can map it onto the client's own options. */
  policy: ResolvedPolicy;
  /** The target's name, for client names and log lines. */
  target: string;
}

/** What a successful probe may report, for `health()`: the server's own word on its state (a cluster's colour). */
export interface ProbeReport {
  status?: string;
}

/** What {@link Driver.probe} and {@link Driver.discover} receive. */
export interface ProbeContext {
  signal: AbortSignal;
  /** The policy's `healthCheck.query`, when set (e.g. `SELECT 1`). */
  query?: string;
}

/**
 * What a driver says of a target's database for spans and metrics, in the OpenTelemetry database conventions'
 * terms. Every field is optional: core fills in what it knows itself (a multi-node target's node addresses).
 */
export interface DbTelemetry {
  /** `db.system.name` when it is not the driver's `system`: the server's own word (`mariadb` behind a MySQL client). */
  system?: string;
  /** `db.namespace`: the database (MySQL), the database index (Redis), the cluster's name (Elasticsearch). */
  namespace?: string;
  /** `server.address` of a single-server target, as configured (a host name or an address). */
  serverAddress?: string;
  /** `server.port`, with `serverAddress`. */
  serverPort?: number;
  /** `network.peer.address` of a single-server target's connection (its socket's peer), given a client. */
  peerAddress?: string;
  /** `network.peer.port`, with `peerAddress`. */
  peerPort?: number;
}

/** A client's connection pool right now, for the `db.client.connection.*` metrics. */
export interface ConnectionPoolStats {
  /** Connections lent out. */
  used: number;
  /** Open connections waiting in the pool. */
  idle: number;
  /** The most connections the pool opens. */
  max: number;
  /** The most idle connections the pool keeps, when it has such a limit. */
  idleMax?: number;
  /** Requests waiting for a connection. */
  pending: number;
  /** Waits for a connection that timed out since the client was made, when the driver counts them. */
  timeouts?: number;
}

/**
 * A storage driver: everything the core needs to know about one kind of client.
 * The core knows nothing of MySQL, Redis or Elasticsearch; a driver is this small object.
 */
export interface Driver<Options = unknown, Client = unknown> {
  /** The name used in config files, e.g. `mysql`. */
  readonly name: string;
  /** The OpenTelemetry `db.system.name` value, e.g. `mysql`, `redis`, `elasticsearch` (see {@link Driver.telemetry}). */
  readonly system: string;
  /** Validates the target's `options` at load time; the driver's options type is inferred from it. */
  readonly options: ZodType<Options>;
  /** Creates a connected client; rejects if it cannot connect. Must honour `ctx.signal`. */
  connect(options: Options, ctx: ConnectContext): Promise<Client>;
  /**
   * Proves the client can serve a request (SELECT 1, PING, GET _cluster/health). Must honour `ctx.signal`. May
   * report what the server said of itself (`{ status: 'yellow' }`), which `health()` shows per node.
   */
  probe(client: Client, ctx: ProbeContext): Promise<void | ProbeReport>;
  /** Releases the client and every socket and timer it holds. */
  close(client: Client): Promise<void>;
  /** Maps any error the client throws onto an {@link ErrorKind}, a native code and whether it was sent. */
  classify(error: unknown): Classification;
  /** The nodes named in the options, for multi-node targets. */
  nodes?(options: Options): NodeAddress[];
  /** Asks the cluster which nodes exist (sniffing). */
  discover?(client: Client, ctx: ProbeContext): Promise<NodeAddress[]>;
  /**
   * For clients that reconnect by themselves: subscribe to their status. Returns an unsubscribe function.
   * When present, the lifecycle never closes and re-creates the client on a fault; it follows the monitor.
   */
  watch?(client: Client, monitor: ConnectionMonitor): () => void;
  /**
   * A reloaded policy for a live client: apply what the client keeps of it (its own command timeout) without
   * reconnecting. Clients connected later get the new policy through `connect`.
   */
  reconfigure?(client: Client, policy: ResolvedPolicy): void;
  /**
   * The client one attempt's operation receives, for a driver that must see the attempt: what the operation
   * sends through it can then follow `attempt.signal` (aborted at the attempt timeout, the deadline and the
   * caller's abort: the call's own limits, not only the policy's) without the caller passing it. Called once
   * per attempt; without it the operation receives the client itself.
   */
  bindAttempt?(client: Client, attempt: AttemptContext): Client;
  /** For self-reconnecting clients: try to reconnect now rather than at the client's next backoff timer. */
  reconnectNow?(client: Client): void;
  /**
   * What spans and metrics say of the database: asked with the options when the target is built, and again with
   * the client after each connect (the server's own word on what it is, the socket's peer). Must not throw.
   */
  telemetry?(options: Options, client?: Client): DbTelemetry;
  /** A client's connection pool, for the `db.client.connection.*` metrics (drivers whose client pools connections). */
  poolStats?(client: Client): ConnectionPoolStats | undefined;
  /** Credentials-free description of where the options point, for logs and spans (`127.0.0.1:6379`). */
  describe?(options: Options): string;
  /** Option keys (dotted paths) holding secrets, beyond the ones recognised by name. */
  readonly secretKeys?: readonly string[];
}

/** The options type a driver accepts. */
export type DriverOptions<D> = D extends Driver<infer O, unknown> ? O : never;
/** The client type a driver creates. */
export type DriverClient<D> = D extends Driver<unknown, infer C> ? C : never;

/**
 * Declares a driver with its types checked; returns the object unchanged.
 * `Options` is inferred from the zod schema given as `options`.
 */
export function defineDriver<Options, Client>(driver: Driver<Options, Client>): Driver<Options, Client> {
  return driver;
}
