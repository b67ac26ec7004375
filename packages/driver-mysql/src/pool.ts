import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { abortReason, closeWithin } from '@reconnect/core';
import mysql, { type ConnectionOptions, type PoolOptions } from 'mysql2';
import { createPool, type Pool } from 'mysql2/promise';
import { isReadOnlyError } from './classify.js';
import { markNotSent, MySqlDriverError } from './errors.js';

import type { PoolSettings } from './policy-mapping.js';

/** The client an operation receives: a mysql2 promise Pool (`query`, `execute`, `getConnection`). */
export type MySqlPool = Pool;

// mysql2 internals the driver relies on (lib/base/pool.js, lib/base/connection.js, lib/ring_queue.js in
// 3.24); each use is pinned by a test against a real server.
interface RingQueue<T> {
  readonly length: number;
  get(index: number): T;
  removeOne(index: number): void;
  shift(): T | undefined;
}
interface Command extends EventEmitter {
  timeout?: number;
  onResult?: ((error: unknown, ...rest: unknown[]) => void) | null;
}
interface CoreConnection extends EventEmitter {
  threadId: number | null;
  lastActiveTime: number;
  stream: Socket;
  _commands: RingQueue<Command>;
  _command: Command | null | undefined;
  _fatalError: unknown;
  addCommand: (this: CoreConnection, cmd: Command) => Command;
  ping(cb: (error: unknown) => void): unknown;
  query(sql: string, cb: (error: unknown, rows?: unknown) => void): Command;
  destroy(): void;
  release?: (this: CoreConnection) => void;
}
type AcquireCallback = (error: unknown, connection?: CoreConnection) => void;
interface CorePool extends EventEmitter {
  config: { connectionLimit: number };
  _allConnections: RingQueue<CoreConnection>;
  _freeConnections: RingQueue<CoreConnection>;
  _connectionQueue: RingQueue<AcquireCallback>;
  _closed: boolean;
  getConnection: (this: CorePool, cb: AcquireCallback) => void;
}

/** Counters of what the driver did to one pool, for tests, logs and the README's figures. */
export interface MySqlPoolStats {
  /** Idle connections pinged before reuse. */
  validated: number;
  /** Connections discarded because their validation ping failed. */
  discarded: number;
  /** Connections destroyed with a statement in flight (its timeout fired, or a probe was aborted). */
  abandoned: number;
  /** `KILL QUERY` statements the server accepted. */
  killed: number;
  /** `KILL QUERY` attempts that failed or timed out (the server did not answer). */
  killFailed: number;
  /** Operations that gave up waiting for a free pooled connection. */
  acquireTimeouts: number;
  /** The longest the pool's own wait queue has been. */
  maxQueued: number;
}

interface PoolState {
  readonly core: CorePool;
  readonly settings: PoolSettings;
  readonly connectionOptions: ConnectionOptions;
  readonly stats: MySqlPoolStats;
  readonly killer: Killer;
  readonly getConnection: (this: CorePool, cb: AcquireCallback) => void;
  closing: boolean;
  probeConnection: CoreConnection | undefined;
}

const states = new WeakMap<Pool, PoolState>();
const guarded = new WeakSet<CoreConnection>();
const fresh = new WeakSet<CoreConnection>();
const readOnly = new WeakSet<CoreConnection>();
const abandoned = new WeakSet<CoreConnection>();
const noop = (): void => {};
const asError = (x: unknown): Error =>
  x instanceof Error ? x : new Error(typeof x === 'string' ? x : 'mysql2 failed without an Error');

function stateOf(pool: Pool): PoolState {
  const state = states.get(pool);
  if (state === undefined) throw new TypeError('Not a pool created by @reconnect/driver-mysql');
  return state;
}

/** What the driver did to `pool` so far (a copy). */
export function mysqlPoolStats(pool: Pool): MySqlPoolStats {
  return { ...stateOf(pool).stats };
}

const isStatement = (cmd: Command): boolean => {
  const name = cmd.constructor.name;
  return name === 'Query' || name === 'Execute';
};

function failCommand(cmd: Command, error: unknown): void {
  try {
    if (typeof cmd.onResult === 'function') cmd.onResult(error);
    else if (cmd.listenerCount('error') > 0) cmd.emit('error', error);
  } catch {
    // a user callback that throws must not stop the others from settling
  }
}

/**
 * Takes a connection out of service at once: removed from the pool, its socket destroyed (not ended: a hung
 * server never answers the FIN), commands queued behind the active one failed as never sent (mysql2's
 * destroy() would leave them pending for ever), and — when `kill` — the abandoned statement stopped on the
 * server with `KILL QUERY <thread id>` from another connection.
 */
function abandon(state: PoolState, conn: CoreConnection, active: Command | undefined, kill: boolean): void {
  if (abandoned.has(conn)) return;
  abandoned.add(conn);
  state.stats.abandoned++;
  const threadId = conn.threadId;
  const queued: Command[] = [];
  for (let cmd = conn._commands.shift(); cmd !== undefined; cmd = conn._commands.shift()) queued.push(cmd);
  const current = conn._command ?? undefined;
  conn._command = null;
  try {
    conn.destroy();
  } finally {
    conn.stream.destroy();
  }
  if (current !== undefined && current !== active)
    failCommand(
      current,
      new MySqlDriverError('QUERY_ABANDONED', 'The statement was abandoned: its connection was destroyed', {
        fatal: true,
      }),
    );
  for (const cmd of queued)
    failCommand(
      cmd,
      markNotSent(
        new MySqlDriverError(
          'CONNECTION_DESTROYED',
          'Not sent: the connection was destroyed while this statement waited behind another',
          { fatal: true },
        ),
      ),
    );
  if (kill && threadId !== null && !state.closing) state.killer.kill(threadId);
}

/**
 * Installs the driver's guards on a pooled connection, once: every statement gets the policy's timeout
 * unless it sets its own; when that timeout fires the connection is abandoned (destroyed, its statement
 * killed) before the caller sees the error, so it never returns to the pool with a statement in flight;
 * a read-only error (1290 / 1792 / 1836) marks it to be destroyed instead of released.
 */
function guard(state: PoolState, conn: CoreConnection): void {
  if (guarded.has(conn)) return;
  guarded.add(conn);
  // mysql2 emits 'error' on pooled connections after its own once('error') listener is gone; unheard, a
  // second one would crash the process. The pool and the lifecycle learn of it from the next call.
  conn.on('error', noop);
  const add = conn.addCommand;
  const timeoutMs = state.settings.queryTimeoutMs;
  conn.addCommand = function addCommand(this: CoreConnection, cmd: Command): Command {
    if (isStatement(cmd)) {
      if (cmd.timeout === undefined && timeoutMs > 0) cmd.timeout = timeoutMs;
      const onResult = cmd.onResult;
      if (typeof onResult === 'function') {
        cmd.onResult = function onGuardedResult(this: unknown, error: unknown, ...rest: unknown[]) {
          if (error !== null && error !== undefined) {
            if ((error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT')
              abandon(state, conn, cmd, true);
            else if (isReadOnlyError(error)) readOnly.add(conn);
          }
          onResult.call(this, error, ...rest);
        };
      }
    }
    return add.call(this, cmd);
  };
  const release = conn.release;
  if (release !== undefined) {
    conn.release = function guardedRelease(this: CoreConnection): void {
      // A node that answered "read-only" was demoted (a failover): the next caller gets a fresh connection.
      if (readOnly.has(conn)) conn.destroy();
      else release.call(this);
    };
  }
}

function removeQueued(core: CorePool, cb: AcquireCallback): void {
  const queue = core._connectionQueue;
  for (let i = 0; i < queue.length; i++) {
    if (queue.get(i) === cb) {
      queue.removeOne(i);
      return;
    }
  }
}

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
      markNotSent(
        new MySqlDriverError(
          'ACQUIRE_TIMEOUT',
          `No pooled connection became free within ${settings.acquireTimeoutMs} ms (connectionLimit ${core.config.connectionLimit})`,
        ),
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
            markNotSent(
              new MySqlDriverError(
                'VALIDATION_FAILED',
                'Every pooled connection failed its validation ping',
                {
                  cause: pingError,
                },
              ),
            ),
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

/** One connection at a time sends `KILL QUERY` for abandoned statements; bounded by the connect timeout. */
class Killer {
  readonly #options: ConnectionOptions;
  readonly #timeoutMs: number;
  readonly #stats: MySqlPoolStats;
  #queue: number[] = [];
  #running: Promise<void> | undefined;
  #current: CoreConnection | undefined;
  #closed = false;

  constructor(options: ConnectionOptions, timeoutMs: number, stats: MySqlPoolStats) {
    this.#options = { ...options, connectTimeout: timeoutMs };
    this.#timeoutMs = timeoutMs;
    this.#stats = stats;
  }

  kill(threadId: number): void {
    if (this.#closed) return;
    this.#queue.push(threadId);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when no kill is pending (for tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
    const c = this.#current;
    if (c !== undefined) {
      c.destroy();
      c.stream.destroy();
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const ids = this.#queue.splice(0);
      await this.#killAll(ids);
    }
  }

  #killAll(ids: number[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const conn = mysql.createConnection(this.#options) as unknown as CoreConnection;
      this.#current = conn;
      conn.on('error', noop);
      let pending = ids.length;
      let settled = false;
      const end = (failedRest: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (failedRest) this.#stats.killFailed += pending;
        this.#current = undefined;
        conn.destroy();
        conn.stream.destroy();
        resolve();
      };
      // A hung server accepts the TCP connection and never answers: bounded like one connect + one statement.
      const timer = setTimeout(() => end(true), this.#timeoutMs * 2);
      timer.unref();
      for (const id of ids) {
        conn.query(`KILL QUERY ${Number(id)}`, (error) => {
          pending--;
          // 1094 ER_NO_SUCH_THREAD: the statement (and its thread) already ended — nothing left to stop.
          const errno = (error as { errno?: unknown } | null)?.errno;
          if (error === null || error === undefined || errno === 1094) this.#stats.killed++;
          else this.#stats.killFailed++;
          if (pending === 0) end(false);
        });
      }
    });
  }
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
    if (!abandoned.has(conn)) conn.release?.();
  }
}

async function probeSide(state: PoolState, sql: string, signal: AbortSignal): Promise<void> {
  let conn = state.probeConnection;
  if (conn === undefined || abandoned.has(conn) || conn._fatalError !== null) {
    conn = mysql.createConnection(state.connectionOptions) as unknown as CoreConnection;
    conn.on('error', noop);
    state.probeConnection = conn;
  }
  try {
    await queryUnder(state, conn, sql, signal);
  } catch (error) {
    if (state.probeConnection === conn) state.probeConnection = undefined;
    if (!abandoned.has(conn)) abandon(state, conn, undefined, false);
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
