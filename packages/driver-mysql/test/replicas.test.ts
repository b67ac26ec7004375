import { isOutcomeUnknownError, isReconnectError, type PolicyInput, type Target } from '@reconnect/core';
import { mergePolicies, startMariaDBReplicaSet, type MariaDBReplicaSet } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema, type MySqlPool } from '../src/index.js';
import { mysqlTarget, opStream, preset, sleep, until } from './helpers.js';

// fast-failover, with the breaker off: the breaker is the target's, so the primary's failing writes
// would also shed the replica's reads (see the README's limits).
const policy: PolicyInput = mergePolicies(preset('fast-failover'), { circuitBreaker: { enabled: false } });

const serverId = async (pool: MySqlPool): Promise<number> => {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT @@server_id AS id');
  return Number(rows[0]?.['id']);
};

describe('primary + replica on a real replicated pair (startMariaDBReplicaSet)', () => {
  let set: MariaDBReplicaSet;
  const targets: Target<MySqlPool>[] = [];
  beforeAll(async () => {
    set = await startMariaDBReplicaSet();
    await set.sql(set.primary, 'CREATE TABLE test.writes (id INT AUTO_INCREMENT PRIMARY KEY, v INT)');
    await set.sync();
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });
  afterEach(async () => {
    await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
    for (const s of set.servers) {
      if (s.status === 'hung') await s.resume();
      if (s.status === 'killed') await s.restart();
    }
  });

  async function start(options: object = {}, p: PolicyInput = policy): Promise<Target<MySqlPool>> {
    const t = mysqlTarget(
      {
        primary: `127.0.0.1:${set.primary.port}`,
        replicas: [`127.0.0.1:${set.replicas[0]!.port}`],
        user: set.appUser.user,
        password: set.appUser.password,
        database: 'test',
        ...options,
      },
      p,
    );
    targets.push(t);
    await t.start();
    return t;
  }

  it('nodes() names the primary and the replica with their roles', () => {
    const nodes = mysqlDriver.nodes!(
      mysqlOptionsSchema.parse({
        primary: '10.0.0.1:3306',
        replicas: ['10.0.0.2', { host: '10.0.0.3', port: 3307 }],
      }),
    );
    expect(nodes).toEqual([
      { id: '10.0.0.1:3306', host: '10.0.0.1', port: 3306, roles: ['primary'] },
      { id: '10.0.0.2:3306', host: '10.0.0.2', port: 3306, roles: ['replica'] },
      { id: '10.0.0.3:3307', host: '10.0.0.3', port: 3307, roles: ['replica'] },
    ]);
    expect(
      mysqlDriver.nodes!(
        mysqlOptionsSchema.parse({
          nodes: [{ host: 'a', role: 'primary' }, { host: 'b', role: 'replica' }, 'c:1'],
        }),
      ).map((n) => n.roles),
    ).toEqual([['primary'], ['replica'], undefined]);
    expect(mysqlDriver.nodes!(mysqlOptionsSchema.parse({ host: 'a' }))).toEqual([]);
  });

  it('readOnly operations go to the replica, everything else to the primary', async () => {
    const t = await start();
    const reads = await Promise.all(
      [1, 2, 3].map(() => t.execute(serverId, { readOnly: true, idempotent: true })),
    );
    const writes = await Promise.all([1, 2, 3].map(() => t.execute(serverId, { idempotent: true })));
    expect(reads).toEqual([2, 2, 2]);
    expect(writes).toEqual([1, 1, 1]);
  });

  it('the primary crashes: reads keep succeeding on the replica, writes fail within their deadline with a clear error and resume when it is back', async () => {
    const t = await start();
    const reads = opStream(20, () => t.execute(serverId, { readOnly: true, idempotent: true }));
    await sleep(200);
    await set.primary.kill();
    const killedAt = Date.now();
    const deadline = 1000;
    const write = await t
      .execute((pool) => pool.query('INSERT INTO writes (v) VALUES (1)'), { deadline })
      .then(
        () => ({ ok: true as const, at: Date.now() }),
        (error: unknown) => ({ ok: false as const, error, at: Date.now() }),
      );
    await sleep(1000);
    await set.primary.restart();
    const restartedAt = Date.now();
    await until(
      async () => {
        try {
          await t.execute((pool) => pool.query('INSERT INTO writes (v) VALUES (2)'), { deadline: 500 });
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      50,
    );
    const resumedMs = Date.now() - restartedAt;
    await reads.stop();
    const during = reads.results.filter((r) => r.startedAt >= killedAt);
    const failed = during.filter((r) => !r.ok);
    console.log(
      `primary crash: ${during.length} replica reads, ${failed.length} failed; write failed after ${write.at - killedAt} ms; writes resumed ${resumedMs} ms after the restart`,
    );
    expect(during.length).toBeGreaterThan(20);
    expect(failed.map((r) => String(r.error))).toEqual([]);
    expect(write.ok).toBe(false);
    expect(write.at - killedAt).toBeLessThanOrEqual(deadline + 300);
    const error = (write as { error: unknown }).error;
    // A ReconnectError naming the reason, with the refused connection as its cause: never sent, never a replica.
    expect(isReconnectError(error), String(error)).toBe(true);
    expect(String((error as Error).message)).not.toMatch(/1290/);
    expect((error as { outcome?: string }).outcome).toBe('not_sent');
  }, 30_000);

  it('a replica hangs: reads move to the primary, no caller waits past its deadline', async () => {
    const t = await start();
    const deadline = 2000;
    const reads = opStream(20, () => t.execute(serverId, { readOnly: true, idempotent: true, deadline }));
    await sleep(200);
    await set.replicas[0]!.hang();
    const hungAt = Date.now();
    await sleep(1500);
    await reads.stop();
    await set.replicas[0]!.resume();
    const during = reads.results.filter((r) => r.startedAt >= hungAt);
    const longest = Math.max(...during.map((r) => r.settledAt - r.startedAt));
    const failed = during.filter((r) => !r.ok);
    console.log(`replica hang: ${during.length} reads, ${failed.length} failed, longest ${longest} ms`);
    expect(during.length).toBeGreaterThan(20);
    expect(longest).toBeLessThanOrEqual(deadline + 100);
    expect(failed.map((r) => String(r.error))).toEqual([]);
    // Once the replica is marked dead the reads are served by the primary at once.
    const late = during.filter((r) => r.startedAt >= hungAt + 1000);
    expect(Math.max(...late.map((r) => r.settledAt - r.startedAt))).toBeLessThan(200);
  }, 30_000);

  it('a write sent to a read-only node (1290) is never silently repeated', async () => {
    // A demoted primary: the node the config calls primary is a read-only replica now.
    const t = await start({ primary: `127.0.0.1:${set.replicas[0]!.port}`, replicas: [] }, preset('mysql'));
    let retries = 0;
    t.on('retry', () => retries++);
    const error = await t
      .execute((pool) => pool.query('INSERT INTO writes (v) VALUES (3)'))
      .catch((e: unknown) => e);
    const cause = isOutcomeUnknownError(error) ? (error as Error).cause : error;
    expect((cause as { errno?: number }).errno).toBe(1290);
    expect(retries).toBe(0);
    const [[row]] = (await (
      await import('mysql2/promise')
    ).default
      .createConnection({ host: '127.0.0.1', port: set.replicas[0]!.port, user: 'root', database: 'test' })
      .then(async (c) => {
        const r = await c.query('SELECT COUNT(*) AS n FROM writes WHERE v = 3');
        await c.end();
        return r;
      })) as unknown as [{ n: number }[]];
    expect(Number(row?.n)).toBe(0);
  });

  it('a failover (replica promoted, primary demoted) is followed by discovery: writes move to the new primary', async () => {
    const withDiscovery = mergePolicies(policy, {
      pool: { discovery: { interval: '200ms', onFault: true } },
    });
    const t = await start({}, withDiscovery);
    expect(await t.execute(serverId, { idempotent: true })).toBe(1);
    const [replica] = set.replicas;
    try {
      await set.sql(replica!, 'STOP SLAVE; SET GLOBAL read_only = OFF');
      await set.sql(set.primary, 'SET GLOBAL read_only = ON');
      const switchedAt = Date.now();
      await until(
        async () => (await t.execute(serverId, { idempotent: true }).catch(() => 0)) === 2,
        5000,
        50,
      );
      const followedMs = Date.now() - switchedAt;
      // Writes land on the promoted node; reads go to the demoted one, now the replica.
      await t.execute((pool) => pool.query('INSERT INTO writes (v) VALUES (9)'));
      expect(await t.execute(serverId, { readOnly: true, idempotent: true })).toBe(1);
      console.log(`failover followed by discovery in ${followedMs} ms`);
      expect(followedMs).toBeLessThan(2000);
    } finally {
      // Back to the original roles for the other tests: the old primary takes writes again, replication resumes.
      await set.sql(set.primary, 'SET GLOBAL read_only = OFF');
      await set.sql(replica!, 'SET GLOBAL read_only = ON; DELETE FROM test.writes WHERE v = 9; START SLAVE');
    }
  });
});
