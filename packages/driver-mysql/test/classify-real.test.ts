import { connect as tcpConnect, type Socket } from 'node:net';
import { startFaultProxy, startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import mysqlCallbacks from 'mysql2';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyMySqlError, mysqlDriver, mysqlOptionsSchema } from '../src/index.js';
import { startFreezer } from './freezer.js';
import { connectContext, control, sleep } from './helpers.js';

/**
 * A raw MySQL protocol session (no client library): for replies no client would provoke — a malformed handshake, a
 * command byte the server does not know. Packets are read whole ([length 3][sequence 1][payload]).
 */
async function rawSession(port: number) {
  const socket: Socket = tcpConnect({ host: '127.0.0.1', port });
  let buffered = Buffer.alloc(0);
  const waiting: ((p: Buffer) => void)[] = [];
  const ready: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUIntLE(0, 3)) {
      const length = buffered.readUIntLE(0, 3);
      const payload = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      const w = waiting.shift();
      if (w === undefined) ready.push(payload);
      else w(payload);
    }
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    next: (): Promise<Buffer> => {
      const p = ready.shift();
      if (p !== undefined) return Promise.resolve(p);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('rawSession: no packet within 2 s')), 2000);
        waiting.push((payload) => {
          clearTimeout(timer);
          resolve(payload);
        });
      });
    },
    send: (sequence: number, payload: Buffer): void => {
      const header = Buffer.alloc(4);
      header.writeUIntLE(payload.length, 0, 3);
      header[3] = sequence;
      socket.write(Buffer.concat([header, payload]));
    },
    close: () => socket.destroy(),
  };
}

/** An ERR packet's payload as mysql2 reads it (lib/packets/packet.js asError): errno, sqlState, sqlMessage. */
function errPacket(payload: Buffer): Error {
  expect(payload[0], 'an ERR packet').toBe(0xff);
  const errno = payload.readUInt16LE(1);
  const hasState = payload[3] === 0x23; // '#'
  const sqlState = hasState ? payload.subarray(4, 9).toString() : '';
  const message = payload.subarray(hasState ? 9 : 3).toString();
  return Object.assign(new Error(message), { code: undefined, errno, sqlState, sqlMessage: message });
}

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
      // A global max_user_connections that may be changed at run time (at 0 on the command line it may not).
      started = await step('starting a throwaway MariaDB', () =>
        startMariaDB({ args: ['--max-user-connections=1000'] }),
      );
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

  // Issue #25: every `sent: false` rule produced by a real server at least once (those not produced here are listed
  // in the README with the reason).
  const appUser = { user: 'limited', password: 'limited-pw' };
  const connectAs = (extra: mysql.ConnectionOptions) =>
    mysql.createConnection({ host: '127.0.0.1', port: server().port, ...extra });

  it('1203 (global max_user_connections) and 1226 (an account limit): throttled, not sent', async () => {
    await ready();
    await admin.query(
      "CREATE USER IF NOT EXISTS 'capped'@'%' IDENTIFIED BY 'capped-pw' WITH MAX_USER_CONNECTIONS 1",
    );
    await admin.query("GRANT ALL ON test.* TO 'capped'@'%'");
    const held: mysql.Connection[] = [];
    try {
      held.push(await connectAs({ user: 'capped', password: 'capped-pw' }));
      const perAccount = await fail(connectAs({ user: 'capped', password: 'capped-pw' }));
      expect((perAccount as { errno?: unknown }).errno).toBe(1226);
      expect(c(perAccount)).toMatchObject({ kind: 'throttled', code: 1226, sent: false });
      await admin.query('SET GLOBAL max_user_connections = 1');
      held.push(await connectAs(appUser));
      const global = await fail(connectAs(appUser));
      expect((global as { errno?: unknown }).errno).toBe(1203);
      expect(c(global)).toMatchObject({ kind: 'throttled', code: 1203, sent: false });
    } finally {
      await admin.query('SET GLOBAL max_user_connections = 1000');
      await Promise.allSettled(held.map((h) => h.end()));
    }
  });

  it('1044: a database the account may not use, refused at connect, not sent', async () => {
    await ready();
    const error = await fail(connectAs({ ...appUser, database: 'mysql' }));
    expect(c(error)).toMatchObject({ kind: 'auth', code: 1044, sent: false });
  });

  it('1698: an account identified by unix_socket, over TCP: auth, not sent', async () => {
    await ready();
    await admin.query("CREATE USER IF NOT EXISTS 'socketonly'@'%' IDENTIFIED VIA unix_socket");
    const error = await fail(connectAs({ user: 'socketonly' }));
    expect(c(error)).toMatchObject({ kind: 'auth', code: 1698, sent: false });
  });

  it('1862: an expired password when the server disconnects such logins: auth, not sent', async () => {
    await ready();
    await admin.query("CREATE USER IF NOT EXISTS 'expired'@'%' IDENTIFIED BY 'expired-pw' PASSWORD EXPIRE");
    await admin.query('SET GLOBAL disconnect_on_expired_password = ON');
    try {
      const error = await fail(connectAs({ user: 'expired', password: 'expired-pw' }));
      expect(c(error)).toMatchObject({ kind: 'auth', code: 1862, sent: false });
    } finally {
      await admin.query('SET GLOBAL disconnect_on_expired_password = OFF');
    }
  });

  it('1043 (a malformed handshake) and 1047 (a command byte the server does not know): not sent', async () => {
    await ready();
    const bad = await rawSession(server().port);
    try {
      await bad.next(); // the server's greeting
      bad.send(1, Buffer.from([0x01]));
      expect(c(errPacket(await bad.next()))).toMatchObject({ kind: 'connection', code: 1043, sent: false });
    } finally {
      bad.close();
    }
    const session = await rawSession(server().port);
    try {
      await session.next();
      // HandshakeResponse41 as root with the empty password: CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION.
      const response = Buffer.concat([
        Buffer.from([0x00, 0x82, 0x00, 0x00]), // capabilities 0x8200
        Buffer.from([0x00, 0x00, 0x00, 0x01]), // max packet
        Buffer.from([0x21]), // utf8
        Buffer.alloc(23),
        Buffer.from('root\0'),
        Buffer.from([0x00]), // no auth data
      ]);
      session.send(1, response);
      expect((await session.next())[0], 'OK after the login').toBe(0x00);
      session.send(0, Buffer.from([0x7f]));
      const unknown = errPacket(await session.next());
      expect(c(unknown)).toMatchObject({
        kind: 'transient',
        code: 1047,
        codeName: 'ER_UNKNOWN_COM_ERROR',
        sent: false,
      });
    } finally {
      session.close();
    }
  });

  it("mysql2's own: NO_CONNECTIONS (a pool that may not wait), HANDSHAKE_NO_SSL_SUPPORT, a bind TypeError", async () => {
    await ready();
    const pool = mysqlCallbacks
      .createPool({
        host: '127.0.0.1',
        port: server().port,
        user: 'root',
        connectionLimit: 1,
        waitForConnections: false,
      })
      .promise();
    try {
      const held = await pool.getConnection();
      const none = await fail(pool.query('SELECT 1'));
      expect(c(none)).toEqual({ kind: 'throttled', code: 'NO_CONNECTIONS', sent: false });
      held.release();
    } finally {
      await pool.end();
    }
    // MariaDB 10.11 without certificates offers no TLS.
    const noTls = await fail(connectAs({ user: 'root', ssl: { rejectUnauthorized: false } }));
    expect(c(noTls)).toEqual({ kind: 'fatal', code: 'HANDSHAKE_NO_SSL_SUPPORT', sent: false });
    // A bind value of undefined, as JavaScript callers can pass it (the types forbid it).
    const bind = await fail(admin.execute('SELECT ?', [undefined] as unknown as string[]));
    expect(bind).toBeInstanceOf(TypeError);
    expect(c(bind)).toEqual({ kind: 'fatal', sent: false });
  });

  it('VALIDATION_FAILED: the validation ping of a connection that died idle fails while the pool closes: not sent', async () => {
    await ready();
    const freezer = await startFreezer({ host: '127.0.0.1', port: server().port });
    const policy = {
      healthCheck: { interval: '30s', timeout: '300ms' },
      reconnect: { connectTimeout: '500ms' },
    };
    const options = mysqlOptionsSchema.parse({
      port: freezer.port,
      user: 'root',
      connectionLimit: 1,
      validateAfterIdle: 20,
    });
    const pool = await mysqlDriver.connect(options, connectContext(policy));
    try {
      await pool.query('SELECT 1'); // the connection's first use (a fresh one is not validated)
      await sleep(60);
      freezer.freeze(); // the idle connection dies without the client hearing of it
      const call = fail(pool.query('SELECT 1'));
      await sleep(50); // its validation ping is on the wire
      await mysqlDriver.close(pool); // the target closes the pool (a reconnect) while the ping waits
      const error = await call;
      expect((error as { code?: unknown }).code).toBe('VALIDATION_FAILED');
      expect(c(error)).toEqual({ kind: 'connection', code: 'VALIDATION_FAILED', sent: false });
    } finally {
      await mysqlDriver.close(pool);
      await freezer.close();
    }
  });
});
