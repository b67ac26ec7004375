import { createManager, isConfigError } from '@reconnect/core';
import { startMariaDB, useServer } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MySqlPool } from '../src/index.js';
import { control, uniqueName } from './helpers.js';

// Ordinary reads and writes on a throwaway MariaDB, in a database of our own.
const database = uniqueName('reconnect_mgr');

describe('from a policy file: driver: mysql / mariadb', () => {
  const server = useServer(() => startMariaDB());
  beforeAll(async () => {
    const c = await control(server().port, 'mysql');
    await c.query(`CREATE DATABASE \`${database}\``);
    await c.end();
  });
  afterAll(async () => {
    const c = await control(server().port, 'mysql');
    await c.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await c.end();
  });

  for (const alias of ['mysql', 'mariadb']) {
    it(`loads the built-in alias ${alias}, connects and runs operations with preset:mysql`, async () => {
      const manager = await createManager({
        config: {
          version: 1,
          targets: {
            main_db: {
              driver: alias,
              policy: 'preset:mysql',
              options: { uri: `mysql://root@127.0.0.1:${server().port}/${database}`, connectionLimit: 3 },
            },
          },
        },
      });
      try {
        expect(await manager.startAll()).toEqual({ main_db: { ok: true } });
        const db = manager.target('main_db') as unknown as {
          execute<T>(op: (c: MySqlPool) => Promise<T>, o?: object): Promise<T>;
        };
        await db.execute((pool) => pool.query(`CREATE TABLE IF NOT EXISTS t_${alias} (v INT)`), {
          idempotent: true,
        });
        await db.execute((pool) => pool.query(`INSERT INTO t_${alias} VALUES (1)`));
        const [rows] = await db.execute(
          (pool) => pool.query<RowDataPacket[]>(`SELECT DATABASE() AS d, COUNT(*) AS n FROM t_${alias}`),
          {
            idempotent: true,
          },
        );
        expect(rows).toEqual([{ d: database, n: 1 }]);
        expect(manager.health().status).toBe('ok');
      } finally {
        await manager.stopAll();
      }
    });
  }

  it('refuses an option the policy owns and a uri beside a password, naming the paths, never echoing the password', async () => {
    const error = await createManager({
      config: {
        version: 1,
        targets: {
          main_db: {
            driver: 'mysql',
            options: {
              uri: 'mysql://app:hunter2-secret@127.0.0.1:3306/shop',
              password: 'other-secret',
              connectTimeout: 100,
            },
          },
        },
      },
    }).catch((e: unknown) => e);
    expect(isConfigError(error), String(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('targets.main_db.options.connectTimeout');
    expect(message).toContain('targets.main_db.options.password');
    expect(message).toMatch(/reconnect\.connectTimeout/);
    expect(message).not.toContain('hunter2-secret');
    expect(message).not.toContain('other-secret');
  });
});
