import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { startMariaDB, type MariaDBServer } from '@reconnect/testkit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema } from '../src/index.js';
import { connectContext } from './helpers.js';

// Rows of classify.ts met on a real MariaDB through what goes wrong on the wire (issue #24's audit): a packet that
// arrives with the wrong sequence number (the server's 1156, SQLSTATE 08S01, an errno without a rule: the SQLSTATE
// 08 fallback), and a LOAD DATA LOCAL upload that stalls past net_read_timeout (the server gives up on the
// connection; the client's stream then writes into it: mysql2's "Can't write in closed state").

/** A TCP proxy in front of the server that can alter the next packet the client sends. */
async function startRewriter(port: number) {
  let next: ((chunk: Buffer) => Buffer) | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('data', (d) => client.write(d));
    client.on('data', (d: Buffer) => {
      const rewrite = next;
      next = undefined;
      upstream.write(rewrite === undefined ? d : rewrite(d));
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    rewriteNext: (fn: (chunk: Buffer) => Buffer) => {
      next = fn;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('protocol faults on a real MariaDB', () => {
  let server: MariaDBServer;
  beforeAll(async () => {
    server = await startMariaDB();
    const admin = await mysql.createConnection(server.options);
    try {
      await admin.query('CREATE TABLE upload (id INT PRIMARY KEY, v INT)');
    } finally {
      await admin.end();
    }
  });
  afterAll(() => server?.stop());

  it('1156 packets out of order (SQLSTATE 08S01, no errno rule): connection by the SQLSTATE fallback, through the driver', async () => {
    const proxy = await startRewriter(server.port);
    const pool = await mysqlDriver.connect(
      mysqlOptionsSchema.parse({ host: '127.0.0.1', port: proxy.port, user: 'root', database: 'test' }),
      connectContext({ retry: { attemptTimeout: '2s' } }),
    );
    try {
      // The pool's connection is open and idle: the next packet is the statement, sent as sequence 7 instead of 0.
      proxy.rewriteNext((chunk) => {
        const altered = Buffer.from(chunk);
        altered[3] = 7;
        return altered;
      });
      const error = await pool.query('SELECT 1').then(
        () => expect.unreachable('the server should refuse the packet'),
        (e: unknown) => e as { errno?: unknown; sqlState?: unknown },
      );
      expect(error).toMatchObject({ errno: 1156, sqlState: '08S01' });
      expect(mysqlDriver.classify(error)).toEqual({
        kind: 'connection',
        code: 1156,
        codeName: 'ER_NET_PACKETS_OUT_OF_ORDER',
        aliases: ['ER_NET_PACKETS_OUT_OF_ORDER'],
      });
    } finally {
      await mysqlDriver.close(pool);
      await proxy.close();
    }
  });

  it("Can't write in closed state: a LOAD DATA LOCAL upload that stalled past net_read_timeout, then goes on", async () => {
    const connection = await mysql.createConnection({ ...server.options, flags: ['+LOCAL_FILES'] });
    const events: unknown[] = [];
    connection.on('error', (e) => events.push(e));
    try {
      await connection.query('SET SESSION net_read_timeout = 1');
      let resume: (() => void) | undefined;
      const upload = connection
        .query({
          sql: "LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE upload FIELDS TERMINATED BY ','",
          infileStreamFactory: () => {
            // One row, then nothing for longer than net_read_timeout; the rest comes once the server gave up.
            const rows = new Readable({ read: () => undefined });
            rows.push('1,1\n');
            resume = () => {
              rows.push('2,2\n');
              rows.push(null);
            };
            return rows;
          },
        } as Parameters<typeof connection.query>[0])
        .then(
          () => expect.unreachable('the server should give up on the stalled upload'),
          (e: unknown) => e,
        );
      // The server closed the connection on the stalled read: the statement may have run (rows before the stall).
      const lost = await upload;
      expect(mysqlDriver.classify(lost)).toMatchObject({ kind: 'connection' });
      expect(mysqlDriver.classify(lost).sent).toBeUndefined();
      // The upload's stream goes on: mysql2 writes into the closed connection and says so, as an error event.
      expect(resume).toBeDefined();
      resume!();
      const deadline = Date.now() + 2000;
      while (!events.some((e) => /^Can't write in closed state/.test(String((e as Error).message)))) {
        if (Date.now() > deadline)
          throw new Error(`no closed-state error; events: ${events.map(String).join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const closed = events.find((e) => /^Can't write in closed state/.test(String((e as Error).message)));
      expect(mysqlDriver.classify(closed)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
    } finally {
      connection.destroy();
    }
  });
});
