import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mysql from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, type MySqlPool } from '../src/index.js';
import { connectContext } from './helpers.js';

// Server errors of the errno table that no throwaway MariaDB here sends (issue #24's audit; issue #25 accepted this
// stand-in): a loopback server that speaks just enough of the MySQL protocol (greeting, login, OK to every
// command) and answers one statement with the exact ERR packet MySQL or MariaDB sends, then closes when the real
// server would. mysql2 reads it on a real socket, through the driver's pool, as it would the real one. Why each
// cannot come from the real server is said beside it, and in docs/classification-audit.md.

/** An ERR packet a server sends: its error number, SQLSTATE and text; `close`: the server closes after it. */
interface ErrReply {
  errno: number;
  sqlState: string;
  message: string;
  close?: boolean;
  /** The packet's sequence number: 1 as the reply to a command; 0 for one sent on the server's own initiative. */
  sequence?: number;
}

function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

function errPayload(e: ErrReply): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(e.errno, 1);
  return Buffer.concat([head, Buffer.from(`#${e.sqlState}${e.message}`)]);
}

/** OK: no rows affected, no insert id, autocommit on, no warnings. */
const okPayload = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]);

/** HandshakeV10 offering mysql_native_password (protocol 4.1, secure connection, plugin auth). */
function greeting(connectionId: number): Buffer {
  const capabilities = 0x0001 | 0x0004 | 0x0008 | 0x0200 | 0x2000 | 0x8000 | 0x80000;
  const lower = Buffer.alloc(2);
  lower.writeUInt16LE(capabilities & 0xffff);
  const upper = Buffer.alloc(2);
  upper.writeUInt16LE(capabilities >>> 16);
  const id = Buffer.alloc(4);
  id.writeUInt32LE(connectionId);
  return Buffer.concat([
    Buffer.from([10]),
    Buffer.from('8.0.36-standin\0'),
    id,
    Buffer.from('abcdefgh\0'),
    lower,
    Buffer.from([0x21]),
    Buffer.from([0x02, 0x00]),
    upper,
    Buffer.from([21]),
    Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0'),
    Buffer.from('mysql_native_password\0'),
  ]);
}

/**
 * The stand-in: logs every client in, answers OK to every command but the statements `replies` names (matched on
 * the SQL text), which get their ERR packet. Returns the port and what it received.
 */
async function startStandIn(replies: Map<string, ErrReply>, afterLogin?: ErrReply) {
  const sockets = new Set<Socket>();
  const statements: string[] = [];
  let ids = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(packet(0, greeting(++ids)));
    let loggedIn = false;
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUIntLE(0, 3)) {
        const length = buffered.readUIntLE(0, 3);
        const sequence = buffered[3]!;
        const payload = buffered.subarray(4, 4 + length);
        buffered = buffered.subarray(4 + length);
        if (!loggedIn) {
          loggedIn = true;
          socket.write(packet(sequence + 1, okPayload));
          // On the server's own initiative, a moment after the login (MySQL's wait_timeout, shortened).
          if (afterLogin !== undefined)
            setTimeout(() => socket.end(packet(afterLogin.sequence ?? 0, errPayload(afterLogin))), 50);
          continue;
        }
        const command = payload[0];
        if (command === 0x01) {
          socket.end();
          return;
        }
        const sql = command === 0x03 ? payload.subarray(1).toString() : '';
        if (command === 0x03) statements.push(sql);
        const reply = replies.get(sql);
        if (reply === undefined) {
          socket.write(packet(1, okPayload));
          continue;
        }
        const out = packet(reply.sequence ?? 1, errPayload(reply));
        if (reply.close === true) {
          socket.end(out);
          return;
        }
        socket.write(out);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    statements,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Each case: the statement, the server's reply, and the classification it must get.
const cases: [string, ErrReply, Record<string, unknown>][] = [
  // MySQL ≥ 8.0.24 at wait_timeout: the ERR packet is sent on the server's initiative (sequence 0), then the socket
  // is closed; a statement sent as it times out reads it as its reply. MariaDB just closes.
  [
    'SELECT 4031',
    {
      errno: 4031,
      sqlState: 'HY000',
      message:
        'The client was disconnected by the server because of inactivity. See wait_timeout and interactive_timeout for configuring this behavior.',
      sequence: 0,
      close: true,
    },
    { kind: 'connection', code: 4031, codeName: 'ER_CLIENT_INTERACTION_TIMEOUT' },
  ],
  // MySQL's max_execution_time (a SELECT cut by it); MariaDB's max_statement_time answers 1969 instead.
  [
    'SELECT 3024',
    {
      errno: 3024,
      sqlState: 'HY000',
      message: 'Query execution was interrupted, maximum statement execution time exceeded',
    },
    { kind: 'timeout', code: 3024, codeName: 'ER_QUERY_TIMEOUT' },
  ],
  // MySQL, in an XA branch after its deadlock (the next statements and XA END). MariaDB 10.11 answers the deadlock
  // itself with 1213 and every later statement of the branch with 1399 XAER_RMFAIL (tried: SELECT, UPDATE, XA END).
  [
    'XA END 1614',
    {
      errno: 1614,
      sqlState: 'XA102',
      message: 'XA_RBDEADLOCK: Transaction branch was rolled back: deadlock was detected',
    },
    { kind: 'transient', code: 1614, codeName: 'ER_XA_RBDEADLOCK' },
  ],
  // InnoDB out of undo slots for another transaction (MySQL and MariaDB; exhausting them here is not practical).
  [
    'INSERT 1637',
    {
      errno: 1637,
      sqlState: 'HY000',
      message: 'Too many active concurrent transactions',
    },
    { kind: 'transient', code: 1637, codeName: 'ER_TOO_MANY_CONCURRENT_TRXS' },
  ],
  // MySQL's super_read_only / InnoDB read-only mode refusing a write.
  [
    'INSERT 1836',
    { errno: 1836, sqlState: 'HY000', message: 'Running in read-only mode' },
    { kind: 'transient', code: 1836, codeName: 'ER_READ_ONLY_MODE', readOnlyNode: true },
  ],
  // A statement cut by a shutdown that began while it ran (the server then closes). MariaDB 10.11 closes the
  // sockets at once: tried with SLEEP and a GET_LOCK wait under SHUTDOWN, the client sees the connection lost.
  [
    'SELECT 1053',
    { errno: 1053, sqlState: '08S01', message: 'Server shutdown in progress', close: true },
    { kind: 'connection', code: 1053, codeName: 'ER_SERVER_SHUTDOWN' },
  ],
  // The server's network errors: logged by a real server (an "Aborted connection" line) and sent only when the
  // socket still works, which the server could not know to be so here.
  [
    'SELECT 1152',
    {
      errno: 1152,
      sqlState: '08S01',
      message: "Aborted connection 7 to db: 'test' user: 'app'",
      close: true,
    },
    { kind: 'connection', code: 1152, codeName: 'ER_ABORTING_CONNECTION' },
  ],
  [
    'SELECT 1158',
    { errno: 1158, sqlState: '08S01', message: 'Got an error reading communication packets', close: true },
    { kind: 'connection', code: 1158, codeName: 'ER_NET_READ_ERROR' },
  ],
  [
    'SELECT 1159',
    { errno: 1159, sqlState: '08S01', message: 'Got timeout reading communication packets', close: true },
    { kind: 'connection', code: 1159, codeName: 'ER_NET_READ_INTERRUPTED' },
  ],
  [
    'SELECT 1160',
    { errno: 1160, sqlState: '08S01', message: 'Got an error writing communication packets', close: true },
    { kind: 'connection', code: 1160, codeName: 'ER_NET_ERROR_ON_WRITE' },
  ],
  [
    'SELECT 1161',
    { errno: 1161, sqlState: '08S01', message: 'Got timeout writing communication packets', close: true },
    { kind: 'connection', code: 1161, codeName: 'ER_NET_WRITE_INTERRUPTED' },
  ],
  // The SQLSTATE fallbacks, for errors without a rule: a serialization failure (40001: MySQL Group Replication's
  // 3101 "Plugin instructed the server to rollback the current transaction"), an interrupted statement (70100:
  // MySQL's 3169 "Session was killed"). MariaDB's only 40001 and 70100 errors (1213; 1317, 1969) have rules; its
  // 08S01 one without a rule (1156) comes from the real server in classify-real-protocol.test.ts.
  [
    'COMMIT 3101',
    {
      errno: 3101,
      sqlState: '40001',
      message: 'Plugin instructed the server to rollback the current transaction.',
    },
    { kind: 'transient', code: 3101 },
  ],
  [
    'SELECT 3169',
    { errno: 3169, sqlState: '70100', message: 'Session was killed' },
    { kind: 'timeout', code: 3169 },
  ],
];

describe('errors MariaDB does not send, as a server sends them, through the driver', () => {
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  beforeAll(async () => {
    standIn = await startStandIn(new Map(cases.map(([sql, reply]) => [sql, reply])));
  });
  afterAll(() => standIn?.close());

  /** The driver's pool on the stand-in (one per case: a case's server may close the connection it used). */
  const connect = (): Promise<MySqlPool> =>
    mysqlDriver.connect(
      mysqlOptionsSchema.parse({ host: '127.0.0.1', port: standIn.port, user: 'app', database: 'test' }),
      connectContext({ retry: { attemptTimeout: '2s' } }),
    );

  for (const [sql, reply, expected] of cases)
    it(`${reply.errno} (SQLSTATE ${reply.sqlState}): ${JSON.stringify(expected)}`, async () => {
      const pool = await connect();
      const error = await pool
        .query(sql)
        .then(
          () => expect.unreachable('the stand-in answers this statement with an error'),
          (e: unknown) => e as { errno?: unknown; sqlState?: unknown },
        )
        .finally(() => mysqlDriver.close(pool));
      expect(standIn.statements).toContain(sql);
      // mysql2 parsed the packet: the number and SQLSTATE are the server's.
      expect(error.errno).toBe(reply.errno);
      expect(error.sqlState).toBe(reply.sqlState);
      const classified = mysqlDriver.classify(error);
      expect(classified).toMatchObject(expected);
      // None of these says "not sent": the statement reached the server.
      expect(classified.sent).toBeUndefined();
    });
});

// MySQL ≥ 8.0.24 sends 4031 on an idle connection, with no command in flight: mysql2 then emits it as the
// connection's error with the number as `code` and neither `errno` nor `sqlState` (base/connection.js
// protocolError); classify.ts reads such a fatal numeric `code` as the server's number.
describe('4031 as MySQL sends it: on an idle connection', () => {
  it('is connection, like the same error as a reply', async () => {
    const standIn = await startStandIn(new Map(), {
      errno: 4031,
      sqlState: 'HY000',
      message: 'The client was disconnected by the server because of inactivity.',
    });
    const connection = mysql.createConnection({ host: '127.0.0.1', port: standIn.port, user: 'app' });
    try {
      const error = await new Promise<unknown>((resolve) => connection.once('error', resolve));
      // The number lands in `code` (not `errno`), and there is no sqlState.
      expect(error).toMatchObject({ code: 4031, fatal: true });
      expect((error as { errno?: unknown }).errno).toBeUndefined();
      expect(mysqlDriver.classify(error)).toMatchObject({ kind: 'connection' });
    } finally {
      connection.destroy();
      await standIn.close();
    }
  });
});
