import {
  type AbortListener,
  AttemptTimeoutError,
  isAbortedError,
  isAttemptEndedError,
  isDeadlineExceededError,
  isOutcomeUnknownError,
  type AttemptContext,
  type Target,
} from '@reconnect/core';
import { sendAfterAttemptEnded, startMariaDB, useServer } from '@reconnect/testkit';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  killsSettled,
  mysqlDriver,
  mysqlOptionsSchema,
  mysqlPoolStats,
  type MySqlPool,
} from '../src/index.js';

/** An attempt the test ends by hand, its abort listeners counted (core's attempt keeps them the same way). */
function handAttempt(): AttemptContext & { end(): void; listeners: () => number } {
  const listeners: AbortListener[] = [];
  let aborted = false;
  const controller = new AbortController();
  return {
    attempt: 1,
    node: undefined,
    timeoutMs: 10_000,
    get signal() {
      return controller.signal;
    },
    get aborted() {
      return aborted;
    },
    get reason() {
      return aborted ? new AttemptTimeoutError(10_000) : undefined;
    },
    onAbort: (l) => void listeners.push(l),
    offAbort: (l) => {
      const i = listeners.indexOf(l);
      if (i >= 0) listeners.splice(i, 1);
    },
    end() {
      aborted = true;
      controller.abort(this.reason);
      for (const l of listeners.splice(0))
        if (typeof l === 'function') l();
        else l.handleEvent();
    },
    listeners: () => listeners.length,
  };
}
import { connectContext, control, mysqlTarget, until } from './helpers.js';

// The pool an operation receives is bound to its attempt: the statements it sends follow the call's own
// attemptTimeout, deadline and signal, not only the policy's fixed statement timeout.

describe('statements follow their attempt (a throwaway MariaDB)', () => {
  const server = useServer(() => startMariaDB());
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await control(server().port);
    await admin.query('CREATE TABLE IF NOT EXISTS late_writes (id INT PRIMARY KEY)');
  });
  afterAll(async () => {
    await admin.end();
  });

  async function withTarget(policy: object, body: (t: Target<MySqlPool>) => Promise<void>): Promise<void> {
    const t = mysqlTarget({ port: server().port, user: 'root', database: 'test' }, policy);
    await t.start();
    try {
      await body(t);
    } finally {
      await t.stop();
    }
  }

  const running = async (tag: string): Promise<number> => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()',
      [`%${tag}%`],
    );
    return rows.length;
  };

  it('a per-call attemptTimeout longer than the policy’s lets a long statement finish, on the pool and on a lease', async () => {
    await withTarget({ retry: { attemptTimeout: '300ms', maxRetries: 0 } }, async (t) => {
      const [rows] = await t.execute((db) => db.query('SELECT SLEEP(1) AS s'), {
        attemptTimeout: '5s',
        idempotent: true,
      });
      // SLEEP returns 0 when it ran to its end (1 when it was interrupted).
      expect(rows).toEqual([{ s: 0 }]);
      const leased = await t.execute(
        async (db) => {
          const conn = await db.getConnection();
          try {
            const [r] = await conn.execute('SELECT SLEEP(1) AS s');
            return r;
          } finally {
            conn.release();
          }
        },
        { attemptTimeout: '5s', idempotent: true },
      );
      expect(leased).toEqual([{ s: 0 }]);
      expect(mysqlPoolStats(t.client).abandoned).toBe(0);
      // Without a per-call limit the policy's still applies.
      const cut = await t.execute((db) => db.query('SELECT SLEEP(3) AS s')).catch((e: unknown) => e);
      expect(isOutcomeUnknownError(cut), String(cut)).toBe(true);
    });
  });

  it('a call’s deadline shorter than the policy’s timeout stops its statement on the server at once', async () => {
    await withTarget({ retry: { attemptTimeout: '10s', maxRetries: 0 } }, async (t) => {
      const started = Date.now();
      const error = await t
        .execute((db) => db.query('SELECT SLEEP(8) AS s, "deadline-cut" AS tag'), { deadline: '300ms' })
        .catch((e: unknown) => e);
      expect(isDeadlineExceededError(error), String(error)).toBe(true);
      expect(error).toMatchObject({ outcome: 'unknown' });
      expect(Date.now() - started).toBeLessThan(800);
      // Abandoned and killed when the deadline fell, not when the policy's 10 s statement timeout would have.
      await until(() => mysqlPoolStats(t.client).abandoned === 1, 1000);
      await killsSettled(t.client);
      expect(mysqlPoolStats(t.client)).toMatchObject({ abandoned: 1, killed: 1 });
      await until(async () => (await running('deadline-cut')) === 0, 1500);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  it('the caller’s abort stops its statement on the server at once', async () => {
    await withTarget({ retry: { attemptTimeout: '10s', maxRetries: 0 } }, async (t) => {
      const controller = new AbortController();
      const pending = t
        .execute((db) => db.query('SELECT SLEEP(8) AS s, "abort-cut" AS tag'), { signal: controller.signal })
        .catch((e: unknown) => e);
      await until(async () => (await running('abort-cut')) === 1, 2000);
      controller.abort();
      expect(isAbortedError(await pending)).toBe(true);
      await until(async () => (await running('abort-cut')) === 0, 1500);
      expect(mysqlPoolStats(t.client).abandoned).toBe(1);
    });
  });

  it('an attempt that ends after its statements finished leaves their connection alone; one that ends with a statement in flight destroys and KILLs it', async () => {
    const options = mysqlOptionsSchema.parse({
      port: server().port,
      user: 'root',
      database: 'test',
      connectionLimit: 1,
    });
    const pool = await mysqlDriver.connect(options, connectContext({ retry: { attemptTimeout: '5s' } }));
    try {
      const a = handAttempt();
      const viewA = mysqlDriver.bindAttempt!(pool, a);
      // Two statements of one attempt on the pool, then two queued on one lease: each stops being followed when its
      // result arrives.
      await viewA.query('SELECT 1');
      await viewA.execute('SELECT 2');
      const lease = await viewA.getConnection();
      await Promise.all([lease.query('SELECT 3'), lease.query('SELECT 4')]);
      lease.release();
      expect(a.listeners()).toBe(0);
      // An execute whose prepare fails never reaches the guard's result callback: its listener stays behind.
      await expect(viewA.execute('SELEC 1')).rejects.toMatchObject({ errno: 1064 });
      // The one connection now runs another attempt's statement when the first attempt ends: nothing happens to it
      // (the listener left behind finds no statement of the ended attempt on it).
      const b = handAttempt();
      const sleeping = mysqlDriver.bindAttempt!(pool, b).query<mysql.RowDataPacket[]>(
        'SELECT SLEEP(0.5) AS s /* b-runs */',
      );
      await until(async () => (await running('b-runs')) === 1, 3000, 10);
      a.end();
      const [rows] = await sleeping;
      expect(rows).toEqual([{ s: 0 }]);
      expect(mysqlPoolStats(pool)).toMatchObject({ abandoned: 0, killed: 0 });
      // Ended with its statement in flight: the connection is destroyed and the statement stopped on the server.
      const c = handAttempt();
      const cut = mysqlDriver.bindAttempt!(pool, c).query('SELECT SLEEP(5) /* c-cut */');
      await until(async () => (await running('c-cut')) === 1, 3000, 10);
      c.end();
      await expect(cut).rejects.toMatchObject({ code: 'QUERY_ABANDONED' });
      await killsSettled(pool);
      await until(async () => (await running('c-cut')) === 0, 3000, 10);
      expect(mysqlPoolStats(pool)).toMatchObject({ abandoned: 1, killed: 1 });
      // The pool goes on with a new connection.
      const d = handAttempt();
      expect((await mysqlDriver.bindAttempt!(pool, d).query('SELECT 5 AS n'))[0]).toEqual([{ n: 5 }]);
    } finally {
      await mysqlDriver.close(pool);
    }
  });

  it('a statement an abandoned operation sends after its attempt ended is never sent', async () => {
    await withTarget({ retry: { attemptTimeout: '200ms', maxRetries: 0 } }, async (t) => {
      // The operation ignores its signal: the attempt ends at 200 ms, the INSERT comes at 400.
      const { error, late, sent } = await sendAfterAttemptEnded(t, (db) =>
        db.query('INSERT INTO late_writes (id) VALUES (1)'),
      );
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      expect(sent).toBe(false);
      expect(isAttemptEndedError(late), String(late)).toBe(true);
      expect(late).toMatchObject({
        name: 'AttemptEndedError',
        code: 'ERR_ATTEMPT_ENDED',
        kind: 'timeout',
        outcome: 'not_sent',
      });
      expect(mysqlDriver.classify(late)).toEqual({ kind: 'timeout', code: 'ERR_ATTEMPT_ENDED', sent: false });
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM late_writes');
      expect(rows).toEqual([{ n: 0 }]);
      // Refused before it was sent: the connection it would have used is healthy and back in the pool (mysql2 waits
      // for the refused statement's 'end' to release it: emitted before mysql2 listened, it left the connection
      // leased for ever, and enough such statements starved the pool).
      expect(mysqlPoolStats(t.client).abandoned).toBe(0);
      const core = t.client.pool as unknown as {
        _allConnections: { length: number };
        _freeConnections: { length: number };
      };
      await until(() => core._freeConnections.length === core._allConnections.length, 1000);
      await t.execute((db) => db.query('SELECT 1'), { idempotent: true });
    });
  });
});
