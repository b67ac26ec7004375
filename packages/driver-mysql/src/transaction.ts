import type { AttemptContext, ExecuteOptions, Target } from '@reconnect/core';
import type { PoolConnection } from 'mysql2/promise';
import { classifyMySqlError } from './classify.js';
import { markNotSent } from './errors.js';
import type { MySqlPool } from './pool.js';

/** Isolation levels of `SET TRANSACTION ISOLATION LEVEL`. */
export type IsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/** Options of {@link transaction}: those of `execute`, plus the transaction's own. */
export interface TransactionOptions extends ExecuteOptions {
  /** `SET TRANSACTION ISOLATION LEVEL …` for this transaction (default: the server's). */
  isolationLevel?: IsolationLevel;
  /**
   * `START TRANSACTION READ ONLY`; on a primary + replicas target the transaction runs on a replica.
   */
  readOnly?: boolean;
  /**
   * The function may run again even when COMMIT's outcome is unknown (the connection was lost while
   * committing), e.g. because it only upserts. Default false: such a transaction fails with
   * `OutcomeUnknownError` and is never rerun.
   */
  idempotent?: boolean;
}

/** What the function of a {@link transaction} receives besides the connection. */
export interface TransactionContext extends AttemptContext {
  /** 1 for the first run of the function; 2 after one rollback and rerun, … */
  readonly run: number;
}

/** The attempt's context with the run count, as one object (its signal made only if `fn` reads it). */
class RunContext implements TransactionContext {
  readonly attempt: number;
  readonly node: AttemptContext['node'];
  readonly timeoutMs: number;
  constructor(
    private readonly ctx: AttemptContext,
    readonly run: number,
  ) {
    this.attempt = ctx.attempt;
    this.node = ctx.node;
    this.timeoutMs = ctx.timeoutMs;
  }
  get signal(): AbortSignal {
    return this.ctx.signal;
  }
  get aborted(): boolean {
    return this.ctx.aborted;
  }
  get reason(): unknown {
    return this.ctx.reason;
  }
  onAbort(listener: () => void): void {
    this.ctx.onAbort(listener);
  }
  offAbort(listener: () => void): void {
    this.ctx.offAbort(listener);
  }
}

// A failure before COMMIT was sent leaves nothing behind: the server rolls back a transaction whose
// connection ends, and a deadlock rolls it back by itself. Such failures of these kinds rerun the function.
const rerunKinds = new Set(['transient', 'connection', 'timeout']);

async function rollback(conn: PoolConnection): Promise<boolean> {
  try {
    await conn.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` in a transaction on one pooled connection of `target`: `START TRANSACTION`, `fn(conn)`,
 * `COMMIT`. When it fails before COMMIT (a deadlock 1213, a lock wait timeout 1205, a lost connection), the
 * transaction is rolled back and the **whole** function runs again, within the policy's retries and
 * deadline (`retry.retryOn` must list the failure: `preset:mysql` lists `transient`, 1213 and 1205). When the
 * connection is lost during COMMIT the outcome is unknown: the caller gets `OutcomeUnknownError` and the
 * function is not rerun, unless `idempotent` says it may be.
 *
 * ```ts
 * const id = await transaction(db, async (conn) => {
 *   const [r] = await conn.query<ResultSetHeader>('INSERT INTO orders (user_id) VALUES (?)', [userId]);
 *   await conn.query('UPDATE stock SET n = n - 1 WHERE sku = ?', [sku]);
 *   return r.insertId;
 * });
 * ```
 */
export function transaction<T>(
  target: Target<MySqlPool>,
  fn: (conn: PoolConnection, ctx: TransactionContext) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const { isolationLevel, ...execute } = options;
  let run = 0;
  return target.execute(
    async (pool, ctx) => {
      run++;
      const conn = await pool.getConnection();
      let committing = false;
      let reusable = true;
      try {
        if (isolationLevel !== undefined)
          await conn.query(`SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`);
        await conn.query(options.readOnly === true ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION');
        const result = await fn(conn, new RunContext(ctx, run));
        committing = true;
        await conn.query('COMMIT');
        return result;
      } catch (error) {
        const c = classifyMySqlError(error);
        // The server answered COMMIT with an error (a certification failure, a deadlock at commit): it
        // rolled back. Only a COMMIT that got no answer has an unknown outcome.
        const answered = typeof c.code === 'number';
        if (!committing || answered) {
          reusable = await rollback(conn);
          // Rolled back: the whole transaction may run again. Learned only now, about an error someone else built
          // (mysql2's, the server's): marked, not wrapped, so the caller still sees that error itself.
          if (rerunKinds.has(c.kind) && (!committing || c.kind === 'transient')) throw markNotSent(error);
        } else {
          reusable = false;
        }
        throw error;
      } finally {
        if (reusable) conn.release();
        else conn.destroy();
      }
    },
    { ...execute, name: execute.name ?? 'transaction' },
  );
}
