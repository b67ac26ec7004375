import type { Socket } from 'node:net';
import { abortReason, closeWithin } from '@reconnect/core';
import mysql, { type PoolOptions } from 'mysql2';
import { createPool, type Pool } from 'mysql2/promise';
import { markNotSent, MySqlDriverError } from './errors.js';
import { abandon, guard, isAbandoned } from './guard.js';
import { Killer } from './kill-query.js';
import {
  noop,
  removeQueued,
  type AcquireCallback,
  type CoreConnection,
  type CorePool,
} from './mysql2-internals.js';
import { stateOf, states, type MySqlPoolStats, type PoolState } from './pool-state.js';
import type { PoolSettings } from './policy-mapping.js';

export { mysqlPoolStats, type MySqlPoolStats } from './pool-state.js';

// The pool's lifetime: creation with the driver's guards (guard.ts), acquisition bounded and validated, the
// first connection, probes on a side connection, and close. What the driver did is counted in pool-state.ts.

/** Connections mysql2 has just opened: no validation ping before their first use. */
const fresh = new WeakSet<CoreConnection>();
const asError = (x: unknown): Error =>
  x instanceof Error ? x : new Error(typeof x === 'string' ? x : 'mysql2 failed without an Error');

/** The client an operation receives: a mysql2 promise Pool (`query`, `execute`, `getConnection`). */
export type MySqlPool = Pool;

function ping(conn: CoreConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new MySqlDriverError('VALIDATION_FAILED', `The validation ping got no answer in ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    timer.unref();
    try {
      conn.ping((error) => {
        clearTimeout(timer);
        if (error === null || error === undefined) resolve();
        else reject(asError(error));
      });
    } catch (error) {
      clearTimeout(timer);
      reject(asError(error));
    }
  });
}

// Connections idle at least as long as one that just failed its validation are presumed dead too (they
// sat through the same outage, NAT timeout or failover): discarded at once rather than pinged one by one.
function discardIdleSince(state: PoolState, lastActive: number): void {
  const free = state.core._freeConnections;
  const stale: CoreConnection[] = [];
  for (let i = 0; i < free.length; i++) {
    const c = free.get(i);
    if (c.lastActiveTime <= lastActive) stale.push(c);
  }
  for (const c of stale) {
    state.stats.discarded++;
    abandon(state, c, undefined, false);
  }
}

/**
 * The pool's `getConnection`, guarded: bounded by `acquireTimeoutMs` while waiting for a free connection
 * (the wait is removed from mysql2's queue, nothing sent); a connection idle longer than
 * `validateAfterIdleMs` is pinged first, and one that fails is discarded (with every connection idle as
 * long) and another taken; connect and validation failures are marked as never sent.
 */
function acquire(state: PoolState, cb: AcquireCallback, validate: boolean): void {
  const { core, settings } = state;
  let done = false;
  let retries = 0;
  const maxRetries = core.config.connectionLimit + 1;
  const finish = (error: unknown, conn?: CoreConnection) => {
    if (done) {
      conn?.release?.();
      return;
    }
    done = true;
    clearTimeout(timer);
    if (conn === undefined) cb(error);
    else cb(null, conn);
  };
  const onTimeout = () => {
    removeQueued(core, onConnection);
    state.stats.acquireTimeouts++;
    finish(
      new MySqlDriverError(
        'ACQUIRE_TIMEOUT',
        `No pooled connection became free within ${settings.acquireTimeoutMs} ms (connectionLimit ${core.config.connectionLimit})`,
      ),
    );
  };
  const timer = settings.acquireTimeoutMs > 0 ? setTimeout(onTimeout, settings.acquireTimeoutMs) : undefined;
  timer?.unref();
  const onConnection: AcquireCallback = (error, conn) => {
    if (done) {
      conn?.release?.();
      return;
    }
    if (conn === undefined) {
      // mysql2's error (a connect or handshake that failed while acquiring): only here is it known that no
      // statement was written, so it is marked — wrapping it would hide mysql2's code and errno from the caller.
      finish(markNotSent(error ?? new Error('No connection')));
      return;
    }
    guard(state, conn);
    const isFresh = fresh.has(conn);
    fresh.delete(conn);
    if (!validate || isFresh || Date.now() - conn.lastActiveTime <= settings.validateAfterIdleMs) {
      finish(null, conn);
      return;
    }
    state.stats.validated++;
    const lastActive = conn.lastActiveTime;
    ping(conn, settings.validationTimeoutMs).then(
      () => {
        conn.lastActiveTime = Date.now();
        finish(null, conn);
      },
      (pingError: unknown) => {
        state.stats.discarded++;
        abandon(state, conn, undefined, false);
        discardIdleSince(state, lastActive);
        if (done) return;
        if (++retries > maxRetries || state.closing) {
          finish(
            new MySqlDriverError('VALIDATION_FAILED', 'Every pooled connection failed its validation ping', {
              cause: pingError,
            }),
          );
          return;
        }
        state.getConnection.call(core, onConnection);
      },
    );
  };
  state.getConnection.call(core, onConnection);
  const queued = core._connectionQueue.length;
  if (queued > state.stats.maxQueued) state.stats.maxQueued = queued;
}

/** What {@link createMySqlPool} needs besides the mysql2 options. */
export interface CreatePoolContext {
  settings: PoolSettings;
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
  };
  states.set(pool, state);
  core.on('connection', (conn: CoreConnection) => {
    fresh.add(conn);
    guard(state, conn);
  });
  // pool.query / pool.execute / getConnection all go through the instance's getConnection.
  core.getConnection = (cb: AcquireCallback) => acquire(state, cb, true);
  return pool;
}

function acquireUnder(state: PoolState, signal: AbortSignal, validate: boolean): Promise<CoreConnection> {
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
    );
  });
}

function queryUnder(state: PoolState, conn: CoreConnection, sql: string, signal: AbortSignal): Promise<void> {
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
    conn.query(sql, (error) => {
      signal.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      if (error === null || error === undefined) resolve();
      else reject(asError(error));
    });
  });
}

/**
 * Makes the pool's first connection (TCP, handshake, authentication) under `signal`; it stays in the pool
 * for the first probe. A failure is marked as never sent.
 */
export async function openPool(pool: MySqlPool, signal: AbortSignal): Promise<void> {
  const state = stateOf(pool);
  const conn = await acquireUnder(state, signal, false);
  fresh.add(conn);
  conn.release?.();
}

/**
 * Runs `sql` (the health check's query) on a pooled connection under `signal`. When every connection is
 * busy the probe uses a side connection of its own, so a saturated pool is not taken for a dead server.
 * An aborted probe abandons its connection (destroyed, statement killed).
 */
export async function probePool(pool: MySqlPool, sql: string, signal: AbortSignal): Promise<void> {
  const state = stateOf(pool);
  const { core } = state;
  if (core._freeConnections.length === 0 && core._allConnections.length >= core.config.connectionLimit) {
    await probeSide(state, sql, signal);
    return;
  }
  const conn = await acquireUnder(state, signal, false);
  try {
    await queryUnder(state, conn, sql, signal);
  } finally {
    if (!isAbandoned(conn)) conn.release?.();
  }
}

async function probeSide(state: PoolState, sql: string, signal: AbortSignal): Promise<void> {
  let conn = state.probeConnection;
  if (conn === undefined || isAbandoned(conn) || conn._fatalError !== null) {
    conn = mysql.createConnection(state.connectionOptions) as unknown as CoreConnection;
    conn.on('error', noop);
    state.probeConnection = conn;
  }
  try {
    await queryUnder(state, conn, sql, signal);
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
  state.killer.close();
  const side = state.probeConnection;
  state.probeConnection = undefined;
  if (side !== undefined) {
    side.destroy();
    side.stream.destroy();
  }
  if (state.core._allConnections.length === 0) {
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
