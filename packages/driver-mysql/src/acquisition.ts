import type { AttemptContext, Timed } from '@reconnect/core';
import { runUnder } from './attempt-pool.js';
import { serverErrno } from './classify.js';
import { markNotSent, MySqlDriverError } from './errors.js';
import { abandon, guard } from './guard.js';
import { removeQueued, type AcquireCallback, type CoreConnection } from './mysql2-internals.js';
import type { PoolState } from './pool-state.js';

// One call's wait for a connection when none is free (or the free one must be validated): the wait in mysql2's queue
// bounded (by the call's attempt, see attempt-pool.ts), idle connections validated, new connections paced, and what
// each failure says about whether anything was sent and who caused it. acquire.ts decides when one is needed.

/** Connections mysql2 has just opened: no validation ping before their first use. */
export const fresh = new WeakSet<CoreConnection>();

/** `x` as an Error (mysql2 may call back with anything). */
export const asError = (x: unknown): Error =>
  x instanceof Error ? x : new Error(typeof x === 'string' ? x : 'mysql2 failed without an Error');

/** Marks a connection mysql2 has just opened: it is not pinged before its first use. */
export function markFresh(conn: CoreConnection): void {
  fresh.add(conn);
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
 * How long a call under `attempt` may wait in the pool's own queue: half of the attempt's time, so that a statement
 * is never sent with only the end of its attempt left (cut by the attempt's timer, it would count as the server
 * failing to answer when the time went on the client's own queue); 0 (no limit) for an attempt without one.
 */
function queueShareMs(attempt: Pick<AttemptContext, 'timeoutMs'>): number {
  return Number.isFinite(attempt.timeoutMs) ? Math.max(1, Math.floor(attempt.timeoutMs / 2)) : 0;
}

/**
 * Server error numbers that mean "busy" at connect: too many connections (1040 `ER_CON_COUNT_ERROR`, 1203
 * `ER_TOO_MANY_USER_CONNECTIONS`). They pass as other clients disconnect, so a pool backs off and tries again
 * rather than failing its callers; the account's own quotas (1226) do not pass within a call and are not here.
 */
export const busyErrnos: readonly number[] = [1040, 1203];

/** Whether `error` is the server refusing a new connection as busy ({@link busyErrnos}). */
export function isServerBusy(error: unknown): boolean {
  return busyErrnos.includes(serverErrno(error) ?? 0);
}

/** Whether the pool has no connection at all: it is reconnecting, and the pacer's ceiling does not hold it back. */
const isEmpty = (state: PoolState): boolean => state.core._allConnections.length === 0;

/** The calls waiting in mysql2's queue, plus `asking` (the call that asks now, not in it): a refill's backlog. */
const waiting = (state: PoolState, asking: number): number => state.core._connectionQueue.length + asking;

/** Whether mysql2, asked for a connection now, would open a new one (none free, room for another). */
function wouldOpen(state: PoolState): boolean {
  const { core } = state;
  const limit = core.config.connectionLimit;
  return (
    !core._closed &&
    core._freeConnections.length === 0 &&
    (limit === 0 || core._allConnections.length < limit)
  );
}

/** Opens connections for calls the pacer held back, as fast as it lets them, while they wait and there is room. */
function wake(state: PoolState): void {
  state.wake = undefined;
  const queue = state.core._connectionQueue;
  while (queue.length > 0 && wouldOpen(state) && state.pacer.tryOpen(isEmpty(state), waiting(state, 0))) {
    const cb = queue.shift();
    if (cb !== undefined) state.getConnection.call(state.core, cb);
  }
  if (queue.length > 0 && wouldOpen(state)) armWake(state);
}

function armWake(state: PoolState): void {
  if (state.wake !== undefined || state.closing) return;
  // Not unref'd: a call waiting for this connection is the program's work, like a socket it waits on.
  state.wake = setTimeout(
    () => wake(state),
    Math.max(1, state.pacer.waitMs(isEmpty(state), waiting(state, 0))),
  );
}

/** Stops opening connections for held-back calls (the pool is closing: mysql2 fails its queue). */
export function stopWaking(state: PoolState): void {
  clearTimeout(state.wake);
  state.wake = undefined;
}

/**
 * Asks mysql2 for a connection, unless that would open one the pacer holds back (its ceiling per second, a busy
 * back-off): then the call waits in mysql2's own queue, as it would for a free connection — served by the first
 * connection released, or by a new one when the pacer lets it (bounded like any wait there, see {@link acquire}).
 * `front`: a call mysql2 took from the head of its queue goes back to the head.
 */
export function requestConnection(state: PoolState, cb: AcquireCallback, front: boolean): void {
  if (!wouldOpen(state) || state.pacer.tryOpen(isEmpty(state), waiting(state, 1))) {
    state.getConnection.call(state.core, cb);
    // The calls held back for the pool's settling may have a refill now (the pacer's, after an outage): not at its end.
    if (state.wake !== undefined && state.pacer.waitMs(false, waiting(state, 0)) === 0) {
      stopWaking(state);
      wake(state);
    }
    return;
  }
  const { core } = state;
  if (!front && core.config.queueLimit > 0 && core._connectionQueue.length >= core.config.queueLimit) {
    cb(new Error('Queue limit reached.'));
    return;
  }
  state.stats.paced++;
  if (front) core._connectionQueue.unshift(cb);
  else core._connectionQueue.push(cb);
  armWake(state);
}

/** The acquisition behind a callback this module handed to mysql2 (see {@link poolGetConnection}). */
export const acquisitionKey = Symbol('reconnect.acquisition');
export type Tracked = AcquireCallback & { [acquisitionKey]?: Acquisition };

/**
 * One call's wait for a connection, as an object (its fields and methods) rather than the five closures it used to
 * be: the wait in mysql2's queue bounded, the busy back-off, validation, who caused each failure. Only calls that
 * find no free connection (or one to validate) make one; see {@link takeFree} for the rest.
 */
export class Acquisition implements Timed {
  done = false;
  expired = false;
  retries = 0;
  limitMs: number;
  readonly startedAt: number;
  // Its link in the pool's TimeoutList while its wait has a time limit (no timer of its own).
  at = 0;
  prev: Timed | undefined = undefined;
  next: Timed | undefined = undefined;
  armed = false;
  /** What mysql2 calls back: the one function per acquisition, marked so a re-request is known for ours. */
  readonly onConnection: Tracked;

  constructor(
    readonly state: PoolState,
    readonly cb: AcquireCallback,
    readonly validate: boolean,
    readonly attempt: AttemptContext | undefined,
    readonly ownLimit: boolean,
    readonly onBusy: 'wait' | 'fail',
  ) {
    const { core, settings } = state;
    // An operation's call that finds a free connection (or room for a new one) never waits in the queue: no timer
    // and no clock reading for it. A call outside an operation keeps its bound on the handshake too.
    const free = core._freeConnections.length > 0;
    // A call the pacer will hold back waits in the queue like one that finds every connection busy.
    const willQueue =
      !free && (!wouldOpen(state) || state.pacer.waitMs(isEmpty(state), waiting(state, 1)) > 0);
    // `ownLimit` false: the caller's signal is the only bound (the first connect, bounded by connectTimeout).
    this.limitMs = !ownLimit
      ? 0
      : attempt === undefined
        ? settings.acquireTimeoutMs
        : willQueue
          ? queueShareMs(attempt)
          : 0;
    // A call that opens a connection reads the clock too: a busy refusal may send it to the queue afterwards.
    this.startedAt = this.limitMs > 0 || !free ? performance.now() : 0;
    const onConnection: Tracked = (error, conn) => this.connected(error, conn);
    onConnection[acquisitionKey] = this;
    this.onConnection = onConnection;
    if (this.limitMs > 0) this.arm(this.limitMs);
  }

  arm(ms: number): void {
    this.armed = true;
    this.at = this.startedAt + this.limitMs;
    this.state.waits.add(this, ms);
  }

  /** Hands the outcome to mysql2's callback, the call's attempt entering while mysql2 adds its statement. */
  finish(error: unknown, conn?: CoreConnection): void {
    if (this.done) {
      conn?.release?.();
      return;
    }
    this.done = true;
    this.state.waits.remove(this);
    if (conn === undefined) this.cb(error);
    else runUnder(this.attempt, this.cb, null, conn);
  }

  timedOut(code: 'ACQUIRE_TIMEOUT' | 'CONNECT_TIMEOUT'): void {
    const { state, attempt, limitMs } = this;
    const { core } = state;
    state.stats.acquireTimeouts++;
    const within =
      attempt === undefined
        ? `${limitMs} ms`
        : `${limitMs} ms, half of its attempt's ${Math.round(attempt.timeoutMs)} ms`;
    const pool = `connectionLimit ${core.config.connectionLimit}`;
    this.finish(
      code === 'ACQUIRE_TIMEOUT'
        ? new MySqlDriverError(code, `No pooled connection became free within ${within} (${pool})`)
        : new MySqlDriverError(
            code,
            `The new pooled connection made for this call did not finish its handshake within ${within} (${pool})`,
          ),
    );
  }

  /** Its time in the queue is up (the pool's TimeoutList). */
  expire(): void {
    this.expired = true;
    if (removeQueued(this.state.core, this.onConnection)) this.timedOut('ACQUIRE_TIMEOUT');
    else if (this.attempt === undefined) this.timedOut('CONNECT_TIMEOUT');
  }

  /** Asks mysql2 for a connection; once the call's share of the queue is spent it does not wait there again. */
  request(): void {
    requestConnection(this.state, this.onConnection, false);
    if (this.expired && !this.done && removeQueued(this.state.core, this.onConnection))
      this.timedOut('ACQUIRE_TIMEOUT');
  }

  // The server refused the new connection as busy: nothing was sent and nothing is wrong with the server but its
  // load. The pool backs off (no new connection for a jittered while) and the call waits in the queue for a
  // connection that exists to come free, or for the next one the pacer opens — within its share of its attempt
  // (armed now if the call had none: it found room for a connection and never meant to queue).
  waitOutBusy(error: unknown): void {
    const { state, attempt } = this;
    state.stats.serverBusy++;
    state.lastBusy = markNotSent(error);
    state.pacer.busy();
    if (!this.armed && this.ownLimit && attempt !== undefined) {
      this.limitMs = queueShareMs(attempt);
      if (this.limitMs > 0) {
        const left = this.limitMs - (performance.now() - this.startedAt);
        if (left <= 0) {
          this.expired = true;
          this.timedOut('ACQUIRE_TIMEOUT');
          return;
        }
        this.arm(left);
      }
    }
    this.request();
  }

  connected(error: unknown, conn: CoreConnection | undefined): void {
    const { state } = this;
    if (this.done) {
      conn?.release?.();
      return;
    }
    if (conn === undefined) {
      if (this.onBusy === 'wait' && !state.closing && isServerBusy(error)) {
        this.waitOutBusy(error);
        return;
      }
      // mysql2's error (a connect or handshake that failed while acquiring): only here is it known that no
      // statement was written, so it is marked — wrapping it would hide mysql2's code and errno from the caller.
      this.finish(markNotSent(error ?? new Error('No connection')));
      return;
    }
    guard(state, conn);
    const isFresh = fresh.has(conn);
    fresh.delete(conn);
    // A connection handed over from the queue after the call's share ran out, before its timer could say so (a busy
    // event loop runs I/O callbacks before overdue timers): given back rather than used with too little of the
    // attempt left.
    if (
      !isFresh &&
      this.attempt !== undefined &&
      this.limitMs > 0 &&
      performance.now() - this.startedAt >= this.limitMs
    ) {
      this.expired = true;
      conn.release?.();
      this.timedOut('ACQUIRE_TIMEOUT');
      return;
    }
    if (!this.validate || isFresh || Date.now() - conn.lastActiveTime <= state.settings.validateAfterIdleMs) {
      this.finish(null, conn);
      return;
    }
    this.validateThenFinish(conn);
  }

  validateThenFinish(conn: CoreConnection): void {
    const { state } = this;
    state.stats.validated++;
    const lastActive = conn.lastActiveTime;
    ping(conn, state.settings.validationTimeoutMs).then(
      () => {
        conn.lastActiveTime = Date.now();
        this.finish(null, conn);
      },
      (pingError: unknown) => {
        state.stats.discarded++;
        abandon(state, conn, undefined, false);
        discardIdleSince(state, lastActive);
        if (this.done) return;
        if (++this.retries > state.core.config.connectionLimit + 1 || state.closing) {
          this.finish(
            new MySqlDriverError('VALIDATION_FAILED', 'Every pooled connection failed its validation ping', {
              cause: pingError,
            }),
          );
          return;
        }
        this.request();
      },
    );
  }
}
