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
