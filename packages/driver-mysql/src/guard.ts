import { AttemptEndedError, type AttemptContext } from '@reconnect/core';
import { enteringAttempt } from './attempt-pool.js';
import { isReadOnlyError } from './classify.js';
import { MySqlDriverError } from './errors.js';
import {
  failCommand,
  indexIn,
  isStatement,
  noop,
  type Command,
  type CoreConnection,
} from './mysql2-internals.js';
import type { PoolState } from './pool-state.js';

// The guards on every pooled connection: statement timeouts, statements following their attempt, read-only
// connections destroyed at release, and abandonment (destroy + KILL QUERY) of a connection with a statement in flight.

const guarded = new WeakSet<CoreConnection>();
const readOnly = new WeakSet<CoreConnection>();
const abandoned = new WeakSet<CoreConnection>();
/** Connections the client closed before any failure on them (see closedByClient). */
const clientClosed = new WeakSet<CoreConnection>();

/** Whether the driver took `conn` out of service ({@link abandon}). */
export function isAbandoned(conn: CoreConnection): boolean {
  return abandoned.has(conn);
}

/**
 * Records that the client is closing `conn` (its pool ends for a reconnect, the driver takes it out of service)
 * while nothing had failed on it: a statement added to it afterwards is refused as `CLOSED_BY_CLIENT` (local),
 * not mysql2's "Can't add new command when connection is in closed state", which after a reset or the server's FIN
 * stays a plain not-sent connection failure.
 */
export function closedByClient(conn: CoreConnection): void {
  if (conn._fatalError == null && conn._protocolError == null) clientClosed.add(conn);
}

/**
 * Takes a connection out of service at once: removed from the pool, its socket destroyed (not ended: a hung
 * server never answers the FIN), commands queued behind the active one failed as never sent (mysql2's
 * destroy() would leave them pending for ever), and — when `kill` — the abandoned statement stopped on the
 * server with `KILL QUERY <thread id>` from another connection.
 */
export function abandon(
  state: PoolState,
  conn: CoreConnection,
  active: Command | undefined,
  kill: boolean,
): void {
  if (abandoned.has(conn)) return;
  abandoned.add(conn);
  state.stats.abandoned++;
  const threadId = conn.threadId;
  const queued: Command[] = [];
  for (let cmd = conn._commands.shift(); cmd !== undefined; cmd = conn._commands.shift()) queued.push(cmd);
  const current = conn._command ?? undefined;
  conn._command = null;
  closedByClient(conn);
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
      new MySqlDriverError(
        'CONNECTION_DESTROYED',
        'Not sent: the connection was destroyed while this statement waited behind another',
        { fatal: true },
      ),
    );
  if (kill && threadId !== null && !state.closing) state.killer.kill(threadId);
}

/**
 * A statement sent under an attempt (through the view of attempt-pool.ts) follows the attempt's signal: sent
 * after the attempt ended, it is failed as never sent (core's AttemptEndedError); when the signal aborts while it
 * runs or waits on its connection, the connection is abandoned (destroyed, the statement killed) at once. Returns
 * whether it was sent.
 *
 * `follower` is the connection's own abort listener (made once per connection, see guard): added to the attempt's
 * listeners for each statement and removed when that statement's result arrives, so a listener still there when the
 * attempt aborts means one of its statements is still on this connection. A statement without a result callback
 * (mysql2's event-emitter mode) is never seen to settle: it gets a listener of its own that checks it is still here.
 */
function followAttempt(
  state: PoolState,
  conn: CoreConnection,
  cmd: Command,
  attempt: AttemptContext,
  follower: () => void,
): boolean {
  if (attempt.aborted) {
    failCommand(cmd, new AttemptEndedError());
    // What mysql2 waits for to release a pooled connection: the command never ran, the connection is healthy. Not
    // now: pool.query / pool.execute listen for it only once addCommand has returned (`conn.query(cmd).once('end')`),
    // and an 'end' emitted before that left the connection leased for ever.
    process.nextTick(() => cmd.emit('end'));
    return false;
  }
  if (typeof cmd.onResult === 'function') {
    // The attempt's own abort hook: no AbortController, no event listener and no closure per statement.
    attempt.onAbort(follower);
    return true;
  }
  attempt.onAbort(() => {
    if (conn._command === cmd || indexIn(conn._commands, cmd) >= 0) abandon(state, conn, undefined, true);
  });
  return true;
}

/**
 * Installs the driver's guards on a pooled connection, once: a statement sent under an attempt follows the
 * attempt's signal (see followAttempt); any other gets the policy's timeout unless it sets its own, and when
 * that timeout fires the connection is abandoned (destroyed, its statement killed) before the caller sees the
 * error, so it never returns to the pool with a statement in flight; a read-only error (1290 / 1792 / 1836)
 * marks it to be destroyed instead of released.
 */
export function guard(state: PoolState, conn: CoreConnection): void {
  if (guarded.has(conn)) return;
  guarded.add(conn);
  // mysql2 emits 'error' on pooled connections after its own once('error') listener is gone; unheard, a
  // second one would crash the process. The pool and the lifecycle learn of it from the next call.
  conn.on('error', noop);
  const add = conn.addCommand;
  const timeoutMs = state.settings.queryTimeoutMs;
  // This connection's listener on the attempts of the statements it runs (see followAttempt).
  const follower = (): void => abandon(state, conn, undefined, true);
  conn.addCommand = function addCommand(this: CoreConnection, cmd: Command): Command {
    if (isStatement(cmd)) {
      // The attempt the statement was sent under (attempt-pool.ts), when it came through an operation's view.
      const attempt = enteringAttempt();
      if (attempt !== undefined) {
        if (!followAttempt(state, conn, cmd, attempt, follower)) return cmd;
      } else if (cmd.timeout === undefined && timeoutMs > 0) cmd.timeout = timeoutMs;
      const onResult = cmd.onResult;
      if (typeof onResult === 'function') {
        cmd.onResult = function onGuardedResult(
          this: unknown,
          error: unknown,
          rows?: unknown,
          fields?: unknown,
        ) {
          attempt?.offAbort(follower);
          if (error !== null && error !== undefined) {
            if ((error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT')
              abandon(state, conn, cmd, true);
            else if (isReadOnlyError(error)) readOnly.add(conn);
          }
          onResult.call(this, error, rows, fields);
        };
      }
    }
    return add.call(this, cmd);
  };
  const release = conn.release;
  if (release !== undefined) {
    conn.release = function guardedRelease(this: CoreConnection): void {
      // A node that answered "read-only" was demoted (a failover): the next caller gets a fresh connection.
      if (readOnly.has(conn)) {
        closedByClient(conn);
        conn.destroy();
      } else release.call(this);
    };
  }
  // mysql2 makes addCommand this once the connection is closed (by close(), end() or a fatal error).
  const closedState = conn._addCommandClosedState;
  conn._addCommandClosedState = function addCommandWhenClosed(this: CoreConnection, cmd: Command): unknown {
    if (!clientClosed.has(this)) return closedState.call(this, cmd);
    const error = new MySqlDriverError(
      'CLOSED_BY_CLIENT',
      'Not sent: the client had closed this connection (its pool ended for a reconnect, or the driver took it out of service)',
      { fatal: true },
    );
    // As mysql2's own: the command's callback, else the connection's 'error' (heard: see above).
    if (typeof cmd.onResult === 'function') cmd.onResult(error);
    else this.emit('error', error);
    return undefined;
  };
}
