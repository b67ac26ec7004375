import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDB, type MariaDBServer } from '../servers/mariadb.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { openMariaDBAdmin, openRedisAdmin, type AdminSession } from './admin.js';
import { faultNamed } from './catalogue.js';

// The store faults on real servers: each one's error reaches a client of the store (a raw session, an
// explicit transaction), and heal() leaves the server as it found it.

async function ask(open: () => Promise<AdminSession>, command: string | string[]): Promise<string> {
  const session = await open();
  try {
    return await session.run(command);
  } finally {
    await session.close();
  }
}

describe('store faults on a throwaway Redis (AOF on, as the matrix runs it)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ persistence: 'aof' });
  });
  afterAll(async () => {
    await server.stop();
  });
  const check = (command: string | string[]) => ask(() => openRedisAdmin(server.options), command);
  const env = () => ({ store: 'redis' as const, server, durationMs: 1000 });

  it('loading: after the restart every command answers LOADING; after heal the data is all there and the fill is gone', async () => {
    await check('SET kept before');
    const active = await faultNamed('loading').start(env());
    expect(active.acted?.()).toBeGreaterThanOrEqual(1);
    await expect(check('GET kept')).rejects.toThrow(/LOADING Redis is loading the dataset in memory/);
    await active.heal();
    expect(await check('GET kept')).toBe('before'); // the AOF kept the workload's data through the restart
    const s = await openRedisAdmin(server.options);
    await s.run(['SELECT', '15']);
    expect(await s.run('DBSIZE')).toBe('0');
    await s.close();
    expect(await check('CONFIG GET key-load-delay')).toBe('key-load-delay\n0');
  }, 60_000);

  it('misconf: writes answer MISCONF while active, reads are served; writes pass after heal', async () => {
    const before = await check('CONFIG GET save');
    const active = await faultNamed('misconf').start(env());
    await expect(check('SET k v')).rejects.toThrow(/MISCONF/);
    expect(await check('GET kept')).toBe('before');
    await active.heal();
    expect(await check('SET k v')).toBe('OK');
    expect(await check('CONFIG GET save')).toBe(before);
  }, 30_000);
});

describe('store faults on a throwaway MariaDB, the workload as a non-root account', () => {
  let server: MariaDBServer;
  const account = { user: 'app', password: 'app-secret' };
  const connect = () => mysql.createConnection({ ...server.options, ...account });
  beforeAll(async () => {
    server = await startMariaDB();
    const root = await openMariaDBAdmin(server);
    await root.run(`CREATE USER 'app'@'%' IDENTIFIED BY '${account.password}'`);
    await root.run(`GRANT ALL PRIVILEGES ON \`${server.options.database}\`.* TO 'app'@'%'`);
    await root.run(
      `CREATE TABLE ${server.options.database}.w (seq BIGINT AUTO_INCREMENT PRIMARY KEY, lane VARCHAR(16) NOT NULL, KEY (lane)) ENGINE=InnoDB`,
    );
    await root.run(`INSERT INTO ${server.options.database}.w (lane) VALUES ('a'), ('b')`);
    await root.close();
  });
  afterAll(async () => {
    await server.stop();
  });
  const env = () => ({ store: 'mariadb' as const, server, durationMs: 1000, account });
  const errno = (p: Promise<unknown>) =>
    p.then(
      () => 0,
      (e: { errno?: number; code?: string }) => e.errno ?? e.code,
    );

  it("readonly: the account's writes fail with 1290, its reads are served; writes pass after heal", async () => {
    const c = await connect();
    try {
      const active = await faultNamed('readonly').start(env());
      expect(await errno(c.query("INSERT INTO w (lane) VALUES ('ro')"))).toBe(1290);
      expect(await errno(c.query('SELECT COUNT(*) FROM w'))).toBe(0);
      await active.heal();
      expect(await errno(c.query("INSERT INTO w (lane) VALUES ('ro')"))).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('password-rotated with an account: its new logins are refused (1045) while active, accepted after heal', async () => {
    const active = await faultNamed('password-rotated').start(env());
    expect(await errno(connect())).toBe(1045);
    await active.heal();
    const c = await connect();
    await c.end();
  });

  it('lock-wait-timeout: open connections are killed; a write inside a transaction on a new one fails with 1205 after ~1 s', async () => {
    const old = await connect();
    const active = await faultNamed('lock-wait-timeout').start(env());
    expect(await errno(old.query('SELECT 1'))).not.toBe(0); // killed: it would keep the 50 s timeout
    old.destroy();
    const c = await connect();
    try {
      await c.beginTransaction();
      const t0 = performance.now();
      expect(await errno(c.query("INSERT INTO w (lane) VALUES ('lw')"))).toBe(1205);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
      await c.rollback();
      expect(await errno(c.query('SELECT COUNT(*) FROM w'))).toBe(0); // a consistent read does not wait
      await active.heal();
      expect(active.acted?.()).toBeGreaterThanOrEqual(2); // one killed, one lock wait at least
      expect(await errno(c.query("INSERT INTO w (lane) VALUES ('lw')"))).toBe(0);
    } finally {
      await c.end();
    }
    expect(await ask(() => openMariaDBAdmin(server), 'SELECT @@global.innodb_lock_wait_timeout')).toBe('50');
  });

  it('deadlock: an insert inside a transaction is chosen as the victim (1213); the fault counts it', async () => {
    const c = await connect();
    try {
      const active = await faultNamed('deadlock').start(env());
      let seen: unknown = 0;
      for (let i = 0; i < 3 && seen !== 1213; i++) {
        await c.beginTransaction();
        seen = await errno(c.query("INSERT INTO w (lane) VALUES ('dl')"));
        await c.rollback();
      }
      await active.heal();
      expect(seen).toBe(1213);
      expect(active.acted?.()).toBeGreaterThanOrEqual(1);
      expect(await ask(() => openMariaDBAdmin(server), "SHOW DATABASES LIKE 'reconnect_faults'")).toBe('');
    } finally {
      await c.end();
    }
  }, 30_000);

  it('gone-away: a write waiting on a lock loses its connection mid-statement', async () => {
    const c = await connect();
    c.on('error', () => {});
    const active = await faultNamed('gone-away').start(env());
    const t0 = performance.now();
    const lost = await errno(c.query("INSERT INTO w (lane) VALUES ('ga')"));
    const ms = performance.now() - t0;
    await active.heal();
    expect(lost).toBe('PROTOCOL_CONNECTION_LOST');
    expect(ms).toBeGreaterThanOrEqual(200); // it was in flight when the connection was killed
    expect(active.acted?.()).toBeGreaterThanOrEqual(1);
    c.destroy();
  });
});
