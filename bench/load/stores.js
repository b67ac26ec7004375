// The stores of `npm run bench:load`: a throwaway server each (the testkit's, on a free loopback port with a
// temporary directory — never the shared servers), the operation, and the contenders' clients: the raw client,
// and a Reconnect target with the store's preset over the same client library. Every contender gets its own
// connections to the same server.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { createTarget } from '@reconnect/core';
import redisDriver from '@reconnect/driver-redis';
import mysqlDriver, { transaction } from '@reconnect/driver-mysql';
import elasticsearchDriver from '@reconnect/driver-elasticsearch';
import { presets } from '@reconnect/policies';
import { startMariaDB, startRedis } from '@reconnect/testkit';
import { ES_ID, ES_INDEX, startElasticsearchChild } from './es-cluster.js';

const POOL_SIZE = 10;
const REDIS_KEY = 'bench:load:key';
const REDIS_VALUE = 'v'.repeat(16);

/**
 * @typedef {object} Lane  one contender's client, ready
 * @property {() => Promise<unknown>} op
 * @property {() => Promise<unknown>} close
 * @property {string} [target]  the Reconnect target's name
 */

/**
 * @typedef {object} StoreRun  a started store
 * @property {string} server   what runs on the other side (name and version)
 * @property {() => Promise<Lane>} raw
 * @property {(name: string) => Promise<Lane>} reconnect
 * @property {() => Promise<void>} stop
 */

/**
 * @typedef {object} LoadStore
 * @property {string} key
 * @property {string} title
 * @property {string} operation   what one operation is, for the section
 * @property {string} rawTitle
 * @property {string} preset
 * @property {() => Promise<StoreRun>} start
 */

/** A target with `preset`, started; its operation `fn` with `options` (both made once, as a service would). */
async function startTarget(name, driver, options, preset) {
  const target = createTarget({ name, driver, options, policy: presets[preset].policy });
  await target.start();
  return target;
}

/** @type {Record<string, LoadStore>} */
export const stores = {
  redis: {
    key: 'redis',
    title: 'Redis `GET`',
    operation: '`GET` of a 16-byte value (ioredis)',
    rawTitle: 'raw ioredis',
    preset: 'redis',
    async start() {
      const server = await startRedis();
      const { host, port } = server.options;
      const admin = new Redis({ host, port });
      let version;
      try {
        await admin.set(REDIS_KEY, REDIS_VALUE);
        version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
      } finally {
        admin.disconnect();
      }
      return {
        server: `redis-server ${version ?? '?'} (no persistence)`,
        async raw() {
          const client = new Redis({ host, port });
          client.on('error', () => {});
          await client.ping();
          return { op: () => client.get(REDIS_KEY), close: async () => client.disconnect() };
        },
        async reconnect(name) {
          const target = await startTarget(name, redisDriver, { host, port }, 'redis');
          const fn = (redis) => redis.get(REDIS_KEY);
          const options = { idempotent: true, name: 'GET' };
          return { op: () => target.execute(fn, options), close: () => target.stop(), target: name };
        },
        stop: () => server.stop(),
      };
    },
  },

  mysql: {
    key: 'mysql',
    title: 'MySQL `SELECT 1` (pool of 10)',
    operation: `\`SELECT 1\` through the pool (\`pool.query\`, connectionLimit ${POOL_SIZE})`,
    rawTitle: 'raw mysql2 pool',
    preset: 'mysql',
    start: () =>
      startMySql(
        () => (pool) => pool.query('SELECT 1'),
        (target) => {
          const fn = (pool) => pool.query('SELECT 1');
          const options = { idempotent: true, name: 'SELECT 1' };
          return () => target.execute(fn, options);
        },
      ),
  },

  'mysql-tx': {
    key: 'mysql-tx',
    title: 'MySQL transaction `BEGIN; SELECT 1; COMMIT` (pool of 10)',
    operation:
      '`START TRANSACTION; SELECT 1; COMMIT` on one pooled connection: raw, `getConnection()` + three `query` + `release()`; Reconnect, driver-mysql\'s `transaction(target, (conn) => conn.query("SELECT 1"))`',
    rawTitle: 'raw mysql2 pool',
    preset: 'mysql',
    start: () =>
      startMySql(
        () => rawTransaction,
        (target) => {
          const body = (conn) => conn.query('SELECT 1');
          return () => transaction(target, body);
        },
      ),
  },

  elasticsearch: {
    key: 'elasticsearch',
    title: 'Elasticsearch `GET _doc` (3-node test cluster)',
    operation:
      "`GET /bench-load/_doc/1` (`client.get`) against the testkit's 3-node Elasticsearch-protocol test cluster (a stand-in, not Lucene; its coordinator runs in a child process, so only the clients are in the measured process)",
    rawTitle: 'raw ES client',
    preset: 'elasticsearch',
    async start() {
      const cluster = await startElasticsearchChild();
      const nodes = cluster.urls;
      const params = () => ({ index: ES_INDEX, id: ES_ID });
      return {
        server: `Elasticsearch-protocol test cluster (reports ${cluster.version}), 3 nodes`,
        async raw() {
          const client = new Client({ nodes });
          await client.get(params());
          return { op: () => client.get(params()), close: () => client.close() };
        },
        async reconnect(name) {
          const target = await startTarget(name, elasticsearchDriver, { nodes }, 'elasticsearch');
          const fn = (es) => es.get(params());
          const options = { idempotent: true, name: 'GET _doc' };
          return { op: () => target.execute(fn, options), close: () => target.stop(), target: name };
        },
        stop: () => cluster.stop(),
      };
    },
  },
};

/** What a raw user writes for a short transaction on a mysql2 promise pool. */
async function rawTransaction(pool) {
  const conn = await pool.getConnection();
  let ok = false;
  try {
    await conn.query('START TRANSACTION');
    await conn.query('SELECT 1');
    await conn.query('COMMIT');
    ok = true;
  } finally {
    // A failed transaction's connection is not reused (the server rolls back when it goes).
    if (ok) conn.release();
    else conn.destroy();
  }
}

/** A throwaway MariaDB; `rawOp(pool)` and `reconnectOp(target)` make each contender's operation. */
async function startMySql(rawOp, reconnectOp) {
  const server = await startMariaDB();
  const { host, port, database } = server.options;
  let version;
  const admin = await mysql.createConnection({ ...server.options });
  try {
    const [rows] = await admin.query('SELECT VERSION() AS v');
    version = rows[0]?.v;
  } finally {
    await admin.end();
  }
  const op = rawOp();
  return {
    server: `MariaDB ${version ?? '?'}`,
    async raw() {
      const pool = mysql.createPool({ ...server.options, connectionLimit: POOL_SIZE });
      await pool.query('SELECT 1');
      return {
        op: () => op(pool),
        close: () => Promise.race([pool.end(), delay(2000)]),
      };
    },
    async reconnect(name) {
      const uri = `mysql://root@${host}:${port}/${database}`;
      const target = await startTarget(name, mysqlDriver, { uri, connectionLimit: POOL_SIZE }, 'mysql');
      return { op: reconnectOp(target), close: () => target.stop(), target: name };
    },
    stop: () => server.stop(),
  };
}

/** Every store, in table order. */
export const storeNames = Object.keys(stores);
