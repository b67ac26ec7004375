import { startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMySqlError } from '../src/index.js';

// The errno rule 1153 produced by a real server (issue #24's audit): a statement larger than the server's
// `max_allowed_packet` is refused and the server drops the connection. `fatal` — the same statement is refused
// again on any connection — and not `sent: false`: the server read it before refusing.

describe('1153 ER_NET_PACKET_TOO_LARGE on a throwaway MariaDB', () => {
  let server: MariaDBServer;
  beforeAll(async () => {
    server = await startMariaDB();
    const root = await mysql.createConnection({ ...server.options });
    try {
      // Its minimum; new sessions take it.
      await root.query('SET GLOBAL max_allowed_packet = 1024');
    } finally {
      await root.end();
    }
  });
  afterAll(() => server?.stop());

  it('a statement over max_allowed_packet is fatal, and the server closes the connection', async () => {
    const c = await mysql.createConnection({ ...server.options });
    c.on('error', () => undefined);
    try {
      const error = await c.query('SELECT ?', ['x'.repeat(100_000)]).then(
        () => expect.unreachable('expected 1153'),
        (e: unknown) => e,
      );
      expect(classifyMySqlError(error)).toEqual({
        kind: 'fatal',
        code: 1153,
        codeName: 'ER_NET_PACKET_TOO_LARGE',
        aliases: ['ER_NET_PACKET_TOO_LARGE'],
      });
      await expect(c.query('SELECT 1')).rejects.toThrow();
    } finally {
      c.destroy();
    }
  });
});
