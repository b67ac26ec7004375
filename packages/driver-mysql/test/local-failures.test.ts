import type { RetryEvent, Target } from '@reconnect/core';
import { startMariaDB, useServer } from '@reconnect/testkit';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, type MySqlPool } from '../src/index.js';
import { connectContext, control, mysqlTarget, sleep, until } from './helpers.js';

// Failures the client itself causes before anything is sent are `local` (core retries them transparently and
// neither its breaker nor passive health counts them); the same refusal after the server's doing is not.

const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected an error'),
    (e: unknown) => e,
  );

describe('local failures on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await control(server().port);
  });
  afterAll(async () => {
    await admin.end();
  });
  const connect = () =>
    mysqlDriver.connect(
      mysqlOptionsSchema.parse({ port: server().port, user: 'root', database: 'test' }),
      connectContext(),
    );

  it('a statement on a leased connection after the pool closed (a reconnect) is CLOSED_BY_CLIENT, local', async () => {
    const pool = await connect();
    const conn = await pool.getConnection();
    await conn.query('SELECT 1');
    await mysqlDriver.close(pool);
    expect(mysqlDriver.classify(await fail(conn.query('SELECT 1')))).toEqual({
      kind: 'connection',
      code: 'CLOSED_BY_CLIENT',
      sent: false,
      local: true,
    });
  });

  it('a statement on a connection the server killed is mysql2’s closed-state error: not sent, not local', async () => {
    const pool = await connect();
    try {
      const conn = await pool.getConnection();
      const [[row]] = (await conn.query('SELECT CONNECTION_ID() AS id')) as unknown as [{ id: number }[]];
      await admin.query(`KILL CONNECTION ${Number(row?.id)}`);
      const core = conn.connection as unknown as { _closing: boolean };
      await until(() => core._closing, 2000);
      const error = await fail(conn.query('SELECT 1'));
      expect((error as Error).message).toMatch(/^Can't add new command when connection is in closed state/);
      expect(mysqlDriver.classify(error)).toEqual({
        kind: 'connection',
        code: 'CONNECTION_CLOSED',
        sent: false,
      });
    } finally {
      await mysqlDriver.close(pool);
    }
  });

  it('behind a statement the driver cut: the queued one is CONNECTION_DESTROYED, the next CLOSED_BY_CLIENT, both local', async () => {
    const pool = await connect();
    try {
      const conn = await pool.getConnection();
      // Its own timeout cuts the first: the driver destroys the connection and kills the statement.
      const cut = conn.query({ sql: 'SELECT SLEEP(2)', timeout: 150 }).catch((e: unknown) => e);
      const queued = conn.query('SELECT 1').catch((e: unknown) => e);
      expect(mysqlDriver.classify(await cut)).toEqual({ kind: 'timeout', code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
      expect(mysqlDriver.classify(await queued)).toEqual({
        kind: 'connection',
        code: 'CONNECTION_DESTROYED',
        sent: false,
        local: true,
      });
      expect(mysqlDriver.classify(await fail(conn.query('SELECT 2')))).toEqual({
        kind: 'connection',
        code: 'CLOSED_BY_CLIENT',
        sent: false,
        local: true,
      });
    } finally {
      await mysqlDriver.close(pool);
    }
  });

  it("a call that waits in the pool's queue past half its attempt is retried transparently, counted by neither health nor the breaker", async () => {
    // One connection, held by a long statement; a breaker and a health check that one counted failure would trip;
    // no retries and nothing in retryOn: only a local retry can carry the waiting call through.
    const t: Target<MySqlPool> = mysqlTarget(
      { port: server().port, user: 'root', database: 'test', connectionLimit: 1 },
      {
        retry: { maxRetries: 0, attemptTimeout: '600ms', deadline: '5s', retryOn: { errors: [] } },
        circuitBreaker: { enabled: true, mode: 'consecutive', failureThreshold: 1, openFor: '30s' },
        healthCheck: { interval: '10s', failureThreshold: 1 },
      },
    );
    await t.start();
    try {
      const states: string[] = [];
      t.on('stateChange', (e) => states.push(e.to));
      const breaker: string[] = [];
      t.on('breakerStateChange', (e) => breaker.push(e.to));
      const retries: RetryEvent[] = [];
      t.on('retry', (e) => retries.push(e));
      const holder = t.execute((db) => db.query('SELECT SLEEP(1.2)'), { attemptTimeout: '3s' });
      await sleep(50);
      const started = Date.now();
      // Not declared idempotent: retried only because nothing was sent.
      const [rows] = await t.execute((db) => db.query('SELECT 7 AS n'), { name: 'waiter' });
      const took = Date.now() - started;
      await holder;
      const waiter = retries.filter((r) => r.operation === 'waiter');
      console.log(
        `queued behind SLEEP(1.2) on a pool of 1, attempt 600 ms: done in ${took} ms after ${waiter.length} local retries (${waiter.map((r) => String(mysqlDriver.classify(r.error).code)).join(', ')})`,
      );
      expect(rows).toEqual([{ n: 7 }]);
      expect(waiter.length).toBeGreaterThanOrEqual(2);
      for (const r of waiter) {
        expect(r.reason).toBe('local');
        expect(mysqlDriver.classify(r.error)).toEqual({
          kind: 'timeout',
          code: 'ACQUIRE_TIMEOUT',
          sent: false,
          local: true,
        });
        // Half of the 600 ms attempt: the statement is never sent with only the attempt's end left.
        expect((r.error as Error).message).toContain('within 300 ms, half of its attempt');
      }
      expect(states).toEqual([]);
      expect(breaker).toEqual([]);
      expect(t.isConnected()).toBe(true);
    } finally {
      await t.stop();
    }
  });
});
