import { AttemptEndedError, HedgeCancelledError, type AttemptContext } from '@reconnect/core';
import { enteringAttempt } from './attempt-pool.js';
import { isReadOnlyError } from './classify.js';
import { MySqlDriverError } from './errors.js';
import { failCommand, isStatement, noop, type Command, type CoreConnection } from './mysql2-internals.js';
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
 * listeners for each statement (the statement keeps its attempt in a field) and removed when that statement's result
 * arrives. Called, it abandons the connection only if a statement of an ended attempt is still running or queued on
 * it: a statement whose result never reaches the guard (mysql2's event-emitter mode, an execute whose prepare failed)
 * leaves its listener behind, and that must not destroy the connection once it serves another statement.
 */
function followAttempt(cmd: Command, attempt: AttemptContext, follower: () => void): boolean {
  if (attempt.aborted) {
    failCommand(cmd, new AttemptEndedError());
    // What mysql2 waits for to release a pooled connection: the command never ran, the connection is healthy. Not
    // now: pool.query / pool.execute listen for it only once addCommand has returned (`conn.query(cmd).once('end')`),
    // and an 'end' emitted before that left the connection leased for ever.
    process.nextTick(() => cmd.emit('end'));
    return false;
  }
  // The attempt's own abort hook: no AbortController, no event listener and no closure per statement.
  (cmd as GuardedCommand)[attemptOf] = attempt;
  attempt.onAbort(follower);
  return true;
}

/** Whether a statement of an attempt that has ended is running or queued on `conn`. */
function runsAbortedStatement(conn: CoreConnection): boolean {
  const current = conn._command as Partial<GuardedCommand> | null | undefined;
  if (current?.[attemptOf]?.aborted === true) return true;
  const queued = conn._commands;
  for (let i = 0; i < queued.length; i++)
    if ((queued.get(i) as Partial<GuardedCommand>)[attemptOf]?.aborted === true) return true;
  return false;
}

/**
 * How long the statement of a hedged read that lost (another attempt answered first) may run on before it is
 * stopped: a short read ends within it and keeps its connection; a long or hung one is abandoned and killed.
 */
export const LOST_HEDGE_GRACE_MS = 100;

/**
 * A hedged read's loser (its attempt cancelled with a HedgeCancelledError) running the only statement of its attempt
 * on `conn`: left to finish within {@link LOST_HEDGE_GRACE_MS}, its answer dropped, its connection back in the pool
 * when it ends as after any statement; still running then, abandoned (destroyed, KILL QUERY) as any. Killing it at
 * once cost two new connections per hedge (the KILL's own and the pooled one's replacement, paced at `connectRate`):
 * at 1 000 reads a second, 5 % hedged, that emptied the slow replica's pool and every read queued behind it (p99
 * 290 ms). A statement that outlives the grace is killed as before, and a kill cannot hit the wrong statement: the
 * connection is destroyed first. False (nothing done) when `conn` does not run such a statement.
 */
function spareLostHedge(state: PoolState, conn: CoreConnection): boolean {
  const current = conn._command as Partial<GuardedCommand> | null | undefined;
  if (current === null || current === undefined) return false;
  if (!(current[attemptOf]?.reason instanceof HedgeCancelledError)) return false;
  const queued = conn._commands;
  for (let i = 0; i < queued.length; i++)
    if ((queued.get(i) as Partial<GuardedCommand>)[attemptOf]?.aborted === true) return false;
  const timer = setTimeout(() => {
    if (conn._command === current) abandon(state, conn, undefined, true);
  }, LOST_HEDGE_GRACE_MS);
  timer.unref();
  return true;
}

/** What the guard of one connection keeps, shared by its statements. */
interface ConnGuard {
  readonly state: PoolState;
  readonly conn: CoreConnection;
  /** The connection's listener on its statements' attempts (see followAttempt). */
  readonly follower: () => void;
}

// Where a guarded statement keeps its own result callback, its connection's guard and its attempt.
const resultOf = Symbol('reconnect.onResult');
const guardOf = Symbol('reconnect.guard');
const attemptOf = Symbol('reconnect.attempt');

type ResultCallback = (error: unknown, ...rest: unknown[]) => void;
interface GuardedCommand extends Command {
  [resultOf]: ResultCallback;
  [guardOf]: ConnGuard;
  [attemptOf]: AttemptContext | undefined;
}

/**
 * A guarded statement's result callback (mysql2 calls it on the command): it stops following the statement's
 * attempt, abandons a connection whose statement timed out (destroyed, the statement killed), marks one that answered
 * read-only, then calls the statement's own callback.
 */
function onGuardedResult(this: GuardedCommand, error: unknown, rows?: unknown, fields?: unknown): void {
  const { state, conn, follower } = this[guardOf];
  this[attemptOf]?.offAbort(follower);
  if (error !== null && error !== undefined) {
    if ((error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') abandon(state, conn, this, true);
    else if (isReadOnlyError(error)) readOnly.add(conn);
  }
  this[resultOf].call(this, error, rows, fields);
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
  // This connection's guard: its listener on the attempts of the statements it runs (see followAttempt).
  const connGuard: ConnGuard = {
    state,
    conn,
    follower: () => {
      if (runsAbortedStatement(conn) && !spareLostHedge(state, conn)) abandon(state, conn, undefined, true);
    },
  };
  conn.addCommand = function addCommand(this: CoreConnection, cmd: Command): Command {
    if (isStatement(cmd)) {
      // The attempt the statement was sent under (attempt-pool.ts), when it came through an operation's view.
      const attempt = enteringAttempt();
      if (attempt !== undefined) {
        if (!followAttempt(cmd, attempt, connGuard.follower)) return cmd;
      } else if (cmd.timeout === undefined && timeoutMs > 0) cmd.timeout = timeoutMs;
      const onResult = cmd.onResult;
      if (typeof onResult === 'function') {
        // One shared function in its place, reading what it needs from the command's fields: no closure per statement.
        const guarded = cmd as GuardedCommand;
        guarded[resultOf] = onResult;
        guarded[guardOf] = connGuard;
        guarded[attemptOf] = attempt;
        cmd.onResult = onGuardedResult;
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
