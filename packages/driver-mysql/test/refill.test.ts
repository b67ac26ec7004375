import { startMariaDB, useServer } from '@reconnect/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, type MySqlPool } from '../src/index.js';
import { connectContext, mysqlTarget, preset, until } from './helpers.js';

// Issue #29: after an outage, the pool that replaces the lost one refills at once behind its first connection when a
// backlog of its size waits (at 1 000 operations a second the paced refill — one connection for 1–1.5 s, then one
// every 200–300 ms — let the backlog outlive its deadlines). A new target's pool, and a recovering pool with fewer
// calls waiting than its size (a fleet instance's few callers), are paced as before (issue #26).

/** The connections mysql2's pool holds, counting those still in their handshake (pushed when created). */
const connections = (pool: MySqlPool) =>
  (pool.pool as unknown as { _allConnections: { length: number } })._allConnections.length;

/** `n` calls at once, each holding its connection 300 ms (outside an operation: the pool's own queue). */
const backlog = (pool: MySqlPool, n: number) =>
  Array.from({ length: n }, () => pool.query('SELECT SLEEP(0.3) AS s'));

describe('the refill after an outage (issue #29) on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());
  const options = () =>
    mysqlOptionsSchema.parse({ port: server().port, user: 'root', database: 'test', connectionLimit: 10 });

  /** A pool of `opts`'s target made as the lifecycle does after a loss: the first one connected, then closed. */
  async function replacement(opts: ReturnType<typeof options>): Promise<MySqlPool> {
    const lost = await mysqlDriver.connect(opts, connectContext(preset('mysql')));
    await mysqlDriver.close(lost);
    const pool = await mysqlDriver.connect(opts, connectContext(preset('mysql')));
    onTestFinished(() => mysqlDriver.close(pool));
    return pool;
  }

  it('a replacement pool with 20 calls waiting opens its whole size at once, not one connection for 1–1.5 s', async () => {
    const pool = await replacement(options());
    expect(connections(pool)).toBe(1);
    const calls = backlog(pool, 20);
    // Synchronously after the calls were made: the pool's 10 connections are opening (paced: still 1 until 1 s).
    expect(connections(pool)).toBe(10);
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(connections(pool)).toBe(10);
  });

  it('a replacement pool with fewer calls waiting than its size settles as before (a fleet instance is not refilled)', async () => {
    const pool = await replacement(options());
    const calls = backlog(pool, 9);
    expect(connections(pool)).toBe(1);
    await Promise.all(calls);
  });

  it('a new target’s first pool is paced as before, whatever waits', async () => {
    const pool = await mysqlDriver.connect(options(), connectContext(preset('mysql')));
    onTestFinished(() => mysqlDriver.close(pool));
    const calls = backlog(pool, 20);
    expect(connections(pool)).toBe(1);
    // Outside an operation a call waits at most attemptTimeout (2 s) in the paced pool: some may time out (README).
    await Promise.allSettled(calls);
  });

  it('through a target: after a crash and restart, the operations issued when it is back get the whole pool at once', async () => {
    const target = mysqlTarget({ port: server().port, user: 'root', database: 'test' }, preset('mysql'));
    await target.start();
    onTestFinished(() => target.stop());
    const before = target.client;
    await server().kill();
    // The loss is seen by an operation's failure; it waits for the reconnect (its deadline is 10 s).
    const waited = target.execute((db) => db.query('SELECT 1'), { idempotent: true });
    await server().restart();
    await waited;
    await until(() => target.state === 'connected' && target.client !== before, 5000, 5);
    const pool = target.client;
    const ops = Array.from({ length: 30 }, () =>
      target.execute((db) => db.query('SELECT SLEEP(0.3) AS s'), { idempotent: true }),
    );
    // Paced, ten connections would take 1–1.5 s plus eight gaps of 200–300 ms (2.6 s at the least) after the first.
    await until(() => connections(pool) === 10, 900, 5);
    await Promise.all(ops);
  });
});

describe('a backlog of a few thousand calls (issue #29) on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());

  it('3 000 calls at once on a pool of 10 wait their turn in its queue: none refused (with queueLimit 1 000, about 2 000 were refused at once)', async () => {
    const pool = await mysqlDriver.connect(
      // Pacing off: the ten connections open at once, so only the queue's limit is tested.
      mysqlOptionsSchema.parse({ port: server().port, user: 'root', database: 'test', connectRate: 0 }),
      connectContext(preset('mysql')),
    );
    onTestFinished(() => mysqlDriver.close(pool));
    const results = await Promise.allSettled(
      Array.from({ length: 3000 }, () => pool.query('SELECT 1 AS ok')),
    );
    const refused = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    expect(refused.slice(0, 3)).toEqual([]);
    expect(refused.length).toBe(0);
  });
});
