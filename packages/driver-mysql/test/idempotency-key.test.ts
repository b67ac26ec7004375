import { isOutcomeUnknownError, type Target } from '@reconnect/core';
import { startFaultProxy, startMariaDB, useServer } from '@reconnect/testkit';
import type mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureIdempotencyKeyTable,
  idempotencyKeyTableDdl,
  pruneIdempotencyKeys,
  statementOnce,
  transaction,
  transactionOnce,
  type MySqlPool,
} from '../src/index.js';
import { control, mysqlTarget, preset, until } from './helpers.js';

describe('idempotency keys: arguments are checked before anything is sent', () => {
  // A target that was never started: a check that let the call through would fail on "not connected" instead.
  const idle = mysqlTarget({ port: 1, user: 'root' });
  const noop = () => Promise.resolve();

  it('an empty, a non-string or an over-long key is refused with what is wrong', async () => {
    await expect(transactionOnce(idle, '', noop)).rejects.toThrow(
      /idempotency key: expected a non-empty string/,
    );
    await expect(transactionOnce(idle, 7 as unknown as string, noop)).rejects.toThrow(TypeError);
    await expect(transactionOnce(idle, 'k'.repeat(192), noop)).rejects.toThrow(
      /idempotency key: 192 characters, at most 191/,
    );
  });

  it('a table name that is not a plain identifier is refused (it is written into SQL)', async () => {
    await expect(transactionOnce(idle, 'k', noop, { table: 'keys; DROP TABLE x' })).rejects.toThrow(
      /"keys; DROP TABLE x" is not a table name/,
    );
    await expect(transactionOnce(idle, 'k', noop, { table: 'a.b.c' })).rejects.toThrow(/is not a table name/);
    expect(idempotencyKeyTableDdl('app.keys')).toMatch(/^CREATE TABLE IF NOT EXISTS `app`\.`keys` \(/);
  });

  it('a ttl that is not a duration of at least 1 ms is refused', async () => {
    await expect(transactionOnce(idle, 'k', noop, { ttl: '5 days' })).rejects.toThrow(
      /idempotency key ttl: "5 days" is not a duration/,
    );
    await expect(transactionOnce(idle, 'k', noop, { ttl: 0 })).rejects.toThrow(/ttl: 0 is not a duration/);
    await expect(pruneIdempotencyKeys(idle, { limit: 0 })).rejects.toThrow(
      /limit 0 is not a positive integer/,
    );
  });
});

describe('idempotency keys on a throwaway MariaDB', () => {
  const server = useServer(() => startMariaDB());
  const targets: Target<MySqlPool>[] = [];
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await control(server().port);
    await admin.query(
      'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB',
    );
  });
  afterAll(async () => {
    await admin.end();
  });
  afterEach(async () => {
    if (server().status === 'hung') await server().resume();
    await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
    await admin.query('DELETE FROM orders');
    await admin.query('DROP TABLE IF EXISTS reconnect_idempotency_keys');
  });
  const start = async (port = server().port, policy = preset('mysql')) => {
    const t = mysqlTarget({ port, user: 'root', database: 'test' }, policy);
    targets.push(t);
    await t.start();
    await ensureIdempotencyKeyTable(t);
    return t;
  };
  const count = async (note: string) => {
    const [rows] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM orders WHERE note = ?', [
      note,
    ]);
    return Number(rows[0]?.['n']);
  };
  const insert = (note: string) => (conn: mysql.PoolConnection) =>
    conn.query('INSERT INTO orders (note) VALUES (?)', [note]).then(() => note);

  it('the first call runs and returns its value; a second call with the key runs nothing and says so', async () => {
    const t = await start();
    await ensureIdempotencyKeyTable(t); // a second time: IF NOT EXISTS
    let runs = 0;
    const fn = async (conn: mysql.PoolConnection) => {
      runs++;
      return insert('first')(conn);
    };
    await expect(transactionOnce(t, 'order-1', fn)).resolves.toEqual({
      alreadyApplied: false,
      value: 'first',
    });
    await expect(transactionOnce(t, 'order-1', fn)).resolves.toEqual({ alreadyApplied: true });
    expect(runs).toBe(1);
    expect(await count('first')).toBe(1);
    // Another key is another write.
    await expect(transactionOnce(t, 'order-2', fn)).resolves.toMatchObject({ alreadyApplied: false });
    expect(await count('first')).toBe(2);
  });

  it('a write that failed leaves its key free: the next call with it runs', async () => {
    const t = await start();
    const failed = await transactionOnce(t, 'order-f', async (conn) => {
      await insert('failed')(conn);
      await conn.query('SELECT * FROM no_such_table');
    }).catch((e: unknown) => e);
    expect((failed as { errno?: number }).errno).toBe(1146);
    expect(await count('failed')).toBe(0);
    await expect(transactionOnce(t, 'order-f', insert('failed'))).resolves.toEqual({
      alreadyApplied: false,
      value: 'failed',
    });
    expect(await count('failed')).toBe(1);
  });

  it("COMMIT's answer lost: without a key the outcome is unknown; with one the replay answers alreadyApplied, one row", async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const t = await start(proxy.port);
      const plain = await transaction(t, async (conn) => {
        await insert('plain')(conn);
        proxy.cutAfter(0, 'toClient'); // COMMIT reaches the server, its reply does not come back
      }).catch((e: unknown) => e);
      expect(isOutcomeUnknownError(plain), String(plain)).toBe(true);

      let runs = 0;
      const keyed = await transactionOnce(t, 'lost-commit', async (conn) => {
        runs++;
        await insert('keyed')(conn);
        if (runs === 1) proxy.cutAfter(0, 'toClient');
      });
      expect(keyed).toEqual({ alreadyApplied: true });
      expect(runs).toBe(1);
      expect(await count('keyed')).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("a single statement with a key: mysql2's [result, fields] the first time, alreadyApplied after", async () => {
    const t = await start();
    const first = await statementOnce(t, 'audit-1', 'INSERT INTO orders (note) VALUES (?)', ['audit']);
    expect(first.alreadyApplied).toBe(false);
    if (!first.alreadyApplied) expect(first.value[0]).toMatchObject({ affectedRows: 1 });
    await expect(
      statementOnce(t, 'audit-1', 'INSERT INTO orders (note) VALUES (?)', ['audit']),
    ).resolves.toEqual({ alreadyApplied: true });
    expect(await count('audit')).toBe(1);
  });

  it('the race: COMMIT queued on a hung server (SIGSTOP) while the replay runs on a new connection, then SIGCONT: one effect', async () => {
    const t = await start(server().port, {
      ...preset('mysql'),
      retry: { ...preset('mysql').retry, attemptTimeout: '400ms', deadline: '20s' },
    });
    let runs = 0;
    let retries = 0;
    t.on('retry', () => retries++);
    const resumed = { at: 0 };
    const result = transactionOnce(t, 'hung-commit', async (conn) => {
      runs++;
      await insert('hung')(conn);
      if (runs === 1) {
        // COMMIT goes out next, to a stopped server; the attempt ends unanswered and the target reconnects.
        await server().hang();
        setTimeout(() => {
          resumed.at = Date.now();
          void server().resume();
        }, 2500);
      }
    });
    const r = await result;
    expect(resumed.at, 'answered only after the server ran again').toBeGreaterThan(0);
    // Either the first COMMIT landed when the server ran again (the replay found the key), or the server rolled
    // the first run back when it saw its connection gone (the replay ran it): one row either way.
    expect(await count('hung')).toBe(1);
    expect(runs).toBe(r.alreadyApplied ? 1 : 2);
    expect(retries, 'the unanswered COMMIT was retried, not failed as unknown').toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('an expired key fences nothing: a new run takes it over; prune deletes only expired keys', async () => {
    const t = await start();
    await transactionOnce(t, 'old', insert('ttl'));
    await transactionOnce(t, 'fresh', insert('ttl'), { ttl: '1h' });
    await admin.query(
      "UPDATE reconnect_idempotency_keys SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE idempotency_key = 'old'",
    );
    await expect(transactionOnce(t, 'old', insert('ttl'))).resolves.toMatchObject({ alreadyApplied: false });
    await expect(transactionOnce(t, 'fresh', insert('ttl'))).resolves.toEqual({ alreadyApplied: true });
    expect(await count('ttl')).toBe(3);
    // The taken-over key fences again for a new ttl.
    await expect(transactionOnce(t, 'old', insert('ttl'))).resolves.toEqual({ alreadyApplied: true });

    await admin.query(
      "INSERT INTO reconnect_idempotency_keys VALUES ('gone-1', NOW(3) - INTERVAL 1 MINUTE), ('gone-2', NOW(3) - INTERVAL 1 MINUTE)",
    );
    expect(await pruneIdempotencyKeys(t, { limit: 1 })).toBe(1);
    expect(await pruneIdempotencyKeys(t)).toBe(1);
    expect(await pruneIdempotencyKeys(t)).toBe(0);
    const [keys] = await admin.query<RowDataPacket[]>(
      'SELECT idempotency_key AS k FROM reconnect_idempotency_keys ORDER BY k',
    );
    expect(keys.map((k) => String(k['k']))).toEqual(['fresh', 'old']);
  });

  it('the ttl is written as given: a 1.5 s key expires 1.5 s after its write, by the server clock', async () => {
    const t = await start();
    await transactionOnce(t, 'short', insert('short'), { ttl: '1.5s' });
    const [rows] = await admin.query<RowDataPacket[]>(
      "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), expires_at) AS us FROM reconnect_idempotency_keys WHERE idempotency_key = 'short'",
    );
    const us = Number(rows[0]?.['us']);
    expect(us).toBeGreaterThan(1_000_000);
    expect(us).toBeLessThanOrEqual(1_500_000);
  });

  it('without a key nothing changes: a plain transaction never touches the key table', async () => {
    const t = await start();
    await transaction(t, insert('plain-2'));
    const [keys] = await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM reconnect_idempotency_keys');
    expect(Number(keys[0]?.['n'])).toBe(0);
    await until(async () => (await count('plain-2')) === 1, 1000);
  });
});
