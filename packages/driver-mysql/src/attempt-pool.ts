import type { AttemptContext } from '@reconnect/core';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { laggingError } from './errors.js';
import { states, type PoolState } from './pool-state.js';

// The pool an operation receives is a view of the node's pool bound to the operation's attempt (the driver's
// `bindAttempt`): every statement sent through it carries the attempt, so the pool's guard (guard.ts) can follow
// the attempt's signal — the call's own attemptTimeout and deadline, not the policy's — instead of giving it the
// policy's fixed statement timeout.
//
// The attempt travels in one module variable, `entering`, never in the statement's options (a tagged options object
// per statement, which mysql2 then copied again with its symbol key, was a measurable share of a statement's
// garbage): set for the synchronous length of a view's call (a leased connection's `query` adds its command before it
// returns), and again by the acquisition (acquire.ts) for the synchronous length of handing a connection to a pool-level
// `query` / `execute` (mysql2 adds the command inside that callback). The guard reads it when a statement is added.

/**
 * The attempt a statement being added right now belongs to, or a pool's wait for a connection is being asked for:
 * set only for the synchronous length of a view's call, and of an acquisition handing over its connection.
 */
let entering: AttemptContext | undefined;

/** The attempt of the view call (or connection handover) in progress, if any. */
export function enteringAttempt(): AttemptContext | undefined {
  return entering;
}

/** Runs `fn(a, b)` with `attempt` as the {@link enteringAttempt} (none when undefined), restoring the outer one. */
export function runUnder<A, B>(
  attempt: AttemptContext | undefined,
  fn: (a: A, b: B) => void,
  a: A,
  b: B,
): void {
  const outer = entering;
  entering = attempt;
  try {
    fn(a, b);
  } finally {
    entering = outer;
  }
}

// mysql2's promise `query` / `execute` take (sql, values): passing both, undefined values included, is the same call
// as passing one, without an array for a rest parameter per statement.
type Sender = (sql: unknown, values: unknown) => unknown;

/** Calls `method` on `target`, `attempt` entering for the call's synchronous part. */
function sendUnder(
  method: Sender,
  target: object,
  attempt: AttemptContext,
  sql: unknown,
  values: unknown,
  state: PoolState | undefined,
): unknown {
  // A replica its last probe found lagging (replica-lag.ts): refused unsent, so core routes the read elsewhere.
  const lagging = state?.lagging;
  if (lagging !== undefined) return Promise.reject(laggingError(lagging));
  const outer = entering;
  entering = attempt;
  try {
    return method.call(target, sql, values);
  } finally {
    entering = outer;
  }
}

/** Where a view keeps its attempt: one field per view, the methods live on a prototype made once per target. */
const viewAttempt = Symbol('reconnect.viewAttempt');

interface View {
  [viewAttempt]: AttemptContext;
}

/**
 * Per pool, the prototype of its views: `query` and `execute` that send each statement under the view's attempt, and
 * `getConnection`, whose leases get views too. Made once per pool and kept on the pool itself (a property read, not a
 * WeakMap lookup per attempt), so a view per attempt is one object and one field, with no closure.
 */
const viewPrototype = Symbol('reconnect.viewPrototype');

function poolViewPrototype(target: object): object {
  let proto = (target as { [viewPrototype]?: object })[viewPrototype];
  if (proto !== undefined) return proto;
  const { query, execute } = target as Record<'query' | 'execute', Sender>;
  const pool = target as Pool;
  const state = states.get(pool);
  const members: PropertyDescriptorMap = {
    query: {
      value: function viewQuery(this: View, sql: unknown, values: unknown): unknown {
        return sendUnder(query, target, this[viewAttempt], sql, values, state);
      },
    },
    execute: {
      value: function viewExecute(this: View, sql: unknown, values: unknown): unknown {
        return sendUnder(execute, target, this[viewAttempt], sql, values, state);
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
  // Not enumerable: the pool looks as it did to anyone listing its keys.
  Object.defineProperty(target, viewPrototype, { value: proto });
  return proto;
}

/**
 * Where a bound lease keeps what its methods need: its attempt, its pool's state, and mysql2's own `query` /
 * `execute` (its class's, which the bound ones replace on the lease object).
 */
const leaseAttempt = Symbol('reconnect.leaseAttempt');
const leaseState = Symbol('reconnect.leaseState');
const leaseQueryOf = Symbol('reconnect.leaseQuery');
const leaseExecuteOf = Symbol('reconnect.leaseExecute');

interface BoundLease {
  [leaseAttempt]: AttemptContext;
  [leaseState]: PoolState | undefined;
  [leaseQueryOf]: Sender;
  [leaseExecuteOf]: Sender;
}

// A bound lease's `query` and `execute`: shared functions that read the lease's fields.
function leaseQuery(this: BoundLease, sql: unknown, values: unknown): unknown {
  return sendUnder(this[leaseQueryOf], this, this[leaseAttempt], sql, values, this[leaseState]);
}
function leaseExecute(this: BoundLease, sql: unknown, values: unknown): unknown {
  return sendUnder(this[leaseExecuteOf], this, this[leaseAttempt], sql, values, this[leaseState]);
}

/**
 * `lease` (a leased connection) with its statement methods sending each statement under `attempt`. mysql2's promise
 * API makes a new lease object per `getConnection()`, handed to this attempt alone, so the lease itself is bound (a few
 * fields and two shared functions) rather than wrapped: a wrapper inheriting from it was a new prototype per lease,
 * and every field added to it a new hidden class.
 */
function bindStatements<T extends object>(
  lease: T,
  attempt: AttemptContext,
  state: PoolState | undefined,
): T {
  const bound = lease as T & BoundLease & Record<'query' | 'execute', Sender>;
  // Only mysql2's own methods are kept (a lease bound again keeps them, not the bound ones).
  if ((bound as Partial<BoundLease>)[leaseQueryOf] === undefined) {
    bound[leaseQueryOf] = bound.query;
    bound[leaseExecuteOf] = bound.execute;
  }
  bound[leaseAttempt] = attempt;
  bound[leaseState] = state;
  bound.query = leaseQuery;
  bound.execute = leaseExecute;
  return bound;
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
