import { resolvePolicy, type PolicyInput, type Target } from '@reconnect/core';
import { mergePolicies, startMariaDBReplicaSet, type MariaDBReplicaSet } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isMySqlDriverError, mysqlDriver, mysqlOptionsSchema, type MySqlPool } from '../src/index.js';
import { mysqlTarget, opStream, preset, sleep, until } from './helpers.js';

// Lag-aware replica reads on a real replicated MariaDB set (a primary, two replicas), replication held back on the
// replica side: MASTER_DELAY (a replica that applies every event 3 s late, Seconds_Behind_Master 1-3 while the
// primary writes) and STOP SLAVE SQL_THREAD (replication stopped). fast-failover with the breaker off, a probe every
// 500 ms with 400 ms to answer (two statements per replica probe on a shared machine) and a short dead time, so a caught-up replica is
// back within a second or two.
const policy: PolicyInput = mergePolicies(preset('fast-failover'), {
  circuitBreaker: { enabled: false },
  healthCheck: { interval: '500ms', timeout: '400ms' },
  pool: { deadTimeout: '500ms', deadTimeoutMax: '1s' },
});

const serverId = async (pool: MySqlPool): Promise<number> => {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT @@server_id AS id');
  return Number(rows[0]?.['id']);
};

describe('lag-aware replica reads (maxLag) on a real replicated MariaDB set', () => {
  let set: MariaDBReplicaSet;
  const targets: Target<MySqlPool>[] = [];
  beforeAll(async () => {
    set = await startMariaDBReplicaSet({ replicas: 2 });
    await set.sql(set.primary, 'CREATE TABLE test.ticks (id INT AUTO_INCREMENT PRIMARY KEY, at BIGINT)');
    // SHOW REPLICA STATUS needs SLAVE MONITOR; `watcher` lacks it (the privilege test).
    await set.sql(
      set.primary,
      [
        "GRANT SLAVE MONITOR ON *.* TO 'app'@'%'",
        "CREATE USER 'watcher'@'%' IDENTIFIED BY 'watcher-password'",
        "GRANT SELECT ON test.* TO 'watcher'@'%'",
      ].join('; '),
    );
    await set.sync();
  }, 90_000);
  afterAll(async () => {
    await set?.stop();
  });
  afterEach(async () => {
    await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
    for (const r of set.replicas)
      await set.sql(r, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
    await set.sync(15_000);
  }, 30_000);

  async function start(options: object = {}): Promise<Target<MySqlPool>> {
    const t = mysqlTarget(
      {
        primary: `127.0.0.1:${set.primary.port}`,
        replicas: set.replicas.map((r) => `127.0.0.1:${r.port}`),
        user: set.appUser.user,
        password: set.appUser.password,
        database: 'test',
        maxLag: '1s',
        ...options,
      },
      policy,
    );
    targets.push(t);
    await t.start();
    return t;
  }

  // Writes on the primary every 100 ms, so a delayed replica has events to be behind on.
  function ticking() {
    return opStream(100, () => set.sql(set.primary, `INSERT INTO test.ticks (at) VALUES (${Date.now()})`));
  }
  const read = (t: Target<MySqlPool>) => t.execute(serverId, { readOnly: true, idempotent: true });

  it('a replica behind by more than maxLag takes no reads, the other replica serves them, and it comes back once caught up', async () => {
    const t = await start();
    expect((await Promise.all([1, 2, 3, 4].map(() => read(t)))).sort()).toEqual([2, 2, 3, 3]);
    await set.sql(set.replicas[0]!, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    const writes = ticking();
    const reads = opStream(20, () => read(t));
    // Behind by 2 s (> maxLag 1 s) about 2 s after the first delayed write; out at the next probe (500 ms).
    await until(
      () => t.health().nodes.find((n) => n.id.endsWith(`:${set.replicas[0]!.port}`))?.alive === false,
      10_000,
      50,
    );
    const leftAt = Date.now();
    await sleep(1500);
    await writes.stop();
    const stoppedWritingAt = Date.now();
    // Caught up at most 3 s after the last write (MASTER_DELAY), back at the next probe or resurrection ping.
    await until(
      () => reads.results.some((r) => r.startedAt > stoppedWritingAt && r.ok && r.value === 2),
      10_000,
      50,
    );
    const backMs = Date.now() - stoppedWritingAt;
    await reads.stop();
    const whileOut = reads.results.filter(
      (r) => r.startedAt > leftAt + 100 && r.startedAt < stoppedWritingAt,
    );
    const failed = reads.results.filter((r) => !r.ok);
    console.log(
      `maxLag 1s, MASTER_DELAY 3: ${whileOut.length} reads while the replica was out (server ids ${[...new Set(whileOut.map((r) => r.value))].join(',')}), ${failed.length} of ${reads.results.length} reads failed; back ${backMs} ms after the last write`,
    );
    expect(whileOut.length).toBeGreaterThan(20);
    // Out of rotation: every read in that window served by the other replica, none by the lagging one or the primary.
    expect(whileOut.every((r) => r.ok && r.value === 3)).toBe(true);
    expect(failed).toEqual([]);
    expect(backMs).toBeLessThan(8000);
  }, 40_000);

  it('a replica whose own maxLag allows the delay keeps serving reads', async () => {
    const t = await start({
      replicas: [
        { host: '127.0.0.1', port: set.replicas[0]!.port, maxLag: 10_000 },
        `127.0.0.1:${set.replicas[1]!.port}`,
      ],
    });
    await set.sql(set.replicas[0]!, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    const writes = ticking();
    const node = () => t.health().nodes.find((n) => n.id.endsWith(`:${set.replicas[0]!.port}`));
    try {
      await until(async () => ((await set.status(set.replicas[0]!)).secondsBehind ?? 0) >= 2, 10_000, 100);
      await sleep(1100); // two probes at the 500 ms interval
      const served = await Promise.all(Array.from({ length: 8 }, () => read(t)));
      expect(served.filter((id) => id === 2).length).toBe(4);
      expect(node()?.alive).toBe(true);
      // What its last probe said (a probe cut by the 400 ms timeout on a busy machine clears it until the next).
      await until(() => /: [1-3] s behind its primary \(maxLag 10s\)$/.test(node()?.status ?? ''), 3000, 20);
    } finally {
      await writes.stop();
    }
  }, 30_000);

  it('replication stopped on every replica: reads go to the primary, and back to the replicas when it runs again', async () => {
    const t = await start();
    for (const r of set.replicas) await set.sql(r, 'STOP SLAVE SQL_THREAD');
    const reads = opStream(20, () => read(t));
    await until(() => t.health().nodes.filter((n) => !n.alive).length === 2, 5000, 20);
    const outAt = Date.now();
    await sleep(800);
    for (const r of set.replicas) await set.sql(r, 'START SLAVE SQL_THREAD');
    const restartedAt = Date.now();
    await until(
      () => reads.results.some((r) => r.startedAt > restartedAt && r.ok && r.value !== 1),
      5000,
      20,
    );
    await reads.stop();
    const whileOut = reads.results.filter((r) => r.startedAt > outAt + 100 && r.startedAt < restartedAt);
    expect(whileOut.length).toBeGreaterThan(10);
    expect(whileOut.every((r) => r.ok && r.value === 1)).toBe(true);
    expect(reads.results.filter((r) => !r.ok)).toEqual([]);
  }, 30_000);

  it('the probe says why: how far behind, replication stopped, or the privilege SHOW REPLICA STATUS needs', async () => {
    const options = mysqlOptionsSchema.parse({
      primary: `127.0.0.1:${set.primary.port}`,
      replicas: [`127.0.0.1:${set.replicas[0]!.port}`],
      user: 'app',
      password: set.appUser.password,
      database: 'test',
      maxLag: 0,
    });
    const replica = mysqlDriver.nodes!(options)[1]!;
    const ctx = {
      policy: resolvePolicy(policy),
      signal: new AbortController().signal,
      target: 't',
      node: replica,
    };
    const pool = await mysqlDriver.connect(options, ctx);
    const probe = () => mysqlDriver.probe(pool, { signal: AbortSignal.timeout(2000) });
    try {
      expect(await probe()).toEqual({
        status: `replica ${replica.id}: 0 s behind its primary (maxLag 0ms)`,
      });
      await set.sql(set.replicas[0]!, 'STOP SLAVE SQL_THREAD');
      const error = await probe().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMySqlDriverError(error) && error.code).toBe('REPLICA_LAGGING');
      expect((error as Error).message).toMatch(
        new RegExp(
          `^replication stopped on replica ${replica.id.replace(/[.]/g, '\\.')} \\(SQL thread: No\\)`,
        ),
      );
      // A statement through an operation's view is refused unsent while the last probe said so.
      const view = mysqlDriver.bindAttempt!(pool, {
        attempt: 1,
        signal: new AbortController().signal,
        aborted: false,
        reason: undefined,
        onAbort: () => undefined,
        offAbort: () => undefined,
        node: replica,
        timeoutMs: 2000,
      });
      const refused = await view.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(mysqlDriver.classify(refused)).toMatchObject({
        kind: 'connection',
        sent: false,
        code: 'REPLICA_LAGGING',
      });
      await set.sql(set.replicas[0]!, 'START SLAVE SQL_THREAD');
      await set.sync();
      await probe();
      expect(await view.query('SELECT 1')).toBeDefined();
    } finally {
      await mysqlDriver.close(pool);
    }
    const watcher = mysqlOptionsSchema.parse({ ...options, user: 'watcher', password: 'watcher-password' });
    const pool2 = await mysqlDriver.connect(watcher, ctx);
    try {
      const error = await mysqlDriver.probe(pool2, { signal: AbortSignal.timeout(2000) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as Error).message).toMatch(
        /grant the pool's user SLAVE MONITOR \(MariaDB 10\.5\.9\+\) or REPLICATION CLIENT/,
      );
      expect(mysqlDriver.classify(error)).toMatchObject({ sent: false, code: 'REPLICA_LAGGING' });
    } finally {
      await mysqlDriver.close(pool2);
    }
  }, 30_000);
});
