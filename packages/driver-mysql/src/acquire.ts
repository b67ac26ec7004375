import diagnosticsChannel from 'node:diagnostics_channel';
import type { AttemptContext } from '@reconnect/core';
import { enteringAttempt, runUnder } from './attempt-pool.js';
import { Acquisition, acquisitionKey, fresh, requestConnection, type Tracked } from './acquisition.js';
import { guard } from './guard.js';
import type { AcquireCallback, CoreConnection } from './mysql2-internals.js';
import type { PoolState } from './pool-state.js';

export { asError, busyErrnos, isServerBusy, markFresh, stopWaking } from './acquisition.js';

// Taking a connection from the pool: a free one that needs no check is handed over as mysql2 would, with nothing of
// the driver's allocated; any other call gets an Acquisition (acquisition.ts): its wait bounded by the call's attempt,
// validation, the pacer, who caused each failure.

/**
 * The pool's `getConnection`, guarded: the wait in mysql2's queue for a free connection is bounded (removed from
 * the queue, nothing sent); a connection idle longer than `validateAfterIdleMs` is pinged first, and one that fails
 * is discarded (with every connection idle as long) and another taken; connect and validation failures are marked
 * as never sent.
 *
 * A call of an operation (`attempt`, see attempt-pool.ts) waits in the queue for at most {@link queueShareMs} and
 * then fails `ACQUIRE_TIMEOUT`, local: the client's own queue, not the server, kept it waiting. A wait on the server
 * itself (the handshake of a connection mysql2 is making for it, a validation ping) is not cut: it ends with the
 * server's answer, its own timeout, or the attempt. A call outside an operation waits at most `acquireTimeoutMs`,
 * whatever it waits on: `ACQUIRE_TIMEOUT` in the queue, `CONNECT_TIMEOUT` (not local) on the server.
 */
export function acquire(
  state: PoolState,
  cb: AcquireCallback,
  validate: boolean,
  attempt: AttemptContext | undefined = enteringAttempt(),
  ownLimit = true,
  onBusy: 'wait' | 'fail' = 'wait',
): void {
  new Acquisition(state, cb, validate, attempt, ownLimit, onBusy).request();
  const queued = state.core._connectionQueue.length;
  if (queued > state.stats.maxQueued) state.stats.maxQueued = queued;
}

// mysql2 traces its pool's getConnection on this channel (lib/tracing.js) when someone subscribes: then every call
// goes through mysql2's own getConnection, as without the driver.
const poolConnectChannel = diagnosticsChannel.tracingChannel('mysql2:pool:connect');
const traced = (): boolean =>
  (poolConnectChannel as { hasSubscribers?: boolean }).hasSubscribers ??
  poolConnectChannel.start.hasSubscribers;

function handOver(conn: CoreConnection, cb: AcquireCallback, attempt: AttemptContext | undefined): void {
  conn._released = false;
  runUnder(attempt, cb, null, conn);
}

/**
 * The common case without an acquisition: a free connection that needs no validation ping is taken as mysql2 takes
 * it (the most recently released, `acquire` emitted, handed over on the next tick), with no timer, no closure and no
 * object of the driver's. Whether it was.
 */
function takeFree(state: PoolState, cb: AcquireCallback): boolean {
  const { core } = state;
  const free = core._freeConnections;
  const n = free.length;
  if (n === 0 || core._closed || traced()) return false;
  const conn = free.get(n - 1);
  const isFresh = fresh.has(conn);
  if (!isFresh && Date.now() - conn.lastActiveTime > state.settings.validateAfterIdleMs) return false;
  free.pop();
  if (isFresh) fresh.delete(conn);
  guard(state, conn);
  core.emit('acquire', conn);
  process.nextTick(handOver, conn, cb, enteringAttempt());
  return true;
}

/**
 * The pool's `getConnection` (what `pool.query`, `pool.execute` and `pool.getConnection` all go through), guarded by
 * {@link acquire} — or, for a free connection that needs no check, {@link takeFree}. mysql2 itself calls it again for
 * a queued call when a connection leaves the pool: that call's acquisition is already under way (its timer, its
 * validation), so it goes back to mysql2's own as it is, where its timeout can still find it — or to the head of the
 * queue when the new connection it would open is held back.
 */
export function poolGetConnection(state: PoolState): (cb: AcquireCallback) => void {
  return (cb) => {
    if ((cb as Tracked)[acquisitionKey] !== undefined) requestConnection(state, cb, true);
    else if (!takeFree(state, cb)) acquire(state, cb, true);
  };
}
