// The fault matrix's TLS stores: a redis-server with a TLS port and a MariaDB with `--ssl-*`, each presenting a
// certificate from the testkit's throwaway CA, reached over TLS through a fault proxy, for the catalogue's TLS
// certificate faults (the other faults run against the plain stores). The same workload as the plain stores:
// a read, an RPUSH / INSERT of a unique id per write, counted on the server through its plain port.
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { makeTestCertificates, openMariaDBAdmin, startMariaDB, startRedis } from '@reconnect/testkit';

/**
 * @param {object} helpers  stores.js's own: the proxies in front of the server and a catalogue fault played on it
 * @param {string[]} faultNames  the catalogue's TLS faults
 */
export function tlsStores({ maybeProxies, catalogueFault, faultNames }) {
  return { 'redis-tls': redisTls(), 'mysql-tls': mysqlTls() };

  /** A BenchStore (see stores.js). */
  function redisTls() {
    return {
      key: 'redis-tls',
      title: 'Redis over TLS',
      preset: 'redis',
      rawName: 'ioredis (tls)',
      faults: [],
      matrixFaults: faultNames,
      async start() {
        const certificates = makeTestCertificates();
        const server = await startRedis({ persistence: 'aof', tls: certificates });
        const tlsOptions = { ca: certificates.ca };
        let ep = { endpoints: [{ host: server.host, port: server.tls.port }], proxies: [] };
        const key = (lane) => `demo:writes:${lane}`;
        return {
          async expose(viaProxy) {
            ep = await maybeProxies(viaProxy, ep.endpoints);
          },
          rawClient() {
            const client = new Redis({ ...ep.endpoints[0], tls: tlsOptions });
            client.on('error', () => {});
            return client;
          },
          closeRaw: async (c) => c.disconnect(),
          reconnectOptions: () => ({
            driverPackage: '@reconnect/driver-redis',
            options: { ...ep.endpoints[0], tls: tlsOptions },
          }),
          read: (client) => client.get('demo:key'),
          write: (client, lane, id) => client.rpush(key(lane), id),
          async serverWrites(lane) {
            const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
            try {
              await client.connect();
              return await client.lrange(key(lane), 0, -1);
            } finally {
              client.disconnect();
            }
          },
          fault: (name, t) => catalogueFault('redis', server, ep.proxies, name, t),
          async stop() {
            await Promise.all(ep.proxies.map((p) => p.close()));
            await server.stop();
            certificates.remove();
          },
        };
      },
    };
  }

  /** A BenchStore (see stores.js). */
  function mysqlTls() {
    return {
      key: 'mysql-tls',
      title: 'MariaDB over TLS',
      preset: 'mysql',
      rawName: 'mysql2 pool (ssl)',
      faults: [],
      matrixFaults: faultNames,
      async start() {
        const certificates = makeTestCertificates();
        const server = await startMariaDB({ tls: certificates });
        const db = server.options.database;
        // An application account, as the plain MariaDB store's clients use.
        const account = { user: 'app', password: 'app-secret' };
        const root = await openMariaDBAdmin(server);
        try {
          await root.run(
            `CREATE TABLE \`${db}\`.demo_writes (seq BIGINT AUTO_INCREMENT PRIMARY KEY, lane VARCHAR(16) NOT NULL, wid VARCHAR(64) NOT NULL, KEY (lane))`,
          );
          await root.run(`CREATE USER '${account.user}'@'%' IDENTIFIED BY '${account.password}'`);
          await root.run(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${account.user}'@'%'`);
        } finally {
          await root.close();
        }
        // What a user writes: the CA, mysql2's other TLS defaults (it checks the name only with verifyIdentity).
        const ssl = { ca: certificates.ca };
        let ep = { endpoints: [{ host: server.host, port: server.port }], proxies: [] };
        return {
          async expose(viaProxy) {
            ep = await maybeProxies(viaProxy, ep.endpoints);
          },
          rawClient: () => mysql.createPool({ ...server.options, ...account, ...ep.endpoints[0], ssl }),
          closeRaw: (pool) => Promise.race([pool.end(), new Promise((r) => setTimeout(r, 2000))]),
          reconnectOptions: () => ({
            driverPackage: '@reconnect/driver-mysql',
            options: { ...ep.endpoints[0], ...account, database: db, ssl },
          }),
          read: (pool) => pool.query('SELECT COUNT(*) AS n FROM demo_writes WHERE seq < 10'),
          write: (pool, lane, id) =>
            pool.query('INSERT INTO demo_writes (lane, wid) VALUES (?, ?)', [lane, id]),
          async serverWrites(lane) {
            const c = await mysql.createConnection({ ...server.options });
            try {
              const [rows] = await c.query('SELECT wid FROM demo_writes WHERE lane = ?', [lane]);
              return rows.map((r) => r.wid);
            } finally {
              await c.end();
            }
          },
          fault: (name, t) => catalogueFault('mariadb', server, ep.proxies, name, t, account),
          async stop() {
            await Promise.all(ep.proxies.map((p) => p.close()));
            await server.stop();
            certificates.remove();
          },
        };
      },
    };
  }
}
