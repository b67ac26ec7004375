import { isOutcomeUnknownError } from '@reconnect/core';
import { startFaultProxy, startMariaDB, useServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killsSettled, mysqlDriver, mysqlOptionsSchema, mysqlPoolStats } from '../src/index.js';
import { connectContext, control, mysqlTarget, outcomeWithin, sleep, until } from './helpers.js';

const fast = {
  retry: { attemptTimeout: '400ms' },
  healthCheck: { interval: '30s', timeout: '200ms' },
  reconnect: { connectTimeout: '500ms' },
} as const;
const opts = (input: unknown) => mysqlOptionsSchema.parse(input);

describe('mysqlDriver on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await control(server().port);
  });
  afterAll(async () => {
    await admin.end();
  });

  const connect = (policy: object = fast, extra: object = {}) =>
    mysqlDriver.connect(
      opts({ port: server().port, user: 'root', database: 'test', ...extra }),
      connectContext(policy),
    );

  it('connects a promise Pool, probes with SELECT 1 and closes every connection', async () => {
    const pool = await connect();
    await mysqlDriver.probe(pool, { signal: new AbortController().signal });
    const [rows] = await pool.query('SELECT 1 + 1 AS two');
    expect(rows).toEqual([{ two: 2 }]);
    const conn = await pool.getConnection();
    const thread = conn.threadId;
    conn.release();
    await mysqlDriver.close(pool);
    await until(async () => {
      const [r] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?',
        [thread],
      );
      return r.length === 0;
    }, 3000);
  });

  it('a statement cut by its timeout destroys its connection and is stopped on the server with KILL QUERY', async () => {
    const pool = await connect();
    try {
      const conn = await pool.getConnection();
      const thread = conn.threadId;
      conn.release();
      const started = Date.now();
      const error = await pool.query('SELECT SLEEP(5) AS s, "guarded-sleep" AS tag').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(mysqlDriver.classify(error)).toMatchObject({
        kind: 'timeout',
        code: 'PROTOCOL_SEQUENCE_TIMEOUT',
      });
      await killsSettled(pool);
      const stats = mysqlPoolStats(pool);
      expect(stats.abandoned).toBe(1);
      expect(stats.killed).toBe(1);
      // The statement no longer runs on the server, and its connection is gone from the pool and the server.
      await until(async () => {
        const [r] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%guarded-sleep%' AND ID <> CONNECTION_ID()",
        );
        return r.length === 0;
      }, 2000);
      await until(async () => {
        const [r] = await admin.query<mysql.RowDataPacket[]>(
          'SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?',
          [thread],
        );
        return r.length === 0;
      }, 2000);
      // The pool serves the next statement on a fresh connection at once.
      const next = Date.now();
      await pool.query('SELECT 1');
      expect(Date.now() - next).toBeLessThan(300);
    } finally {
      await mysqlDriver.close(pool);
    }
  });

  it('raw mysql2: a timed-out statement keeps running, and its released connection makes the next caller wait behind it', async () => {
    const raw = mysql.createPool({
      host: '127.0.0.1',
      port: server().port,
      user: 'root',
      connectionLimit: 1,
    });
    try {
      const conn = await raw.getConnection();
      const slow = conn.query({ sql: 'SELECT SLEEP(1.5)', timeout: 200 }).catch((e: unknown) => e);
      expect(((await slow) as { code?: string }).code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
      conn.release();
      const started = Date.now();
      await raw.query('SELECT 1');
      expect(Date.now() - started).toBeGreaterThan(1000);
    } finally {
      await raw.end();
    }
  });

  it('probe honours its signal on a hung server, and close() of the pool finishes within its grace', async () => {
    const pool = await connect();
    try {
      await server().hang();
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('probe timeout')), 150);
      const started = Date.now();
      const error = await mysqlDriver.probe(pool, { signal: controller.signal }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('probe timeout');
      expect(Date.now() - started).toBeLessThan(600);
      // Another connection is busy with a statement in flight: pool.end() alone would never finish.
      const inFlight = pool.query({ sql: 'SELECT 1', timeout: 0 }).catch((e: unknown) => e);
      const closing = Date.now();
      await mysqlDriver.close(pool);
      expect(Date.now() - closing).toBeLessThan(500 + 1000);
      expect((await outcomeWithin(inFlight, 1000)).state).toBe('fulfilled');
    } finally {
      await server().resume();
    }
  });

  it('raw mysql2: pool.end() never finishes on a hung server with a statement in flight', async () => {
    const raw = mysql.createPool({ host: '127.0.0.1', port: server().port, user: 'root' });
    await raw.query('SELECT 1');
    await server().hang();
    const inFlight = raw.query('SELECT 1').catch((e: unknown) => e);
    await sleep(50); // the statement is written: COM_QUIT queues behind it
    try {
      const r = await outcomeWithin(raw.end(), 1500);
      expect(r.state).toBe('pending');
    } finally {
      await server().resume();
      await inFlight;
    }
  });

  it('connect honours its signal against a server that never answers the handshake', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    proxy.blackhole();
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('connect timeout')), 150);
      const started = Date.now();
      const error = await mysqlDriver
        .connect(
          opts({ port: proxy.port, user: 'root' }),
          connectContext({ reconnect: { connectTimeout: '10s' } }, controller.signal),
        )
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('connect timeout');
      expect(Date.now() - started).toBeLessThan(1000);
      // The abandoned pool's half-made connection is destroyed at once, not left to its 10 s connect timeout.
      await until(() => sockets() <= before, 500);
    } finally {
      await proxy.close();
    }
  });

  it('a connection that died while idle is validated and replaced: the operation succeeds, even a write', async () => {
    const pool = await connect(
      { ...fast, healthCheck: { interval: '30s', timeout: '200ms' } },
      // Pacing off: the three connections are opened at once (paced, the third would wait 400–600 ms, past the 400 ms
      // a lease may wait outside an operation); this is about validation, pacing is test/server-busy.test.ts's.
      { validateAfterIdle: 50, connectRate: 0 },
    );
    try {
      const conns = await Promise.all([pool.getConnection(), pool.getConnection(), pool.getConnection()]);
      const threads = conns.map((c) => c.threadId);
      for (const c of conns) c.release();
      await sleep(100);
      // Freeze them server-side: the server thread is stopped by KILL … but the pool is not told (no FIN
      // yet when the kill happens while we look away): simulate a dead idle connection by killing the
      // threads, which MariaDB closes; mysql2 would hand them out if it had not seen the FIN.
      for (const t of threads) await admin.query(`KILL ${t}`);
      await sleep(50);
      await pool.query('INSERT INTO test.validated_idle VALUES (1)').catch(() => undefined);
      const [rows] = await pool.query('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      await mysqlDriver.close(pool);
    }
  });

  it('a saturated pool is not taken for a dead server: the probe uses a side connection', async () => {
    const pool = await connect(fast, { connectionLimit: 1 });
    const held = await pool.getConnection();
    try {
      const started = Date.now();
      await mysqlDriver.probe(pool, { signal: AbortSignal.timeout(1000) });
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      held.release();
      await mysqlDriver.close(pool);
    }
  });

  it('a lease that got a read-only error (1290) is destroyed at release, not reused', async () => {
    await admin.query("CREATE USER IF NOT EXISTS 'ro_app'@'%' IDENTIFIED BY 'ro-pw'");
    await admin.query("GRANT ALL ON test.* TO 'ro_app'@'%'");
    await admin.query('CREATE TABLE IF NOT EXISTS ro_writes (v INT)');
    const pool = await connect(fast, { user: 'ro_app', password: 'ro-pw', connectionLimit: 1 });
    try {
      await admin.query('SET GLOBAL read_only = ON');
      const conn = await pool.getConnection();
      const thread = conn.threadId;
      const error = await conn.query('INSERT INTO ro_writes VALUES (1)').catch((e: unknown) => e);
      expect(mysqlDriver.classify(error)).toMatchObject({ kind: 'transient', code: 1290 });
      conn.release();
      await admin.query('SET GLOBAL read_only = OFF');
      const next = await pool.getConnection();
      expect(next.threadId).not.toBe(thread);
      next.release();
    } finally {
      await admin.query('SET GLOBAL read_only = OFF');
      await mysqlDriver.close(pool);
    }
  });

  it('through a target: an attempt cut by attemptTimeout leaves no statement running and no busy connection in the pool', async () => {
    const t = mysqlTarget(
      { port: server().port, user: 'root', database: 'test' },
      { retry: { attemptTimeout: '300ms', maxRetries: 0 } },
    );
    await t.start();
    try {
      const started = Date.now();
      const error = await t
        .execute((db) => db.query('SELECT SLEEP(5) AS s, "target-cut" AS tag'))
        .catch((e: unknown) => e);
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(800);
      // The core cuts the attempt at its timer; the statement follows the attempt's signal and its connection is
      // abandoned (destroyed, the statement killed) at that moment.
      await until(() => mysqlPoolStats(t.client).abandoned === 1, 1000);
      await killsSettled(t.client);
      expect(mysqlPoolStats(t.client)).toMatchObject({ abandoned: 1, killed: 1 });
      await until(async () => {
        const [r] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%target-cut%' AND ID <> CONNECTION_ID()",
        );
        return r.length === 0;
      }, 2000);
      const next = Date.now();
      await t.execute((db) => db.query('SELECT 1'), { idempotent: true });
      expect(Date.now() - next).toBeLessThan(300);
    } finally {
      await t.stop();
    }
  });
});
