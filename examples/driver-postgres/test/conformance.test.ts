import { runDriverConformance, scenarioNames, startPostgres, type PostgresServer } from '@reconnect/testkit';
import { expect } from 'vitest';
import postgresDriver, {
  postgresOptionsSchema,
  type PostgresClient,
  type PostgresOptions,
} from '../src/index.js';

const options = (endpoint: { host: string; port: number }, server: PostgresServer): PostgresOptions =>
  postgresOptionsSchema.parse({
    host: endpoint.host,
    port: endpoint.port,
    user: server.options.user,
    database: server.options.database,
    max: 4,
  });

const faults = ['reset-mid-reply', 'flapping', 'latency-spike'];

// The testkit's suite on a throwaway PostgreSQL (never the shared one): crash, hang, blackhole, reset,
// a lost reply to an INSERT, bad credentials, stop. The throwaway server trusts every existing role, so
// "bad credentials" is a role that does not exist (SQLSTATE 28000).
runDriverConformance<PostgresOptions, PostgresClient, PostgresServer>({
  driver: postgresDriver,
  server: () => startPostgres(),
  options,
  badAuthOptions: (endpoint, server) => ({ ...options(endpoint, server), user: 'no_such_role' }),
  operations: {
    idempotentRead: (pool) => pool.query('SELECT 1'),
    nonIdempotentWrite: (pool) => pool.query('INSERT INTO conformance_writes DEFAULT VALUES'),
    countWrites: async (pool) => {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM conformance_writes');
      return Number(rows[0]?.n ?? 0);
    },
    setup: async (pool) => {
      await pool.query('CREATE TABLE IF NOT EXISTS conformance_writes (id serial PRIMARY KEY)');
    },
  },
  // Network faults of the testkit's catalogue, applied through the fault proxy under a steady load.
  faults,
  onReport: (report) => {
    expect(report.results.map((r) => [r.scenario, r.status])).toEqual([
      ...scenarioNames.map((name) => [name, 'passed']),
      ...faults.map((name) => [`fault:${name}`, 'passed']),
    ]);
  },
});
