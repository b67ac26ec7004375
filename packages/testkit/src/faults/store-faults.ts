import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerHandle } from '../servers/server-handle.js';
import type { AdminSession } from './admin.js';
import {
  admin,
  killClients,
  repeating,
  sleep,
  withAdmin,
  type ActiveFault,
  type CatalogueFault,
  type FaultEnv,
} from './fault.js';

// Store faults beyond the first ones (server-faults.ts): Redis LOADING and MISCONF, and MariaDB lock waits,
// deadlocks and connections lost mid-statement. Each takes effect on the workload's own statements.

const databaseOf = (env: FaultEnv): string =>
  (env.server as ServerHandle & { options?: { database?: string } }).options?.database ?? 'test';

/** A Redis config value (`CONFIG GET name`). */
async function redisConfig(a: AdminSession, name: string): Promise<string> {
  return (await a.run(['CONFIG', 'GET', name])).split('\n')[1] ?? '';
}

/** A MariaDB global status counter. */
async function status(a: AdminSession, name: string): Promise<number> {
  return Number((await a.run(`SHOW GLOBAL STATUS LIKE '${name}'`)).split('\t')[1] ?? 0);
}

/** Waits until `check` holds, every 20 ms, up to `timeoutMs`; resolves to whether it did. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > end) return false;
    await sleep(20);
  }
}

const fillKeys = 20_000;
/** How long each deadlock round holds the secondary index before it closes the cycles. */
const holdMs = 150;
const fillDb = '15';

/** Redis `LOADING`: a restart with a dataset that loads slowly (see the catalogue entry). */
async function startLoading(env: FaultEnv): Promise<ActiveFault> {
  const a = await admin(env);
  let interval: string;
  try {
    interval = await redisConfig(a, 'loading-process-events-interval-bytes');
    await a.run(['SELECT', fillDb]);
    const script = `for i = 1, ${fillKeys} do redis.call('SET', 'reconnect:loading:' .. i, 'x') end return 1`;
    await a.run(['EVAL', script, '0'], 30_000);
    if ((await redisConfig(a, 'appendonly')) === 'yes') {
      await a.run('BGREWRITEAOF');
      const done = await until(
        async () =>
          /aof_rewrite_in_progress:0[\s\S]*aof_rewrite_scheduled:0/.test(await a.run('INFO persistence')),
        30_000,
      );
      if (!done) throw new Error('fault "loading": the AOF rewrite did not finish within 30 s');
    } else await a.run('SAVE', 30_000);
    // 500 µs a key: 10 s at most; heal ends the load at once. Events are served every KB, so clients meet LOADING.
    await a.run('CONFIG SET key-load-delay 500');
    await a.run('CONFIG SET loading-process-events-interval-bytes 1024');
    await a.run('CONFIG REWRITE').catch((error: unknown) => {
      throw new Error(
        `fault "loading" needs a redis-server started with a config file (startRedis does): ${String(error)}`,
      );
    });
  } finally {
    await a.close();
  }
  await env.server.kill();
  const restarting = env.server.restart();
  restarting.catch(() => {});
  let loading = 0;
  const seen = await until(async () => {
    const probe = await admin(env);
    try {
      await probe.run('PING', 500);
      return false;
    } catch (error) {
      if (!/LOADING/.test(String(error))) return false;
      loading++;
      return true;
    } finally {
      await probe.close();
    }
  }, 5000);
  if (!seen) {
    await restarting;
    throw new Error('fault "loading": the restarted server never answered LOADING');
  }
  let healed: Promise<void> | undefined;
  return {
    acted: () => loading,
    heal: () =>
      (healed ??= (async () => {
        // CONFIG is served while loading: the rest of the dataset loads at full speed.
        const s = await admin(env);
        try {
          await s.run('CONFIG SET key-load-delay 0');
          await restarting;
          await s.run(['CONFIG', 'SET', 'loading-process-events-interval-bytes', interval]);
          await s.run('CONFIG REWRITE');
          await s.run(['SELECT', fillDb]);
          await s.run('FLUSHDB', 30_000);
        } finally {
          await s.close();
        }
      })()),
  };
}

/** Redis `MISCONF`: a background save that fails, with save points set (see the catalogue entry). */
async function startMisconf(env: FaultEnv): Promise<ActiveFault> {
  return withAdmin(env, async (a) => {
    const [save, dbfilename, dir] = await Promise.all(
      ['save', 'dbfilename', 'dir'].map((n) => redisConfig(a, n)),
    );
    const file = join(dir ?? '', dbfilename ?? 'dump.rdb');
    const aside = `${file}.reconnect-fault`;
    const hadDump = existsSync(file);
    if (hadDump) renameSync(file, aside);
    // A directory where the snapshot goes: the save's final rename fails (EISDIR), even as root. (`dir` and
    // `dbfilename` are protected configs: they cannot be pointed elsewhere at run time.)
    mkdirSync(file);
    await a.run(['CONFIG', 'SET', 'save', '3600 1']);
    await a.run('BGSAVE');
    const failed = await until(
      async () => /rdb_last_bgsave_status:err/.test(await a.run('INFO persistence')),
      10_000,
    );
    if (!failed) throw new Error('fault "misconf": the failing BGSAVE did not fail within 10 s');
    return {
      heal: async () => {
        rmSync(file, { recursive: true, force: true });
        // A save that succeeds clears the error; then the save points and the old snapshot as they were.
        await until(async () => {
          await a.run('BGSAVE').catch(() => '');
          await sleep(50);
          return /rdb_bgsave_in_progress:0[\s\S]*rdb_last_bgsave_status:ok/.test(
            await a.run('INFO persistence'),
          );
        }, 10_000);
        await a.run(['CONFIG', 'SET', 'save', save ?? '']);
        rmSync(file, { force: true });
        if (hadDump) renameSync(aside, file);
      },
    };
  });
}

/** The workload database's tables (`schema.table`) and the first secondary index of each that has one. */
async function tablesOf(env: FaultEnv, a: AdminSession): Promise<{ tables: string[]; indexed: string[][] }> {
  const db = databaseOf(env);
  const list = await a.run(
    `SELECT GROUP_CONCAT(CONCAT('\`', table_schema, '\`.\`', table_name, '\`')) FROM information_schema.tables WHERE table_schema = '${db}' AND engine = 'InnoDB'`,
  );
  const indexed = await a.run(
    `SELECT GROUP_CONCAT(DISTINCT CONCAT('\`', table_schema, '\`.\`', table_name, '\`:', index_name)) FROM information_schema.statistics WHERE table_schema = '${db}' AND index_name <> 'PRIMARY'`,
  );
  const split = (s: string) => (s === 'NULL' || s === '' ? [] : s.split(','));
  return { tables: split(list), indexed: split(indexed).map((x) => x.split(':')) };
}

/** MariaDB 1205: row locks held on every table, the lock wait timeout at 1 s for the sessions the clients reopen. */
async function startLockWait(env: FaultEnv): Promise<ActiveFault> {
  return withAdmin(env, async (a) => {
    const before = await a.run('SELECT @@global.innodb_lock_wait_timeout');
    const waitsBefore = await status(a, 'Innodb_row_lock_waits');
    const { tables } = await tablesOf(env, a);
    if (tables.length === 0)
      throw new Error(`fault "lock-wait-timeout": no InnoDB table in ${databaseOf(env)}`);
    await a.run('SET GLOBAL innodb_lock_wait_timeout = 1');
    const locker = await admin(env);
    const lockerId = await locker.run('SELECT CONNECTION_ID()');
    await locker.run('BEGIN');
    for (const t of tables) await locker.run(`SELECT COUNT(*) FROM ${t} FORCE INDEX (PRIMARY) FOR UPDATE`);
    // A session keeps the timeout it connected with: the clients' connections are killed so they reconnect.
    const killed = await killClients(env, a, `AND id <> ${lockerId}`);
    let waits = 0;
    return {
      acted: () => waits + killed,
      heal: async () => {
        waits = (await status(a, 'Innodb_row_lock_waits')) - waitsBefore;
        await locker.run('ROLLBACK').catch(() => '');
        await locker.close();
        await a.run(`SET GLOBAL innodb_lock_wait_timeout = ${Number(before)}`);
      },
    };
  });
}

/** MariaDB 1213: a heavier transaction that closes a lock cycle with each waiting insert (see the entry). */
async function startDeadlock(env: FaultEnv): Promise<ActiveFault> {
  const a = await admin(env);
  const locker = await admin(env);
  const setup = async () => {
    const { indexed } = await tablesOf(env, a);
    const first = indexed[0];
    if (first === undefined || first.length < 2)
      throw new Error(`fault "deadlock": no table with a secondary index in ${databaseOf(env)}`);
    await a.run('CREATE DATABASE IF NOT EXISTS reconnect_faults');
    await a.run(
      'CREATE TABLE IF NOT EXISTS reconnect_faults.ballast (id INT PRIMARY KEY, n INT) ENGINE=InnoDB',
    );
    await a.run(
      'INSERT IGNORE INTO reconnect_faults.ballast SELECT seq, 0 FROM reconnect_faults.seq_1_to_200',
    );
    return { table: first[0] ?? '', index: first[1] ?? '' };
  };
  let target: { table: string; index: string };
  try {
    target = await setup();
  } catch (error) {
    await Promise.all([a.close(), locker.close()]);
    throw error;
  }
  const deadlocksBefore = await status(a, 'Innodb_deadlocks');
  let locked: () => void = () => {};
  const firstLocked = new Promise<void>((resolve) => (locked = resolve));
  const round = async () => {
    await locker.run('BEGIN');
    try {
      // Heavier than any single statement: InnoDB rolls back the lighter side of a cycle.
      await locker.run('UPDATE reconnect_faults.ballast SET n = n + 1');
      // Next-key locks on the whole secondary index: an insert writes its row, then waits here holding it.
      await locker.run(`SELECT COUNT(*) FROM ${target.table} FORCE INDEX (\`${target.index}\`) FOR UPDATE`);
      locked();
      // Long enough for a write or two of the workload to arrive and wait (an autocommit statement waiting on a
      // lock is not always listed in information_schema.innodb_trx, so there is nothing reliable to poll).
      await sleep(holdMs);
      // The new rows of the waiting inserts: locking them closes each cycle, and each insert is the victim.
      await locker
        .run(`SELECT COUNT(*) FROM ${target.table} FORCE INDEX (PRIMARY) FOR UPDATE`, 10_000)
        .catch(() => '');
    } finally {
      await locker.run('ROLLBACK').catch(() => '');
    }
  };
  const inner = await repeating(100, round);
  // Active means the first round holds its locks: an insert from now on walks into the cycle.
  await Promise.race([firstLocked, sleep(5000)]);
  let deadlocks = 0;
  let healed = false;
  return {
    acted: () => deadlocks,
    heal: async () => {
      if (healed) return;
      healed = true;
      try {
        await inner.heal();
        deadlocks = (await status(a, 'Innodb_deadlocks')) - deadlocksBefore;
        await a.run('DROP DATABASE IF EXISTS reconnect_faults');
      } finally {
        await Promise.all([a.close(), locker.close()]);
      }
    },
  };
}

/** MariaDB: connections killed while a statement of theirs runs (see the entry). */
async function startGoneAway(env: FaultEnv): Promise<ActiveFault> {
  return withAdmin(env, async (a) => {
    const { tables } = await tablesOf(env, a);
    const locker = await admin(env);
    const lockerId = await locker.run('SELECT CONNECTION_ID()');
    await locker.run('BEGIN');
    for (const t of tables) await locker.run(`SELECT COUNT(*) FROM ${t} FORCE INDEX (PRIMARY) FOR UPDATE`);
    const inner = await repeating(500, () =>
      killClients(env, a, `AND command = 'Query' AND time_ms >= 200 AND id <> ${lockerId}`),
    );
    return {
      ...(inner.acted === undefined ? {} : { acted: inner.acted }),
      heal: async () => {
        await inner.heal();
        await locker.run('ROLLBACK').catch(() => '');
        await locker.close();
      },
    };
  });
}

/** Store faults: Redis LOADING and MISCONF; MariaDB lock wait timeout, deadlock, lost mid-statement. */
export const storeFaults: readonly CatalogueFault[] = [
  {
    name: 'loading',
    group: 'store',
    title: 'LOADING (restart with a large dataset)',
    description: `Redis: ${fillKeys} keys are added (in db ${fillDb}) and persisted, the server is killed and restarted with \`key-load-delay\` so the load lasts the whole fault: connections are refused, then every command answers LOADING; heal lets the load finish at full speed and removes the keys.`,
    stores: ['redis'],
    viaProxy: false,
    start: startLoading,
  },
  {
    name: 'misconf',
    group: 'store',
    title: 'MISCONF (snapshot failing)',
    description:
      'Redis: with save points set (`save 3600 1`, `stop-writes-on-bgsave-error yes`), a background save fails (a directory stands where its file goes): every write answers MISCONF, reads are served, until a save succeeds.',
    stores: ['redis'],
    viaProxy: false,
    start: startMisconf,
  },
  {
    name: 'lock-wait-timeout',
    group: 'store',
    title: 'lock wait timeout (1205)',
    description:
      "MariaDB: a transaction holds row locks on every row and gap of the workload's tables, `innodb_lock_wait_timeout` is 1 s and the clients' connections are killed (a session keeps the timeout it connected with): writes wait 1 s and fail with 1205, reads (consistent) are served.",
    stores: ['mariadb'],
    viaProxy: false,
    start: startLockWait,
  },
  {
    name: 'deadlock',
    group: 'store',
    title: 'deadlock (1213)',
    description:
      "MariaDB: a heavier transaction locks a secondary index of the workload's table for 150 ms (an insert writes its row, then waits at that index), then locks the table's rows, new ones included: InnoDB breaks each cycle by rolling back the insert (1213); round after round for the fault.",
    stores: ['mariadb'],
    viaProxy: false,
    start: startDeadlock,
  },
  {
    name: 'gone-away',
    group: 'store',
    title: 'connection lost during a long statement',
    description:
      'MariaDB: row locks on the workload\'s tables make writes wait, and every connection whose statement has run 200 ms is killed (`KILL CONNECTION`) every 500 ms: the client loses the server mid-statement ("server has gone away" / lost connection), not knowing whether it applied.',
    stores: ['mariadb'],
    viaProxy: false,
    start: startGoneAway,
  },
];
