import { createServer, type AddressInfo } from 'node:net';
import { startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyMySqlError } from '../src/index.js';

// 1130 (ER_HOST_NOT_PRIVILEGED) from a real MariaDB: no account matches the client's host. The throwaway server
// runs with --skip-name-resolve, so TCP from 127.0.0.1 matches only accounts for 127.0.0.1 (and '%'), never
// 'localhost'; with those dropped (through the unix socket, where root@localhost still logs in), a TCP login is
// refused at the handshake: nothing was sent.
describe('1130 from a real MariaDB: a host no account allows', () => {
  let server: MariaDBServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('is auth, not sent, and readable', async () => {
    server = await startMariaDB();
    const admin = await mysql.createConnection({ socketPath: server.socketPath, user: 'root' });
    try {
      await admin.query("DROP USER IF EXISTS 'root'@'127.0.0.1'");
      await admin.query("DROP USER IF EXISTS 'root'@'::1'");
      const [wild] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM mysql.user WHERE host IN ('%', '127.0.0.1')",
      );
      expect(Number(wild[0]?.['n'])).toBe(0);
    } finally {
      await admin.end();
    }
    const error = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' }).then(
      () => expect.unreachable('the login should be refused'),
      (e: unknown) => e as { errno?: number; message?: string },
    );
    expect(error.errno).toBe(1130);
    expect(error.message).toMatch(/Host '127\.0\.0\.1' is not allowed to connect/);
    expect(classifyMySqlError(error)).toMatchObject({ kind: 'auth', code: 1130, sent: false });
  });
});

// 1129 (a host blocked after max_connect_errors) and 1251 (an auth method the client lacks) cannot come from a
// throwaway MariaDB here: the server keeps no host cache for loopback addresses, so it never blocks 127.0.0.1, and
// mysql2 speaks every method MariaDB offers without a plugin. A server refuses both before its greeting, with an
// error packet in place of the handshake; a loopback server that sends exactly that packet lets mysql2 parse it as it
// would a real one, on a real socket.
describe('1129 and 1251 as a server sends them, in place of its greeting', () => {
  const refusing = async (errno: number, message: string) => {
    const body = Buffer.concat([Buffer.from([0xff, errno & 0xff, errno >> 8]), Buffer.from(message)]);
    const header = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16, 0]);
    const srv = createServer((socket) => socket.end(Buffer.concat([header, body])));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      return await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' }).then(
        () => expect.unreachable('the login should be refused'),
        (e: unknown) => e as { errno?: number },
      );
    } finally {
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  };

  it('1129: throttled, not sent', async () => {
    const error = await refusing(1129, "Host '10.0.0.7' is blocked because of many connection errors");
    expect(error.errno).toBe(1129);
    expect(classifyMySqlError(error)).toMatchObject({ kind: 'throttled', code: 1129, sent: false });
  });

  it('1251: auth, not sent', async () => {
    const error = await refusing(1251, 'Client does not support authentication protocol requested by server');
    expect(error.errno).toBe(1251);
    expect(classifyMySqlError(error)).toMatchObject({ kind: 'auth', code: 1251, sent: false });
  });
});
