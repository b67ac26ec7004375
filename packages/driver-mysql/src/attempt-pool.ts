import type { AttemptContext } from '@reconnect/core';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { laggingError } from './errors.js';
import { states, type PoolState } from './pool-state.js';

// The pool an operation receives is a view of the node's pool bound to the operation's attempt (the driver's
// `bindAttempt`): every statement sent through it carries the attempt, so the pool's guard (pool.ts) can follow
// the attempt's signal — the call's own attemptTimeout and deadline, not the policy's — instead of giving it the
// policy's fixed statement timeout.

/** Where a statement's options carry its attempt; mysql2 copies it (own keys, symbols included) into the command. */
const attemptKey = Symbol('reconnect.attempt');

type Tagged = Record<PropertyKey, unknown> & { [attemptKey]?: AttemptContext };

/** The attempt a mysql2 Query or Execute command was sent under, when it went through a bound view. */
export function attemptOf(cmd: object): AttemptContext | undefined {
  const c = cmd as { _queryOptions?: Tagged; _executeOptions?: Tagged };
  return (c._queryOptions ?? c._executeOptions)?.[attemptKey];
}

/** `sql` (a string or mysql2's options object) as an options object that carries `attempt`. */
function tag(sql: unknown, attempt: AttemptContext): unknown {
  if (typeof sql === 'string') return { sql, [attemptKey]: attempt };
  // Anything else is left for mysql2 to refuse with its own error.
  if (sql !== null && typeof sql === 'object') return { ...sql, [attemptKey]: attempt };
  return sql;
}

type Sender = (sql: unknown, ...rest: unknown[]) => unknown;

/** Calls `method` on `target` with the statement tagged, `attempt` entering the pool for the call's synchronous part. */
function sendUnder(
  method: Sender,
  target: object,
  attempt: AttemptContext,
  sql: unknown,
  rest: unknown[],
  state: PoolState | undefined,
): unknown {
  // A replica its last probe found lagging (replica-lag.ts): refused unsent, so core routes the read elsewhere.
  const lagging = state?.lagging;
  if (lagging !== undefined) return Promise.reject(laggingError(lagging));
  const outer = entering;
  entering = attempt;
  try {
    return method.call(target, tag(sql, attempt), ...rest);
  } finally {
    entering = outer;
  }
}

/**
 * The attempt whose call is entering the pool right now: set only for the synchronous length of a view's call
 * (mysql2 asks the pool for a connection before it returns), so the pool's wait for a free connection (pool.ts) is
 * bounded by the attempt's own limit rather than by the policy's.
 */
let entering: AttemptContext | undefined;

/** The attempt of the view call in progress, if the pool is being asked for a connection by one. */
export function enteringAttempt(): AttemptContext | undefined {
  return entering;
}

/** Where a view keeps its attempt: one field per view, the methods live on a prototype made once per target. */
const viewAttempt = Symbol('reconnect.viewAttempt');

interface View {
  [viewAttempt]: AttemptContext;
}

/**
 * Per pool, the prototype of its views: `query` and `execute` that tag each statement with the view's attempt, and
 * `getConnection`, whose leases get views too. Made once per pool, so a view per attempt is one object and one
 * field, with no closure (the attempt's view used to carry three).
 */
const prototypes = new WeakMap<object, object>();

function poolViewPrototype(target: object): object {
  let proto = prototypes.get(target);
  if (proto !== undefined) return proto;
  const { query, execute } = target as Record<'query' | 'execute', Sender>;
  const pool = target as Pool;
  const state = states.get(pool);
  const members: PropertyDescriptorMap = {
    query: {
      value: function viewQuery(this: View, sql: unknown, ...rest: unknown[]): unknown {
        return sendUnder(query, target, this[viewAttempt], sql, rest, state);
      },
    },
    execute: {
      value: function viewExecute(this: View, sql: unknown, ...rest: unknown[]): unknown {
        return sendUnder(execute, target, this[viewAttempt], sql, rest, state);
      },
    },
    getConnection: {
      value: async function viewGetConnection(this: View): Promise<PoolConnection> {
        const attempt = this[viewAttempt];
        if (state?.lagging !== undefined) throw laggingError(state.lagging);
        const outer = entering;
        entering = attempt;
        let leased: Promise<PoolConnection>;
        try {
          leased = pool.getConnection();
        } finally {
          entering = outer;
        }
        return bindStatements(await leased, attempt, state);
      },
    },
  };
  proto = Object.create(target, members) as object;
  prototypes.set(target, proto);
  return proto;
}

/**
 * `target` (a leased connection) with its statement methods tagging each statement with `attempt`. mysql2's
 * promise API wraps a leased connection in a new object per lease, so a prototype per target would be made per
 * lease: the lease's view carries its two methods itself.
 */
function bindStatements<T extends object>(
  target: T,
  attempt: AttemptContext,
  state: PoolState | undefined,
): T {
  const view = Object.create(target) as T & Record<'query' | 'execute', Sender>;
  const { query, execute } = target as T & Record<'query' | 'execute', Sender>;
  view.query = (sql, ...rest) => sendUnder(query, target, attempt, sql, rest, state);
  view.execute = (sql, ...rest) => sendUnder(execute, target, attempt, sql, rest, state);
  return view;
}

/**
 * The view of `pool` one attempt's operation receives: `query` and `execute`, on the pool and on the
 * connections `getConnection()` leases, send statements that follow the attempt, and the pool's wait for a
 * free connection follows the attempt's limit; every other member is the pool's own (the view inherits from it).
 */
export function bindPoolToAttempt(pool: Pool, attempt: AttemptContext): Pool {
  const view = Object.create(poolViewPrototype(pool)) as Pool & View;
  view[viewAttempt] = attempt;
  return view;
}
