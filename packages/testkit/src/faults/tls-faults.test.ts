import { connect as tlsConnect } from 'node:tls';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDB, type MariaDBServer } from '../servers/mariadb.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { makeTestCertificates, type TestCertificates } from '../servers/tls.js';
import { startFaultProxy, type FaultProxy } from '../proxy/fault-proxy.js';
import { faultNamed } from './catalogue.js';

// The TLS certificate faults on real TLS servers (redis-server --tls-port, MariaDB --ssl-*): a client that trusts
// the test CA connects before, fails the handshake with the error each bad certificate gives while the fault is
// active, and connects again after heal.

/** How a TLS handshake with the test CA as the only trusted one ends: 'ok' or the error's code. */
function handshake(port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, timeout: 3000 });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
  });
}

const expected = {
  'tls-wrong-ca': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'tls-expired': 'CERT_HAS_EXPIRED',
  'tls-wrong-host': 'ERR_TLS_CERT_ALTNAME_INVALID',
} as const;

/** mysql2 reports every failed handshake as HANDSHAKE_SSL_ERROR, with Node's reason as the message. */
const mysqlExpected: Record<string, RegExp> = {
  'tls-wrong-ca': /^HANDSHAKE_SSL_ERROR: unable to verify the first certificate/,
  'tls-expired': /^HANDSHAKE_SSL_ERROR: certificate has expired/,
  'tls-wrong-host': /^HANDSHAKE_SSL_ERROR: Hostname\/IP does not match certificate's altnames/,
};

let certificates: TestCertificates;
beforeAll(() => {
  certificates = makeTestCertificates();
});
afterAll(() => certificates.remove());

describe('TLS certificate faults on a redis-server with --tls-port, through the fault proxy', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startRedis({ tls: certificates });
    proxy = await startFaultProxy({ target: { host: server.host, port: server.tls!.port } });
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop();
  });

  for (const [name, code] of Object.entries(expected))
    it(`${name}: handshakes fail with ${code} while active; the good certificate is back after heal`, async () => {
      const port = proxy.port;
      expect(await handshake(port, certificates.ca)).toBe('ok');
      const active = await faultNamed(name).start({ store: 'redis', server, proxy, durationMs: 1000 });
      expect(await handshake(port, certificates.ca)).toBe(code);
      expect(await handshake(port, certificates.ca)).toBe(code);
      await active.heal();
      expect(active.acted?.()).toBe(2); // the two failed handshakes, counted by the proxy
      expect(await handshake(port, certificates.ca)).toBe('ok');
    });
});

describe('TLS certificate faults on a MariaDB with --ssl-cert, through the fault proxy', () => {
  let server: MariaDBServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startMariaDB({ tls: certificates });
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop();
  });
  // mysql2 checks the server's name only with `verifyIdentity: true` (its default skips it): asked for here.
  const connect = (verifyIdentity = true) =>
    mysql
      .createConnection({ ...server.options, port: proxy.port, ssl: { ca: certificates.ca, verifyIdentity } })
      .then(
        async (c) => {
          await c.end();
          return 'ok';
        },
        (e: NodeJS.ErrnoException) => `${e.code}: ${e.message}`,
      );

  for (const [name, message] of Object.entries(mysqlExpected))
    it(`${name}: mysql2 over TLS fails saying why while active; connects after heal`, async () => {
      expect(await connect()).toBe('ok');
      const active = await faultNamed(name).start({ store: 'mariadb', server, proxy, durationMs: 1000 });
      let during: string;
      try {
        during = await connect();
      } finally {
        await active.heal();
      }
      expect(during).toMatch(message);
      expect(active.acted?.()).toBe(1);
      expect(await connect()).toBe('ok');
    });

  it("tls-wrong-host: mysql2's default TLS options (no verifyIdentity) connect to a host the certificate does not name", async () => {
    const active = await faultNamed('tls-wrong-host').start({
      store: 'mariadb',
      server,
      proxy,
      durationMs: 1000,
    });
    try {
      expect(await connect(false)).toBe('ok'); // the hazard a driver must close: a valid chain is not enough
      expect(await connect(true)).toMatch(mysqlExpected['tls-wrong-host']!);
    } finally {
      await active.heal();
    }
  });
});
