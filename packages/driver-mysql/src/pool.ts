import type { Socket } from 'node:net';
import { abortReason, closeWithin, systemClock, TimeoutList } from '@reconnect/core';
import mysql, { type PoolOptions } from 'mysql2';
import { createPool, type Pool } from 'mysql2/promise';
import { acquire, asError, isServerBusy, markFresh, poolGetConnection, stopWaking } from './acquire.js';
import { ConnectPacer } from './connect-pacer.js';
import { abandon, closedByClient, guard, isAbandoned } from './guard.js';
import { Killer } from './kill-query.js';
import { noop, type CoreConnection, type CorePool } from './mysql2-internals.js';
import { stateOf, states, type MySqlPoolStats, type PoolState } from './pool-state.js';
import type { PoolSettings } from './policy-mapping.js';

export { mysqlPoolStats, type MySqlPoolStats } from './pool-state.js';

// The pool's lifetime: creation with the driver's guards (guard.ts) and acquisition (acquire.ts), the first
// connection, probes on a side connection, and close. What the driver did is counted in pool-state.ts.

/** The client an operation receives: a mysql2 promise Pool (`query`, `execute`, `getConnection`). */
export type MySqlPool = Pool;

/** What {@link createMySqlPool} needs besides the mysql2 options. */
export interface CreatePoolContext {
  settings: PoolSettings;
  /** The pool replaces one of the same target (and node) that was lost: its refill is a recovery (connect-pacer.ts). */
  recovering?: boolean;
}

/**
 * Creates a mysql2 promise Pool with the driver's guards: bounded acquisition, validation of idle
 * connections, statement timeouts that destroy the connection and kill the statement, read-only
 * connections discarded. The pool connects lazily; {@link openPool} makes its first connection.
 */
export function createMySqlPool(options: PoolOptions, ctx: CreatePoolContext): MySqlPool {
  const pool = createPool(options);
  const core = pool.pool as unknown as CorePool;
  const {
    connectionLimit: _l,
    queueLimit: _q,
    maxIdle: _m,
    idleTimeout: _i,
    waitForConnections: _w,
    resetOnRelease: _r,
    ...connectionOptions
  } = options;
  void [_l, _q, _m, _i, _w, _r];
  const stats: MySqlPoolStats = {
    validated: 0,
    discarded: 0,
    abandoned: 0,
    killed: 0,
    killFailed: 0,
    acquireTimeouts: 0,
    maxQueued: 0,
    serverBusy: 0,
    paced: 0,
  };
  const original = core.getConnection;
  const state: PoolState = {
    core,
    settings: ctx.settings,
    connectionOptions,
    stats,
    killer: new Killer(
      connectionOptions,
      Math.max(100, Math.min(ctx.settings.connectTimeoutMs, 2000)),
      stats,
    ),
    getConnection: original,
    closing: false,
    probeConnection: undefined,
    pacer: new ConnectPacer({
      perSecond: ctx.settings.connectRate,
      poolSize: core.config.connectionLimit,
      recovering: ctx.recovering === true,
    }),
    wake: undefined,
    waits: new TimeoutList(systemClock),
    lastBusy: undefined,
    lagging: undefined,
    replicaStatusSql: 'SHOW REPLICA STATUS',
  };
  states.set(pool, state);
  core.on('connection', (conn: CoreConnection) => {
    state.pacer.opened();
    markFresh(conn);
    guard(state, conn);
  });
  core.getConnection = poolGetConnection(state);
  return pool;
}

function acquireUnder(
  state: PoolState,
  signal: AbortSignal,
  validate: boolean,
  ownLimit = true,
  onBusy: 'wait' | 'fail' = 'wait',
): Promise<CoreConnection> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    acquire(
      state,
      (error, conn) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) {
          // Abandoned by the signal: a late connection goes straight back.
          conn?.release?.();
          return;
        }
        settled = true;
        if (conn === undefined) reject(asError(error));
        else resolve(conn);
      },
      validate,
      undefined,
      ownLimit,
      onBusy,
    );
  });
}

function queryUnder(
  state: PoolState,
  conn: CoreConnection,
  sql: string,
  signal: AbortSignal,
): Promise<unknown> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      // The statement is in flight on a server that did not answer in time: never back into the pool.
      abandon(state, conn, undefined, true);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    conn.query(sql, (error, rows) => {
      signal.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      if (error === null || error === undefined) resolve(rows);
      else reject(asError(error));
    });
  });
}

/**
 * Makes the pool's first connection (TCP, handshake, authentication) under `signal`; it stays in the pool
 * for the first probe. A failure is marked as never sent. A server that refuses it as busy (1040, 1203) is tried
 * again after a jittered back-off until `signal` ends; then the connect fails with the server's refusal.
 */
export async function openPool(pool: MySqlPool, signal: AbortSignal): Promise<void> {
  const state = stateOf(pool);
  // Bounded by the connect's signal alone (reconnect.connectTimeout): a silent server then reads as every store's
  // does, not as "No pooled connection became free" at the shorter attemptTimeout.
  let conn: CoreConnection;
  try {
    conn = await acquireUnder(state, signal, false, false);
  } catch (error) {
    // The connect ran out of time backing off a busy server: say so (throttled, not sent), not "aborted".
    throw signal.aborted && state.lastBusy !== undefined ? state.lastBusy : error;
  }
  markFresh(conn);
  conn.release?.();
}

/**
 * Runs `sql` (the health check's query) on a pooled connection under `signal`. When every connection is
 * busy the probe uses a side connection of its own, so a saturated pool is not taken for a dead server.
 * An aborted probe abandons its connection (destroyed, statement killed).
 */
export async function probePool(pool: MySqlPool, sql: string, signal: AbortSignal): Promise<void> {
  await probeQuery(pool, sql, signal);
}

/**
 * {@link probePool} that also says what the statement returned (its rows); `busy` when the server refused a
 * connection as busy (1040, 1203), which is the server answering, not a failure.
 */
export async function probeQuery(pool: MySqlPool, sql: string, signal: AbortSignal): Promise<unknown> {
  const state = stateOf(pool);
  const { core } = state;
  try {
    // Every connection busy, or a new one held back by the pacer: the probe must not wait behind the callers.
    if (
      core._freeConnections.length === 0 &&
      (core._allConnections.length >= core.config.connectionLimit ||
        state.pacer.waitMs(core._allConnections.length === 0) > 0)
    ) {
      return await probeSide(state, sql, signal);
    }
    const conn = await acquireUnder(state, signal, false, true, 'fail');
    try {
      return await queryUnder(state, conn, sql, signal);
    } finally {
      if (!isAbandoned(conn)) conn.release?.();
    }
  } catch (error) {
    // "Too many connections" is the server answering: busy, not down (the target is not declared lost for it).
    if (isServerBusy(error)) return busy;
    throw error;
  }
}

/** What {@link probeQuery} resolves with when the server refused the connection as busy. */
export const busy: unique symbol = Symbol('busy');

async function probeSide(state: PoolState, sql: string, signal: AbortSignal): Promise<unknown> {
  let conn = state.probeConnection;
  if (conn === undefined || isAbandoned(conn) || conn._fatalError !== null) {
    conn = mysql.createConnection(state.connectionOptions) as unknown as CoreConnection;
    conn.on('error', noop);
    state.probeConnection = conn;
  }
  try {
    return await queryUnder(state, conn, sql, signal);
  } catch (error) {
    if (state.probeConnection === conn) state.probeConnection = undefined;
    abandon(state, conn, undefined, false); // does nothing when the failure already abandoned it
    throw error;
  }
}

/** Every socket the pool (and its side connections) holds. */
function sockets(state: PoolState): Socket[] {
  const out: Socket[] = [];
  const all = state.core._allConnections;
  for (let i = 0; i < all.length; i++) out.push(all.get(i).stream);
  if (state.probeConnection !== undefined) out.push(state.probeConnection.stream);
  return out;
}

/**
 * Closes the pool: `pool.end()` (COM_QUIT on every connection, queued behind statements in flight) gets
 * `closeGraceMs`; on a hung server it never finishes, so the sockets left are then destroyed, which fails
 * what was in flight and lets `end()` return (`graceMs: 0` destroys at once). Resolves how it ended.
 */
export async function closeMySqlPool(
  pool: MySqlPool,
  options: { graceMs?: number } = {},
): Promise<'graceful' | 'forced' | 'abandoned'> {
  const state = stateOf(pool);
  if (state.closing) return 'graceful';
  state.closing = true;
  stopWaking(state);
  state.killer.close();
  const side = state.probeConnection;
  state.probeConnection = undefined;
  if (side !== undefined) {
    side.destroy();
    side.stream.destroy();
  }
  // A statement an operation adds to one of them from now on is refused unsent because of this close, not the server.
  const all = state.core._allConnections;
  for (let i = 0; i < all.length; i++) closedByClient(all.get(i));
  if (all.length === 0) {
    await pool.end();
    return 'graceful';
  }
  return closeWithin(
    () => pool.end(),
    () => {
      for (const s of sockets(state)) s.destroy();
    },
    { graceMs: options.graceMs ?? state.settings.closeGraceMs },
  );
}

/** Waits until no `KILL QUERY` is pending on `pool` (for tests). */
export function killsSettled(pool: MySqlPool): Promise<void> {
  return stateOf(pool).killer.idle();
}
