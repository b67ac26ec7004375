import { join } from 'node:path';
import { runDriverConformance, scenarioNames, startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, type MySqlDriverOptions, type MySqlPool } from '../src/index.js';

const options = (endpoint: { host: string; port: number }, server: MariaDBServer): MySqlDriverOptions =>
  mysqlOptionsSchema.parse({
    host: endpoint.host,
    port: endpoint.port,
    user: server.options.user,
    database: server.options.database,
    connectionLimit: 4,
  });

// The testkit's suite on a throwaway MariaDB (never the shared one): crash, hang, blackhole, reset, a lost
// reply to an INSERT, bad credentials, stop. The report is written beside the README's figures on request.
runDriverConformance<MySqlDriverOptions, MySqlPool, MariaDBServer>({
  driver: mysqlDriver,
  server: () => startMariaDB(),
  options,
  badAuthOptions: (endpoint, server) => ({ ...options(endpoint, server), password: 'not-the-password' }),
  operations: {
    idempotentRead: (pool) => pool.query('SELECT 1'),
    nonIdempotentWrite: (pool) => pool.query('INSERT INTO conformance_writes () VALUES ()'),
    countWrites: async (pool) => {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM conformance_writes');
      return Number(rows[0]?.['n'] ?? 0);
    },
    setup: async (pool) => {
      await pool.query('CREATE TABLE IF NOT EXISTS conformance_writes (id INT AUTO_INCREMENT PRIMARY KEY)');
    },
  },
  reportFile: process.env['RECONNECT_REPORT_DIR']
    ? join(process.env['RECONNECT_REPORT_DIR'], 'mysql-conformance.md')
    : undefined,
  onReport: (report) => {
    expect(report.results.map((r) => [r.scenario, r.status])).toEqual(
      scenarioNames.map((name) => [name, 'passed']),
    );
  },
});
