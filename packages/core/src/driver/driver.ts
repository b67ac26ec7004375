import type { ZodType } from 'zod';
import type { ResolvedPolicy } from '../policy/resolved.js';

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
  /** HTTP status, for HTTP drivers; matched by `retryOn.statusCodes`. */
  statusCode?: number;
  /**
   * Whether the request reached the server. `false` proves it did not (connect refused, never written),
   * so even a non-idempotent operation may be retried; `true` or absent means it may have run.
   */
  sent?: boolean;
  /** A server hint (Retry-After, a throttling reply) for the minimum wait before the next attempt. */
  retryAfterMs?: number;
  /**
   * What the error means, in the user's words, where the client's own text misleads (ioredis's
   * "max retries per request limit (which is 0)" is a lost connection). Health snapshots and logs show it.
   */
  message?: string;
}

/** One server a target can talk to. */
export interface NodeAddress {
  /** A stable id for the node, e.g. `127.0.0.1:9200` or a URL without credentials. */
  id: string;
  host: string;
  port: number;
  /** The URL to connect to, for HTTP drivers. Must not carry credentials (they go in the driver options). */
  url?: string;
  /** Node roles as reported by discovery, e.g. `['data', 'ingest']`, `['primary']`, `['replica']`. */
  roles?: readonly string[];
  /** Free-form node metadata from discovery or the config (zone, version, name). */
  attributes?: Readonly<Record<string, string>>;
}

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

/** What {@link Driver.probe} and {@link Driver.discover} receive. */
export interface ProbeContext {
  signal: AbortSignal;
  /** The policy's `healthCheck.query`, when set (e.g. `SELECT 1`). */
  query?: string;
}

/**
 * A storage driver: everything the core needs to know about one kind of client.
 * The core knows nothing of MySQL, Redis or Elasticsearch; a driver is this small object.
 */
export interface Driver<Options = unknown, Client = unknown> {
  /** The name used in config files, e.g. `mysql`. */
  readonly name: string;
  /** The OpenTelemetry `db.system` value, e.g. `mysql`, `redis`, `elasticsearch`. */
  readonly system: string;
  /** Validates the target's `options` at load time; the driver's options type is inferred from it. */
  readonly options: ZodType<Options>;
  /** Creates a connected client; rejects if it cannot connect. Must honour `ctx.signal`. */
  connect(options: Options, ctx: ConnectContext): Promise<Client>;
  /** Proves the client can serve a request (SELECT 1, PING, GET _cluster/health). Must honour `ctx.signal`. */
  probe(client: Client, ctx: ProbeContext): Promise<void>;
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
  /** For self-reconnecting clients: try to reconnect now rather than at the client's next backoff timer. */
  reconnectNow?(client: Client): void;
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
