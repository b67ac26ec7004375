import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeTestCertificates,
  openRedisAdmin,
  startRedis,
  type RedisServer,
  type TestCertificates,
} from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver } from '../src/index.js';

// The TLS certificate rules of classify.ts produced by a real redis-server's TLS port (issue #24's audit: every
// rule exercised by a real server, not only by a unit test of classify()). Each case makes the server present
// another certificate (CONFIG SET tls-cert-file reloads it), then a client that trusts the test CA connects: the
// handshake refuses the server, and the error is `auth` with Node's code, not sent.

/** What the server presents: certificate (chain) and key files, from the test certificates' directory. */
function present(server: RedisServer, certPem: string, keyFile: string): Promise<void> {
  writeFileSync(server.tls!.certFile, certPem);
  copyFileSync(keyFile, server.tls!.keyFile);
  return openRedisAdmin(server.options).then(async (a) => {
    try {
      await a.run(['CONFIG', 'SET', 'tls-cert-file', server.tls!.certFile]);
    } finally {
      await a.close();
    }
  });
}

/**
 * A client that trusts the test CA connects once to the TLS port; resolves with the handshake's error (ioredis
 * emits it as `error`; its connect() then rejects with "Connection is closed").
 */
async function handshakeError(server: RedisServer, ca: string): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port: server.tls!.port,
    tls: { ca },
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  const emitted = new Promise<unknown>((resolve) => client.once('error', resolve));
  try {
    await client.connect().then(
      () => {
        throw new Error('the TLS handshake succeeded');
      },
      () => undefined,
    );
    return await emitted;
  } finally {
    client.disconnect();
  }
}

describe('TLS certificate refusals from a real redis-server', () => {
  let certificates: TestCertificates;
  let server: RedisServer;
  const file = (name: string) => join(certificates.dir, name);
  beforeAll(async () => {
    certificates = makeTestCertificates();
    server = await startRedis({ tls: certificates });
  });
  afterAll(async () => {
    await server?.stop();
    certificates?.remove();
  });

  const cases: [string, () => [string, string], string][] = [
    [
      'a certificate of a CA the client does not trust',
      () => [certificates.wrongCa.cert, certificates.wrongCa.keyFile],
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    [
      'an expired certificate',
      () => [certificates.expired.cert, certificates.expired.keyFile],
      'CERT_HAS_EXPIRED',
    ],
    [
      'a certificate for another host',
      () => [certificates.wrongHost.cert, certificates.wrongHost.keyFile],
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    // The other CA's own certificate, served as the server's: self-signed, alone.
    [
      'a self-signed certificate',
      () => [readFileSync(file('other-ca.crt'), 'utf8'), file('other-ca.key')],
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
    // The leaf of the other CA followed by that CA: a chain that ends in a self-signed root the client does not trust.
    [
      'a chain ending in an untrusted self-signed root',
      () => [
        certificates.wrongCa.cert + readFileSync(file('other-ca.crt'), 'utf8'),
        certificates.wrongCa.keyFile,
      ],
      'SELF_SIGNED_CERT_IN_CHAIN',
    ],
  ];

  for (const [what, served, code] of cases)
    it(`${code}: ${what} is auth, not sent, and says why`, async () => {
      const [certPem, keyFile] = served();
      await present(server, certPem, keyFile);
      const error = await handshakeError(server, certificates.ca);
      expect((error as { code?: unknown }).code).toBe(code);
      expect(redisDriver.classify(error)).toEqual({
        kind: 'auth',
        code,
        sent: false,
        message: expect.stringMatching(new RegExp(`^TLS: the server's certificate .*\\(${code}: `)),
      });
    });

  it('the good certificate again: the same client connects (the refusals were the certificates)', async () => {
    await present(server, certificates.good.cert, certificates.good.keyFile);
    const client = new Redis({
      host: '127.0.0.1',
      port: server.tls!.port,
      tls: { ca: certificates.ca },
      lazyConnect: true,
    });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
