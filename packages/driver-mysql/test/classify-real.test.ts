import { startFaultProxy, startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyMySqlError, mysqlDriver, mysqlOptionsSchema } from '../src/index.js';
import { connectContext, control, sleep } from './helpers.js';

// Each row of the classification table that a real server can produce, produced by one.
describe('classification of real errors from a throwaway MariaDB', () => {
  // The server and its tables are made by the first test that needs them, not in a beforeAll: a hook that fails
  // leaves every test reported as skipped, so a broken setup once looked like nothing but skips. Here each test
  // fails, with the step that broke.
  let started: MariaDBServer | undefined;
  let admin: mysql.Connection;
  let setup: Promise<void> | undefined;
  const server = (): MariaDBServer => {
    if (started === undefined)
      throw new Error('classify-real: the server is not started (await ready() first)');
    return started;
  };
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new Error(`classify-real setup: ${what} failed: ${String(error)}`, { cause: error });
    }
  };
  const ready = (): Promise<void> =>
    (setup ??= (async () => {
      started = await step('starting a throwaway MariaDB', () => startMariaDB());
      admin = await step('connecting as root', () => control(server().port));
      await step('creating the tables and the limited user', async () => {
        await admin.query('CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB');
        await admin.query(
          'CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent(id)) ENGINE=InnoDB',
        );
        await admin.query('CREATE TABLE short_text (v VARCHAR(3)) ENGINE=InnoDB');
        await admin.query('INSERT INTO parent VALUES (1)');
        await admin.query('INSERT INTO child VALUES (1, 1)');
        await admin.query("CREATE USER 'limited'@'%' IDENTIFIED BY 'limited-pw'");
        await admin.query("GRANT ALL ON test.* TO 'limited'@'%'");
      });
    })());
  afterAll(async () => {
    await admin?.end();
    await started?.stop();
  });
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable('expected an error'),
      (e: unknown) => e,
    );
  const c = (e: unknown) => classifyMySqlError(e);

  it('fatal: 1062, 1064, 1146, 1406 (strict mode), 1451, 1452', async () => {
    await ready();
    expect(c(await fail(admin.query('INSERT INTO parent VALUES (1)')))).toMatchObject({
      kind: 'fatal',
      code: 1062,
      codeName: 'ER_DUP_ENTRY',
    });
    expect(c(await fail(admin.query('SELEC 1')))).toMatchObject({ kind: 'fatal', code: 1064 });
    expect(c(await fail(admin.query('SELECT * FROM no_such_table')))).toMatchObject({
      kind: 'fatal',
      code: 1146,
    });
    expect(c(await fail(admin.query("INSERT INTO short_text VALUES ('toolong')")))).toMatchObject({
      kind: 'fatal',
      code: 1406,
    });
    expect(c(await fail(admin.query('DELETE FROM parent WHERE id = 1')))).toMatchObject({
      kind: 'fatal',
      code: 1451,
    });
    expect(c(await fail(admin.query('INSERT INTO child VALUES (2, 99)')))).toMatchObject({
      kind: 'fatal',
      code: 1452,
    });
  });

  it('auth 1045 and unknown database 1049 at connect, both not sent', async () => {
    await ready();
    const bad = await fail(
      mysql.createConnection({ host: '127.0.0.1', port: server().port, user: 'limited', password: 'wrong' }),
    );
    expect(c(bad)).toMatchObject({ kind: 'auth', code: 1045, sent: false });
    const noDb = await fail(
      mysql.createConnection({ host: '127.0.0.1', port: server().port, user: 'root', database: 'nope' }),
    );
    expect(c(noDb)).toMatchObject({ kind: 'fatal', code: 1049, sent: false });
  });

  it('through the driver: a refused login is auth, not sent; a refused port is ECONNREFUSED, not sent', async () => {
    await ready();
    const options = mysqlOptionsSchema.parse({ port: server().port, user: 'limited', password: 'wrong' });
    const error = await fail(mysqlDriver.connect(options, connectContext()));
    expect(mysqlDriver.classify(error)).toMatchObject({ kind: 'auth', code: 1045, sent: false });
    const proxy = await startFaultProxy({ target: server().options });
    await proxy.refuse();
    try {
      const refused = await fail(
        mysqlDriver.connect(mysqlOptionsSchema.parse({ port: proxy.port, user: 'root' }), connectContext()),
      );
      expect(mysqlDriver.classify(refused)).toEqual({
        kind: 'connection',
        code: 'ECONNREFUSED',
        sent: false,
      });
    } finally {
      await proxy.close();
    }
  });

  it('1040 too many connections: throttled, not sent', async () => {
    await ready();
    const [[row]] = (await admin.query('SELECT @@max_connections AS m')) as unknown as [{ m: number }[]];
    // MariaDB's minimum is 10; root may use one connection beyond it, the application account may not.
    await admin.query('SET GLOBAL max_connections = 10');
    const held: mysql.Connection[] = [];
    try {
      let error: unknown;
      for (let i = 0; i < 12 && error === undefined; i++) {
        try {
          held.push(
            await mysql.createConnection({
              host: '127.0.0.1',
              port: server().port,
              user: 'limited',
              password: 'limited-pw',
            }),
          );
        } catch (e) {
          error = e;
        }
      }
      expect(c(error)).toMatchObject({ kind: 'throttled', code: 1040, sent: false });
    } finally {
      await Promise.allSettled(held.map((h) => h.end()));
      await admin.query(`SET GLOBAL max_connections = ${Number(row?.m)}`);
    }
  });

  it('read-only: 1290 with read_only=ON, 1792 in a READ ONLY transaction; both transient', async () => {
    await ready();
    const app = await mysql.createConnection({
      host: '127.0.0.1',
      port: server().port,
      user: 'limited',
      password: 'limited-pw',
      database: 'test',
    });
    try {
      await admin.query('SET GLOBAL read_only = ON');
      expect(c(await fail(app.query('INSERT INTO parent VALUES (5)')))).toMatchObject({
        kind: 'transient',
        code: 1290,
      });
      await admin.query('SET GLOBAL read_only = OFF');
      await app.query('START TRANSACTION READ ONLY');
      expect(c(await fail(app.query('INSERT INTO parent VALUES (6)')))).toMatchObject({
        kind: 'transient',
        code: 1792,
      });
      await app.query('ROLLBACK');
    } finally {
      await admin.query('SET GLOBAL read_only = OFF');
      await app.end();
    }
  });

  it('a MariaDB code mysql2 has no name for: 1969 (max_statement_time); a killed connection is a lost one', async () => {
    await ready();
    const timedOut = await fail(admin.query('SET STATEMENT max_statement_time = 0.05 FOR SELECT SLEEP(1)'));
    expect((timedOut as { code?: unknown }).code).toBeUndefined();
    expect(c(timedOut)).toMatchObject({ kind: 'timeout', code: 1969, codeName: 'ER_STATEMENT_TIMEOUT' });
    // KILL CONNECTION of a running statement: MariaDB 10.11 closes the socket without an ERR packet (1927 is
    // unit-tested), so the client sees a lost connection — outcome unknown.
    const victim = await control(server().port);
    victim.on('error', () => undefined);
    const running = victim.query('SELECT SLEEP(5)').catch((e: unknown) => e);
    await sleep(100);
    await admin.query(`KILL CONNECTION ${victim.threadId}`);
    expect(c(await running)).toEqual({ kind: 'connection', code: 'PROTOCOL_CONNECTION_LOST' });
    victim.destroy();
  });

  it('a lost connection during a statement is connection / unknown; every call afterwards is "closed state", not sent', async () => {
    await ready();
    const proxy = await startFaultProxy({ target: server().options });
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    conn.on('error', () => undefined);
    try {
      proxy.cutAfter(0, 'toClient');
      const lost = await fail(conn.query('SELECT 1'));
      const lc = c(lost);
      expect(lc.kind).toBe('connection');
      expect(['ECONNRESET', 'PROTOCOL_CONNECTION_LOST']).toContain(lc.code);
      expect(lc.sent).toBeUndefined();
      const after = await fail(conn.query('SELECT 1'));
      expect((after as Error).message).toMatch(/closed state/);
      expect(c(after)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED', sent: false });
    } finally {
      conn.destroy();
      await proxy.close();
    }
  });
});
