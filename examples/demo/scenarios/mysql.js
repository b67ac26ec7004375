// MariaDB: a throwaway mariadbd, hung with SIGSTOP (the process keeps its sockets; nothing answers)
// and resumed. Raw client: a mysql2 promise pool at its defaults.
import mysql from 'mysql2/promise';
import { startMariaDB } from '@reconnect/testkit';

/** @returns {import('./scenario.js').Scenario} */
export function mysqlScenario() {
  /** @type {import('@reconnect/testkit').MariaDBServer | undefined} */
  let server;
  const connect = () => mysql.createConnection({ ...server.options });
  return {
    store: 'mysql',
    title: 'MariaDB',
    target: 'orders_db',
    driverName: 'mysql',
    driverPackage: '@reconnect/driver-mysql',
    placeholderEnv: { DEMO_MYSQL_URL: 'mysql://root@127.0.0.1:1/test' },
    rawName: 'raw mysql2 pool (defaults)',
    /** The throwaway server (after `setup`), for runners that play their own faults (bench/chaos). */
    handle: () => server,
    readName: 'SELECT',
    writeName: 'INSERT',
    async setup() {
      server = await startMariaDB();
      const c = await connect();
      try {
        await c.query(
          'CREATE TABLE demo_writes (seq BIGINT AUTO_INCREMENT PRIMARY KEY, lane VARCHAR(16) NOT NULL, wid VARCHAR(64) NOT NULL, KEY (lane))',
        );
      } finally {
        await c.end();
      }
      return { DEMO_MYSQL_URL: `mysql://root@${server.host}:${server.port}/${server.options.database}` };
    },
    rawClient: () => mysql.createPool({ ...server.options }),
    closeRaw: (pool) => Promise.race([pool.end(), new Promise((r) => setTimeout(r, 2000))]),
    read: (pool) => pool.query('SELECT COUNT(*) AS n FROM demo_writes WHERE seq < 10'),
    write: (pool, lane, id) => pool.query('INSERT INTO demo_writes (lane, wid) VALUES (?, ?)', [lane, id]),
    async serverWrites(lane) {
      const c = await connect();
      try {
        const [rows] = await c.query('SELECT wid FROM demo_writes WHERE lane = ?', [lane]);
        return rows.map((r) => r.wid);
      } finally {
        await c.end();
      }
    },
    faults: (s) => {
      // Longer than the target's 3 s deadline even in short mode, so operations do give up on it.
      const hang = Math.max(5 * s, 4);
      return [
        {
          name: `MariaDB hang (SIGSTOP), resume after ${hang} s`,
          short: 'hang',
          back: 'server resumed (SIGCONT)',
          at: 9 * s,
          for: hang,
          start: () => server.hang(),
          end: () => server.resume(),
        },
      ];
    },
    async teardown() {
      await server?.stop();
    },
  };
}
