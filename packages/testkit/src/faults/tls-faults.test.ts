import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
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

// The rarer certificates makeTestCertificates() also makes (drivers' classification tests present them on real
// servers): each is what its name says, read back with Node's X509Certificate.
describe('makeTestCertificates: the intermediate chain, not-yet-valid, altered-signature and revoked certificates', () => {
  it('are what they say', () => {
    const ca = new X509Certificate(certificates.ca);
    const intermediate = new X509Certificate(certificates.intermediate.cert);
    // The chain a server presents: the leaf, then the intermediate (signed by the CA, a CA itself).
    const [leafPem, intermediatePem] = certificates.chained.cert.split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem!);
    expect(new X509Certificate(intermediatePem!).fingerprint256).toBe(intermediate.fingerprint256);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(false);
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    // Valid from tomorrow, signed by the CA.
    const notYet = new X509Certificate(certificates.notYetValid.cert);
    expect(notYet.verify(ca.publicKey)).toBe(true);
    expect(new Date(notYet.validFrom).getTime()).toBeGreaterThan(Date.now() + 12 * 3600_000);
    // The good certificate with its signature altered: same subject and key, no longer the CA's signature.
    const altered = new X509Certificate(certificates.badSignature.cert);
    const good = new X509Certificate(certificates.good.cert);
    expect(altered.subject).toBe(good.subject);
    expect(altered.publicKey.export({ format: 'der', type: 'spki' })).toEqual(
      good.publicKey.export({ format: 'der', type: 'spki' }),
    );
    expect(good.verify(ca.publicKey)).toBe(true);
    expect(altered.verify(ca.publicKey)).toBe(false);
    // Revoked: signed by the CA and listed in its CRL (by serial); the good one is not.
    const revoked = new X509Certificate(certificates.revoked.cert);
    expect(revoked.verify(ca.publicKey)).toBe(true);
    expect(certificates.crl).toMatch(/^-----BEGIN X509 CRL-----/);
    const crlSerials = crlSerialNumbers(certificates.crl);
    expect(crlSerials).toContain(revoked.serialNumber.toUpperCase());
    expect(crlSerials).not.toContain(good.serialNumber.toUpperCase());
  });
});

/** The serial numbers a PEM CRL lists, in hex, read with `openssl crl -text`. */
function crlSerialNumbers(pem: string): string[] {
  const text = execFileSync('openssl', ['crl', '-noout', '-text'], { input: pem, encoding: 'utf8' });
  return [...text.matchAll(/Serial Number: ([0-9A-F]+)/gi)].map((m) => m[1]!.toUpperCase());
}
