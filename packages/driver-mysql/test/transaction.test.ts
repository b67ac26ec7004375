import { isOutcomeUnknownError, type Target } from '@reconnect/core';
import { startFaultProxy, startMariaDB, useServer } from '@reconnect/testkit';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transaction, type MySqlPool } from '../src/index.js';
import { control, mysqlTarget, preset, sleep, until } from './helpers.js';

describe('transaction(): a real deadlock between two sessions on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());
  const targets: Target<MySqlPool>[] = [];
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await control(server().port);
    await admin.query('CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB');
    await admin.query('CREATE TABLE filler (id INT PRIMARY KEY, v INT) ENGINE=InnoDB');
    await admin.query(
      'CREATE TABLE tx_log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB',
    );
    const rows = Array.from({ length: 200 }, (_, i) => `(${i}, 0)`).join(',');
    await admin.query(`INSERT INTO filler VALUES ${rows}`);
  });
  afterAll(async () => {
    await admin.end();
  });
  afterEach(async () => {
    await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
    await admin.query('DELETE FROM acct');
    await admin.query('DELETE FROM tx_log');
  });
  const start = async (port = server().port) => {
    const t = mysqlTarget({ port, user: 'root', database: 'test' }, preset('mysql'));
    targets.push(t);
    await t.start();
    return t;
  };

  it('the deadlock victim is rolled back and the whole function runs again; its writes land exactly once', async () => {
    await admin.query('INSERT INTO acct VALUES (1, 100), (2, 100)');
    const t = await start();
    // The other session: heavier (200 rows changed) so InnoDB picks our transaction as the victim.
    const other = await control(server().port);
    await other.query('START TRANSACTION');
    await other.query('UPDATE filler SET v = v + 1');
    await other.query('UPDATE acct SET balance = balance + 1 WHERE id = 2');
    let otherDone: Promise<unknown> | undefined;
    const runs: number[] = [];
    let retries = 0;
    t.on('retry', () => retries++);
    const result = await transaction(t, async (conn, ctx) => {
      runs.push(ctx.run);
      await conn.query("INSERT INTO tx_log (note) VALUES ('transfer')");
      await conn.query('UPDATE acct SET balance = balance - 10 WHERE id = 1');
      if (ctx.run === 1) {
        // Close the cycle: the other session now wants our row while we wait for its row.
        otherDone = (async () => {
          await sleep(100);
          await other.query('UPDATE acct SET balance = balance + 1 WHERE id = 1');
          await other.query('COMMIT');
        })();
      }
      await conn.query('UPDATE acct SET balance = balance + 10 WHERE id = 2');
      return ctx.run;
    });
    await otherDone;
    await other.end();
    expect(runs).toEqual([1, 2]);
    expect(result).toBe(2);
    expect(retries).toBe(1);
    const [acct] = await admin.query<RowDataPacket[]>('SELECT id, balance FROM acct ORDER BY id');
    expect(acct).toEqual([
      { id: 1, balance: 91 },
      { id: 2, balance: 111 },
    ]);
    const [log] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM tx_log');
    expect(Number(log[0]?.['n'])).toBe(1);
  });

  it('a lock wait timeout (1205) also rolls back and reruns the whole function', async () => {
    await admin.query('INSERT INTO acct VALUES (1, 100)');
    const t = await start();
    const other = await control(server().port);
    await other.query('START TRANSACTION');
    await other.query('UPDATE acct SET balance = 0 WHERE id = 1');
    const runs: number[] = [];
    const result = await transaction(t, async (conn, ctx) => {
      runs.push(ctx.run);
      await conn.query('SET SESSION innodb_lock_wait_timeout = 1');
      await conn.query("INSERT INTO tx_log (note) VALUES ('wait')");
      if (ctx.run === 2) await other.query('ROLLBACK');
      const [r] = await conn.query<ResultSetHeader>('UPDATE acct SET balance = balance + 1 WHERE id = 1');
      return r.affectedRows;
    });
    await other.end();
    expect(runs).toEqual([1, 2]);
    expect(result).toBe(1);
    const [log] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM tx_log');
    expect(Number(log[0]?.['n'])).toBe(1);
  }, 15_000);

  it('a connection lost during COMMIT is outcome unknown and the function is not rerun', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const t = await start(proxy.port);
      const runs: number[] = [];
      const error = await transaction(t, async (conn, ctx) => {
        runs.push(ctx.run);
        await conn.query("INSERT INTO tx_log (note) VALUES ('commit-lost')");
        // COMMIT is the next statement: it reaches the server, its reply is lost.
        proxy.cutAfter(0, 'toClient');
      }).catch((e: unknown) => e);
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      expect(runs).toEqual([1]);
      await until(async () => {
        const [log] = await admin.query<RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM tx_log WHERE note = 'commit-lost'",
        );
        return Number(log[0]?.['n']) === 1;
      }, 2000);
    } finally {
      await proxy.close();
    }
  });

  it('declared idempotent, a transaction whose COMMIT got no answer runs again', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const t = await start(proxy.port);
      await admin.query('INSERT INTO acct VALUES (7, 0)');
      const runs: number[] = [];
      await transaction(
        t,
        async (conn, ctx) => {
          runs.push(ctx.run);
          await conn.query('UPDATE acct SET balance = 42 WHERE id = 7');
          if (ctx.run === 1) proxy.cutAfter(0, 'toClient');
        },
        { idempotent: true },
      );
      expect(runs).toEqual([1, 2]);
      const [acct] = await admin.query<RowDataPacket[]>('SELECT balance FROM acct WHERE id = 7');
      expect(acct).toEqual([{ balance: 42 }]);
    } finally {
      await proxy.close();
    }
  });

  it('a connection lost before COMMIT: the transaction never committed, so the whole function reruns once', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const t = await start(proxy.port);
      const runs: number[] = [];
      await transaction(t, async (conn, ctx) => {
        runs.push(ctx.run);
        await conn.query("INSERT INTO tx_log (note) VALUES ('lost-before')");
        if (ctx.run === 1) {
          proxy.cutAfter(0, 'toClient');
          await conn.query('SELECT 1');
        }
      });
      expect(runs).toEqual([1, 2]);
      const [log] = await admin.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM tx_log WHERE note = 'lost-before'",
      );
      expect(Number(log[0]?.['n'])).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('a fatal error rolls back and reaches the caller unchanged, the function ran once', async () => {
    await admin.query('INSERT INTO acct VALUES (1, 100)');
    const t = await start();
    const runs: number[] = [];
    const error = await transaction(t, async (conn, ctx) => {
      runs.push(ctx.run);
      await conn.query("INSERT INTO tx_log (note) VALUES ('dup')");
      await conn.query('INSERT INTO acct VALUES (1, 5)');
    }).catch((e: unknown) => e);
    expect((error as { errno?: number }).errno).toBe(1062);
    expect(runs).toEqual([1]);
    const [log] = await admin.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM tx_log WHERE note = 'dup'");
    expect(Number(log[0]?.['n'])).toBe(0);
  });
});
