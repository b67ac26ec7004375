import type { NodeAddress, ResolvedPolicy } from '@reconnect/core';
import type { PoolOptions } from 'mysql2';
import { defaultConnectRate } from './connect-pacer.js';
import { mysqlAddresses, parseMySqlUri, type MySqlDriverOptions } from './options.js';

/**
 * Default `queueLimit`: operations waiting for a free pooled connection, per node (mysql2: unbounded). An operation's
 * wait there is already bounded by half its attempt, so this is a backstop for memory, not the load shedder: at 1 000
 * operations a second the backlog of a 3 s outage is a few thousand calls, and a limit of 1 000 refused the oldest of
 * them again and again (each refusal a local retry on the backoff, losing its place to newer calls) until their
 * deadlines passed (issue #29: reads failed in 12 of 24 MariaDB cells of the 1 000 ops/s sweep; in 0 of 18 with
 * 10 000 or 100 000). 10 000 still shed what a hung server's pool took in at 5 000 operations a second before the
 * loss was declared (2–2.5 s): 50 000, core's default `reconnect.maxWaiting`, bounds it as core bounds its own queue.
 */
export const defaultQueueLimit = 50_000;
/** Default TCP keep-alive initial delay, in ms. */
export const defaultKeepAliveInitialDelay = 10_000;
/** The longest `close()` waits for `pool.end()` before it destroys the sockets left, in ms. */
export const maxCloseGraceMs = 2000;

/** What the driver does with a policy, beyond mysql2's own options. */
export interface PoolSettings {
  /** Default mysql2 per-statement `timeout` (the policy's `retry.attemptTimeout`); 0 = none. */
  queryTimeoutMs: number;
  /** How long an operation may wait for a free pooled connection (same as the statement timeout); 0 = no limit. */
  acquireTimeoutMs: number;
  /** A pooled connection idle longer than this is pinged before it is handed out. */
  validateAfterIdleMs: number;
  /**
   * How long that ping may take before the connection is discarded: `healthCheck.timeout`, at most a quarter
   * of `attemptTimeout`, so a dead idle connection costs the operation a fraction of its attempt, not all of it
   * (an attempt cut by its timeout would be "outcome unknown" although nothing was sent).
   */
  validationTimeoutMs: number;
  /** One connect (TCP + handshake), `reconnect.connectTimeout`; also bounds a `KILL QUERY` side connection. */
  connectTimeoutMs: number;
  /** How long `close()` lets `pool.end()` finish before destroying the sockets. */
  closeGraceMs: number;
  /** New connections per second per pool at most (the options' `connectRate`); 0 = no ceiling. */
  connectRate: number;
}

/** The driver's settings under `policy` (and the options' `validateAfterIdle`). */
export function poolSettings(options: MySqlDriverOptions, policy: ResolvedPolicy): PoolSettings {
  const attempt = policy.retry.attemptTimeout;
  const probe = policy.healthCheck.timeout;
  const connect = policy.reconnect.connectTimeout;
  return {
    queryTimeoutMs: attempt,
    acquireTimeoutMs: attempt,
    validateAfterIdleMs: options.validateAfterIdle ?? policy.healthCheck.interval,
    validationTimeoutMs: attempt > 0 ? Math.min(probe, Math.max(1, Math.floor(attempt / 4))) : probe,
    connectTimeoutMs: connect,
    closeGraceMs: Math.min(maxCloseGraceMs, connect),
    connectRate: options.connectRate ?? defaultConnectRate,
  };
}

/** How far behind `reconnect.connectTimeout` mysql2's own handshake timer fires (see mysql2PoolOptions). */
export const connectBackstopMs = 1000;

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/**
 * The mysql2 pool options for one server (`node`, or the single one the options name), with the policy's
 * settings applied last so nothing in the options can undo them.
 */
export function mysql2PoolOptions(
  options: MySqlDriverOptions,
  policy: ResolvedPolicy,
  node?: Pick<NodeAddress, 'host' | 'port'>,
): PoolOptions {
  const fromUri = options.uri === undefined ? undefined : parseMySqlUri(options.uri);
  const address = node ?? mysqlAddresses(options)[0]!;
  const {
    uri: _uri,
    nodes: _n,
    primary: _p,
    replicas: _r,
    validateAfterIdle: _v,
    connectRate: _c,
    maxLag: _lag,
    ...rest
  } = options;
  void _c;
  void _lag;
  void _uri;
  void _n;
  void _p;
  void _r;
  void _v;
  return {
    ...(fromUri?.params ?? {}),
    ...defined({
      ...rest,
      user: fromUri?.user ?? options.user,
      password: fromUri?.password ?? options.password,
      database: fromUri?.database ?? options.database,
    }),
    host: address.host,
    port: address.port,
    queueLimit: options.queueLimit ?? defaultQueueLimit,
    enableKeepAlive: options.enableKeepAlive ?? true,
    keepAliveInitialDelay: options.keepAliveInitialDelay ?? defaultKeepAliveInitialDelay,
    waitForConnections: true,
    // A backstop a second behind the policy's connectTimeout, which the lifecycle (and `reconnect check`) enforce
    // through the connect's signal: at the same instant mysql2's own "connect ETIMEDOUT" would race it, and a silent
    // server would read differently on MySQL than on the other stores.
    connectTimeout: policy.reconnect.connectTimeout + connectBackstopMs,
    // mysql2's promise API captures the caller's stack on every statement (trace: true), so that an error shows
    // where it was called from; through a target that stack is the engine's, and capturing it was the largest
    // single cost a statement paid (~10 % of a SELECT 1's CPU, more than Reconnect's own code). Opt back in with
    // `trace: true`.
    trace: options.trace ?? false,
  } as PoolOptions;
}
