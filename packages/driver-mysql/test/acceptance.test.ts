import { resolvePolicy, type Target } from '@reconnect/core';
import { startMariaDB, useServer } from '@reconnect/testkit';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, mysqlPoolStats, type MySqlPool } from '../src/index.js';
import { startFreezer } from './freezer.js';
import {
  connectContext,
  mysqlTarget,
  opStream,
  preset,
  outcomeWithin,
  sleep,
  until,
  whenAccepting,
} from './helpers.js';

const targets: Target<MySqlPool>[] = [];
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
});
async function target(port: number, policy: ReturnType<typeof preset>, extra: object = {}) {
  const t = mysqlTarget({ port, user: 'root', database: 'test', ...extra }, policy);
  targets.push(t);
  await t.start();
  return t;
}

describe('hang (SIGSTOP) with preset fast-failover', () => {
  const server = useServer(() => startMariaDB());
  const policy = resolvePolicy(preset('fast-failover'));
  // worstCaseDetectionMs: interval · (1 + jitter) + failureThreshold · timeout = 330 + 2 · 150 = 630 ms.
  const bound =
    policy.healthCheck.interval * (1 + policy.healthCheck.jitter) +
    policy.healthCheck.failureThreshold * policy.healthCheck.timeout;
  const slack = 150;

  it('with traffic: reported down within worstCaseDetectionMs, and no operation waits past its deadline', async () => {
    const t = await target(server().port, preset('fast-failover'));
    const ops = opStream(20, () => t.execute((db) => db.query('SELECT 1'), { idempotent: true }));
    await sleep(200);
    let downAt: number | undefined;
    t.on('stateChange', (e) => {
      if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
    });
    await server().hang();
    const hungAt = Date.now();
    await until(() => downAt !== undefined, 3000);
    await sleep(policy.retry.deadline + 300);
    await server().resume();
    await until(() => t.isConnected(), 5000);
    await ops.stop();
    const during = ops.results.filter(
      (r) => r.startedAt >= hungAt - 50 && r.startedAt < hungAt + policy.retry.deadline,
    );
    const longest = Math.max(...during.map((r) => r.settledAt - r.startedAt));
    console.log(
      `hang, fast-failover, traffic: detected in ${downAt! - hungAt} ms (bound ${bound}); longest op ${longest} ms (deadline ${policy.retry.deadline})`,
    );
    expect(downAt! - hungAt).toBeLessThanOrEqual(bound + slack);
    expect(during.length).toBeGreaterThan(10);
    expect(longest).toBeLessThanOrEqual(policy.retry.deadline + 100);
  });

  it('without traffic: the health check alone reports it within worstCaseDetectionMs', async () => {
    const t = await target(server().port, preset('fast-failover'));
    let downAt: number | undefined;
    t.on('stateChange', (e) => {
      if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
    });
    await server().hang();
    const hungAt = Date.now();
    try {
      await until(() => downAt !== undefined, 3000);
    } finally {
      await server().resume();
    }
    console.log(`hang, fast-failover, no traffic: detected in ${downAt! - hungAt} ms (bound ${bound})`);
    expect(downAt! - hungAt).toBeLessThanOrEqual(bound + slack);
    await until(() => t.isConnected(), 5000);
  });

  it('raw mysql2 at its defaults has not settled a query after 3 s of hang (it waits for ever)', async () => {
    const raw = mysql.createPool({ host: '127.0.0.1', port: server().port, user: 'root' });
    await raw.query('SELECT 1');
    try {
      await server().hang();
      expect((await outcomeWithin(raw.query('SELECT 1'), 3000)).state).toBe('pending');
    } finally {
      await server().resume();
      await raw.end();
    }
  });
});

describe('crash 3 s and restart: first success within 300 ms of MariaDB accepting connections', () => {
  const server = useServer(() => startMariaDB());

  // Both presets as shipped, breaker on. Before the core's one rule for every outage (an open breaker is not
  // asked while the target reconnects) and passive failures confirmed by a probe at once, a burst of failures
  // at the crash could open preset:mysql's breaker before the loss was declared (2 of 5 runs failed).
  for (const name of ['mysql', 'fast-failover'] as const) {
    const policy = preset(name);
    it(`with preset ${name}; no idempotent operation fails (mysql), no write runs twice`, async () => {
      const t = await target(server().port, policy);
      await t.execute((db) => db.query('CREATE TABLE IF NOT EXISTS crash_writes (op INT NOT NULL)'), {
        idempotent: true,
      });
      await t.execute((db) => db.query('TRUNCATE crash_writes'), { idempotent: true });
      const reads = opStream(20, () => t.execute((db) => db.query('SELECT 1'), { idempotent: true }));
      const acked: number[] = [];
      const writes = opStream(40, (i) =>
        t
          .execute((db) => db.query('INSERT INTO crash_writes (op) VALUES (?)', [i]))
          .then(() => acked.push(i)),
      );
      await sleep(200);
      await server().kill();
      await until(() => !t.isConnected(), 3000);
      await sleep(3000);
      const accepting = whenAccepting(server().port);
      await server().restart();
      const acceptedAt = await accepting.at;
      await until(() => reads.firstSuccessAfter(acceptedAt) !== undefined, 5000);
      await sleep(300);
      await reads.stop();
      await writes.stop();
      const recoveryMs = reads.firstSuccessAfter(acceptedAt)! - acceptedAt;
      const failedReads = reads.results.filter((r) => !r.ok);
      const [rows] = await t.execute(
        (db) => db.query<RowDataPacket[]>('SELECT op, COUNT(*) AS n FROM crash_writes GROUP BY op'),
        { idempotent: true },
      );
      const duplicated = rows.filter((r) => Number(r['n']) > 1).length;
      const stored = new Set(rows.map((r) => Number(r['op'])));
      const lost = acked.filter((op) => !stored.has(op)).length;
      for (const r of failedReads.slice(0, 3)) {
        const e = r.error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
        console.log(`failed read: ${e.code} ${e.message} ← ${e.cause?.code} ${e.cause?.message}`);
      }
      console.log(
        `crash 3 s, preset ${name}: first success ${recoveryMs} ms after MariaDB accepted; reads failed ${failedReads.length}/${reads.results.length}; writes acknowledged ${acked.length}/${writes.results.length}, duplicated ${duplicated}, lost ${lost}`,
      );
      expect(recoveryMs).toBeLessThanOrEqual(300);
      // preset mysql waits up to its 10 s deadline: the 3 s outage fails nothing.
      if (name === 'mysql') expect(failedReads.length).toBe(0);
      expect(duplicated).toBe(0);
      expect(lost).toBe(0);
      expect(t.isConnected()).toBe(true);
    }, 30_000);
  }
});

describe('stale pooled connections', () => {
  const server = useServer(() => startMariaDB());

  it('connections that died while idle (no FIN reached the client) are validated and replaced: reads and writes succeed', async () => {
    const freezer = await startFreezer(server().options);
    const pool = await mysqlDriver.connect(
      mysqlOptionsSchema.parse({
        port: freezer.port,
        user: 'root',
        database: 'test',
        validateAfterIdle: 100,
        // The three connections held below are opened at once (the pacer would space them 1-1.5 s, then 200-300 ms,
        // apart on a new pool: past the 1 s a lease outside an operation waits). Pacing is not what this test is about.
        connectRate: 0,
      }),
      connectContext({ healthCheck: { interval: '30s', timeout: '150ms' }, retry: { attemptTimeout: '1s' } }),
    );
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS stale_writes (id INT)');
      const held = await Promise.all([1, 2, 3].map(() => pool.getConnection()));
      for (const c of held) c.release();
      await sleep(150);
      freezer.freeze();
      const started = Date.now();
      const [rows] = await pool.query('SELECT 1 AS ok');
      await pool.query('INSERT INTO stale_writes VALUES (1)');
      const took = Date.now() - started;
      const stats = mysqlPoolStats(pool);
      console.log(
        `stale connections: replaced in ${took} ms; validated ${stats.validated}, discarded ${stats.discarded}`,
      );
      expect(rows).toEqual([{ ok: 1 }]);
      // One ping timed out (150 ms); the other two idle as long were discarded without a ping each.
      expect(stats.discarded).toBe(3);
      expect(stats.validated).toBe(1);
      expect(took).toBeLessThan(150 + 400);
      const [count] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM stale_writes');
      expect(Number(count[0]?.['n'])).toBe(1);
    } finally {
      await mysqlDriver.close(pool);
      await freezer.close();
    }
  });

  it('raw mysql2 hands such a connection out: the query waits for ever', async () => {
    const freezer = await startFreezer(server().options);
    const raw = mysql.createPool({ host: '127.0.0.1', port: freezer.port, user: 'root' });
    try {
      await raw.query('SELECT 1');
      freezer.freeze();
      expect((await outcomeWithin(raw.query('SELECT 1'), 1500)).state).toBe('pending');
    } finally {
      await freezer.close();
      await raw.end().catch(() => undefined);
    }
  });

  it('after a reconnect the old pool is closed: none of its connections is used again', async () => {
    const t = await target(server().port, preset('fast-failover'));
    const before = t.client;
    await server().kill();
    await until(() => !t.isConnected(), 3000);
    await server().restart();
    await until(() => t.isConnected(), 5000);
    expect(t.client).not.toBe(before);
    // The old pool is ended: a call on it is refused (never mixed with the new one).
    const error = await before.query('SELECT 1').catch((e: unknown) => e);
    expect(mysqlDriver.classify(error)).toMatchObject({ kind: 'connection', sent: false });
    await t.execute((db) => db.query('SELECT 1'), { idempotent: true });
  });
});
