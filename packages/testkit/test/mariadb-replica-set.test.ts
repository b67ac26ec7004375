import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDBReplicaSet, type MariaDBReplicaSet } from '../src/index.js';

const connect = (port: number, user = 'root', password = '') =>
  mysql.createConnection({ host: '127.0.0.1', port, user, password, database: 'test' });

describe('startMariaDBReplicaSet: a real primary and replica with binlog replication', () => {
  let set: MariaDBReplicaSet;
  beforeAll(async () => {
    set = await startMariaDBReplicaSet();
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });

  it('replicates what the primary writes, and the replica runs both replication threads', async () => {
    const primary = await connect(set.primary.port);
    const replica = await connect(set.replicas[0]!.port);
    try {
      await primary.query('CREATE TABLE rs (id INT PRIMARY KEY, v VARCHAR(10))');
      await primary.query("INSERT INTO rs VALUES (1, 'one')");
      await set.sync();
      const [rows] = await replica.query('SELECT id, v FROM rs');
      expect(rows).toEqual([{ id: 1, v: 'one' }]);
      const status = await set.status(set.replicas[0]!);
      expect(status).toMatchObject({ ioRunning: 'Yes', sqlRunning: 'Yes', lastError: '' });
      const [[role]] = (await replica.query('SELECT @@read_only AS ro, @@server_id AS id')) as unknown as [
        { ro: number; id: number }[],
      ];
      expect(role).toEqual({ ro: 1, id: 2 });
    } finally {
      await primary.end();
      await replica.end();
    }
  });

  it('the replica refuses writes from the application account with 1290 (read_only applies to it)', async () => {
    const app = await connect(set.replicas[0]!.port, set.appUser.user, set.appUser.password);
    try {
      const error = (await app.query("INSERT INTO rs VALUES (2, 'two')").catch((e: unknown) => e)) as {
        errno?: number;
      };
      expect(error.errno).toBe(1290);
    } finally {
      await app.end();
    }
  });

  it('after the primary crashes and restarts, the replica reconnects and catches up', async () => {
    await set.primary.kill();
    await set.primary.restart();
    const primary = await connect(set.primary.port);
    try {
      await primary.query("INSERT INTO rs VALUES (3, 'three')");
      await set.sync(15_000);
      const replica = await connect(set.replicas[0]!.port);
      const [rows] = await replica.query('SELECT id FROM rs WHERE id = 3');
      await replica.end();
      expect(rows).toEqual([{ id: 3 }]);
      expect((await set.status(set.replicas[0]!)).ioRunning).toBe('Yes');
    } finally {
      await primary.end();
    }
  }, 30_000);
});
