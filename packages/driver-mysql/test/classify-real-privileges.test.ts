import { startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMySqlError } from '../src/index.js';

// Rules of the errno table that classify-real.test.ts does not produce (issue #24's audit: every rule exercised by
// a real server): a statement refused for want of a table, column or global privilege (1142, 1143, 1227: `auth`,
// and sent — the server parsed it, and the policy must not retry a permission), and a statement interrupted by
// `KILL QUERY` (1317: `timeout`, it may have done part of its work).

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (e: unknown) => e,
  );

describe('privilege refusals and an interrupted statement on a throwaway MariaDB', () => {
  let server: MariaDBServer;
  let root: mysql.Connection;
  let limited: mysql.Connection;
  beforeAll(async () => {
    server = await startMariaDB();
    root = await mysql.createConnection({ ...server.options });
    await root.query('CREATE TABLE t (a INT, b INT)');
    await root.query("CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'");
    await root.query("GRANT SELECT (a) ON test.t TO 'reader'@'%'");
    limited = await mysql.createConnection({ ...server.options, user: 'reader', password: 'reader-pw' });
  });
  afterAll(async () => {
    await limited?.end();
    await root?.end();
    await server?.stop();
  });

  it('1142 ER_TABLEACCESS_DENIED_ERROR: an INSERT without the table privilege is auth, and nothing landed', async () => {
    const error = await rejection(limited.query('INSERT INTO t VALUES (1, 1)'));
    expect(classifyMySqlError(error)).toEqual({
      kind: 'auth',
      code: 1142,
      codeName: 'ER_TABLEACCESS_DENIED_ERROR',
      aliases: ['ER_TABLEACCESS_DENIED_ERROR'],
    });
    const [rows] = await root.query('SELECT COUNT(*) AS n FROM t');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('1143 ER_COLUMNACCESS_DENIED_ERROR: a SELECT of a column not granted is auth', async () => {
    const error = await rejection(limited.query('SELECT b FROM t'));
    expect(classifyMySqlError(error)).toEqual({
      kind: 'auth',
      code: 1143,
      codeName: 'ER_COLUMNACCESS_DENIED_ERROR',
      aliases: ['ER_COLUMNACCESS_DENIED_ERROR'],
    });
    // The column granted is served on the same connection: the refusal did not end it.
    await expect(limited.query('SELECT a FROM t')).resolves.toBeDefined();
  });

  it('1227 ER_SPECIFIC_ACCESS_DENIED_ERROR: a SET GLOBAL without SUPER is auth, and the setting is unchanged', async () => {
    const [before] = await root.query('SELECT @@global.max_connections AS m');
    const error = await rejection(limited.query('SET GLOBAL max_connections = 99'));
    expect(classifyMySqlError(error)).toEqual({
      kind: 'auth',
      code: 1227,
      codeName: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
      aliases: ['ER_SPECIFIC_ACCESS_DENIED_ERROR'],
    });
    const [after] = await root.query('SELECT @@global.max_connections AS m');
    expect(after).toEqual(before);
  });

  it('1317 ER_QUERY_INTERRUPTED: a statement stopped by KILL QUERY is a timeout (it may have done part of its work)', async () => {
    const victim = await mysql.createConnection({ ...server.options });
    try {
      const [[{ id }]] = (await victim.query('SELECT CONNECTION_ID() AS id')) as unknown as [
        [{ id: number }],
      ];
      const running = rejection(victim.query('SELECT SLEEP(5)'));
      // Wait until the statement runs, then interrupt it from another session.
      for (let i = 0; i < 100; i++) {
        const [rows] = await root.query(
          'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id = ? AND info LIKE ?',
          [id, 'SELECT SLEEP%'],
        );
        if ((rows as { n: number }[])[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await root.query(`KILL QUERY ${id}`);
      const error = await running;
      expect(classifyMySqlError(error)).toEqual({
        kind: 'timeout',
        code: 1317,
        codeName: 'ER_QUERY_INTERRUPTED',
        aliases: ['ER_QUERY_INTERRUPTED'],
      });
      // KILL QUERY leaves the connection open.
      await expect(victim.query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await victim.end();
    }
  });
});
