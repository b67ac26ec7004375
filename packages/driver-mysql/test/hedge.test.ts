import type { PolicyInput, Target } from '@reconnect/core';
import { mergePolicies, startMariaDBReplicaSet, type MariaDBReplicaSet } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MySqlPool } from '../src/index.js';
import { mysqlTarget, preset, until } from './helpers.js';

// A hedged read on the real replicated set (a primary and two replicas): the statement sleeps 5 s on one replica
// (chosen by @@server_id) and answers at once on the other, so whichever replica the original lands on, one of the
// two reads starts on the slow one and is overtaken by its hedge. The loser must be stopped on the server (KILL
// QUERY from a side connection), not left running: its attempt was cancelled, not timed out (attemptTimeout 10 s).
const policy: PolicyInput = mergePolicies(preset('mysql'), {
  retry: {
    attemptTimeout: '10s',
    deadline: '20s',
    maxRetries: 0,
    hedge: { enabled: true, delay: '150ms', maxExtraLoad: '100%', maxAttempts: 2 },
  },
  circuitBreaker: { enabled: false },
});

const TAG = 'hedge-loser';

const serverIdOf = async (pool: MySqlPool, sql: string): Promise<number> => {
  const [rows] = await pool.query<RowDataPacket[]>(sql);
  return Number(rows[0]?.['id']);
};

describe('hedged MySQL reads on a real primary + two replicas', () => {
  let set: MariaDBReplicaSet;
  let target: Target<MySqlPool>;
  // server_id of the replica where the read sleeps (the replica set numbers them 2, 3).
  let slowId: number;

  beforeAll(async () => {
    set = await startMariaDBReplicaSet({ replicas: 2 });
    slowId = Number((await set.sql(set.replicas[1]!, 'SELECT @@server_id'))[0]);
    target = mysqlTarget(
      {
        primary: `127.0.0.1:${set.primary.port}`,
        replicas: set.replicas.map((r) => `127.0.0.1:${r.port}`),
        user: set.appUser.user,
        password: set.appUser.password,
        database: 'test',
      },
      policy,
    );
    await target.start();
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
    await set?.stop();
  });

  const status = async (server: MariaDBReplicaSet['servers'][number], name: string) =>
    Number((await set.sql(server, `SHOW GLOBAL STATUS LIKE '${name}'`))[0]?.split('\t')[1]);
  /** Its KILL statements and connections so far, read in one statement (each read is a connection of its own). */
  const counters = async (server: MariaDBReplicaSet['servers'][number]) => {
    const rows = await set.sql(
      server,
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_kill', 'Connections')",
    );
    const value = (name: string) => Number(rows.find((r) => r.startsWith(`${name}\t`))?.split('\t')[1]);
    return { kills: value('Com_kill'), connections: value('Connections') };
  };
  /** Statements still running the read on the slow replica (its processlist). */
  const running = async () =>
    Number(
      (
        await set.sql(
          set.replicas[1]!,
          `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${TAG}%' AND INFO NOT LIKE '%PROCESSLIST%'`,
        )
      )[0],
    );

  it('the loser of a hedged read is stopped on its replica with KILL QUERY, and the read answers from the other', async () => {
    const killsBefore = await status(set.replicas[1]!, 'Com_kill');
    const read = () =>
      target.execute(
        (pool) =>
          serverIdOf(
            pool,
            `SELECT @@server_id AS id, IF(@@server_id = ${slowId}, SLEEP(5), 0) AS s, '${TAG}' AS tag`,
          ),
        { readOnly: true, idempotent: true },
      );
    // Round-robin over the two replicas: of two reads in a row, one starts on the slow replica.
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const servedBy = await read();
      expect(servedBy).not.toBe(slowId);
      expect(servedBy).not.toBe(1);
      // Answered by the hedge (150 ms, then a fast statement), not after the loser's 5 s sleep.
      expect(performance.now() - started).toBeLessThan(1500);
    }
    // The loser does not run on: killed within a second, not after its 5 s.
    const cancelled = performance.now();
    await until(async () => (await running()) === 0, 1000);
    expect(performance.now() - cancelled).toBeLessThan(1000);
    // By a KILL run on the slow replica (one per read that started there, the hedge's own choice may add one).
    await until(async () => (await status(set.replicas[1]!, 'Com_kill')) > killsBefore, 1000);
    // The target still reads from both replicas afterwards (the loser's replica is not marked failed).
    const ids = new Set<number>();
    for (let i = 0; i < 4; i++)
      ids.add(
        await target.execute((pool) => serverIdOf(pool, 'SELECT @@server_id AS id'), {
          readOnly: true,
          idempotent: true,
        }),
      );
    expect([...ids].sort()).toEqual([2, 3]);
  }, 30_000);

  it('a loser that answers within the grace is not killed and keeps its connection (no new connection per hedge)', async () => {
    const slow = set.replicas[1]!;
    // Settle the pools: one connection per replica, each read spaced so the previous loser has ended.
    for (let i = 0; i < 4; i++)
      await target.execute((pool) => serverIdOf(pool, 'SELECT @@server_id AS id'), {
        readOnly: true,
        idempotent: true,
      });
    const before = await counters(slow);
    // 200 ms on the slow replica: hedged at 150 ms, the hedge answers at once, the loser ends 50 ms later, within
    // the driver's grace (LOST_HEDGE_GRACE_MS, 100 ms): left to finish, not killed, its connection reused.
    let hedged = 0;
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const id = await target.execute(
        (pool) =>
          serverIdOf(pool, `SELECT @@server_id AS id, IF(@@server_id = ${slowId}, SLEEP(0.2), 0) AS s`),
        { readOnly: true, idempotent: true },
      );
      expect(id).not.toBe(slowId);
      if (performance.now() - started >= 150) hedged++;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(hedged).toBeGreaterThan(0);
    // No KILL, and no connection but the one reading the counters (the mariadb client's own).
    expect(await counters(slow)).toEqual({ kills: before.kills, connections: before.connections + 1 });
  }, 30_000);
});
