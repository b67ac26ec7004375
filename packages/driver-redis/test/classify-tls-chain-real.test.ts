import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeTestCertificates,
  openRedisAdmin,
  startRedis,
  type CertificatePair,
  type RedisServer,
  type TestCertificates,
} from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema } from '../src/index.js';
import { connectContext } from './helpers.js';

// The TLS certificate rules of classify.ts that classify-tls-real.test.ts does not produce (issue #24's audit), met
// on a real redis-server's TLS port through the driver's own connect: the server presents a chain through an
// intermediate CA, a certificate not valid yet, one with an altered signature or one its CA revoked, and the client
// trusts the test CA (or, for the missing-issuer cases, a CA that is not the chain's root, or its intermediate
// alone). Each refusal is `auth`, not sent, with Node's code. (CERT_UNTRUSTED: see the last test.)

const fast = {
  retry: { attemptTimeout: '2s' },
  reconnect: { connectTimeout: '2s' },
} as const;

describe('TLS chain, validity, signature and revocation refusals from a real redis-server', () => {
  let certificates: TestCertificates;
  let server: RedisServer;
  beforeAll(async () => {
    certificates = makeTestCertificates();
    server = await startRedis({ tls: certificates });
  });
  afterAll(async () => {
    await server?.stop();
    certificates?.remove();
  });

  /** Makes the server present `pair` (CONFIG SET tls-cert-file reloads the files). */
  async function present(pair: CertificatePair): Promise<void> {
    writeFileSync(server.tls!.certFile, pair.cert);
    copyFileSync(pair.keyFile, server.tls!.keyFile);
    const admin = await openRedisAdmin(server.options);
    try {
      await admin.run(['CONFIG', 'SET', 'tls-cert-file', server.tls!.certFile]);
    } finally {
      await admin.close();
    }
  }

  /** The driver connects to the TLS port with `tls`; resolves with its refusal (fails the test if it connects). */
  async function refusal(tls: Record<string, unknown>): Promise<unknown> {
    const options = redisOptionsSchema.parse({ host: '127.0.0.1', port: server.tls!.port, tls });
    return redisDriver.connect(options, connectContext(fast)).then(
      async (client) => {
        await redisDriver.close(client);
        throw new Error('the TLS handshake succeeded');
      },
      (error: unknown) => error,
    );
  }

  const cases: [string, () => CertificatePair, () => Record<string, unknown>, string][] = [
    // The root the chain ends in is not one the client has (its `ca` is another CA).
    [
      'a chain through an intermediate whose root the client lacks',
      () => certificates.chained,
      () => ({ ca: readFileSync(join(certificates.dir, 'other-ca.crt'), 'utf8') }),
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ],
    // The client trusts the intermediate alone: its issuer (the root) cannot be found, and partial chains are off.
    [
      'a client that trusts the intermediate but not its root',
      () => certificates.chained,
      () => ({ ca: certificates.intermediate.cert }),
      'UNABLE_TO_GET_ISSUER_CERT',
    ],
    [
      'a certificate valid from tomorrow',
      () => certificates.notYetValid,
      () => ({ ca: certificates.ca }),
      'CERT_NOT_YET_VALID',
    ],
    [
      'a certificate whose signature was altered',
      () => certificates.badSignature,
      () => ({ ca: certificates.ca }),
      'CERT_SIGNATURE_FAILURE',
    ],
    [
      'a certificate the CA revoked, the client holding its CRL',
      () => certificates.revoked,
      () => ({ ca: certificates.ca, crl: certificates.crl }),
      'CERT_REVOKED',
    ],
    // A certificate made for TLS clients (extendedKeyUsage clientAuth) presented by a server.
    [
      'a certificate for clients only',
      () => certificates.clientOnly,
      () => ({ ca: certificates.ca }),
      'INVALID_PURPOSE',
    ],
    // The client checks revocation with the root's CRL only: the intermediate's issuer list is missing.
    [
      'a chain through an intermediate, the client holding only the root CA’s CRL',
      () => certificates.chained,
      () => ({ ca: certificates.ca, crl: certificates.crl }),
      'UNABLE_TO_GET_CRL',
    ],
  ];

  for (const [what, served, tls, code] of cases)
    it(`${code}: ${what} is auth, not sent, and says why`, async () => {
      await present(served());
      const error = await refusal(tls());
      expect((error as { code?: unknown }).code).toBe(code);
      expect(redisDriver.classify(error)).toEqual({
        kind: 'auth',
        code,
        sent: false,
        message: expect.stringMatching(new RegExp(`^TLS: the server's certificate .*\\(${code}: `)),
      });
    });

  it('the same client options connect when the certificate is sound (the refusals were the certificates)', async () => {
    // The chain through the intermediate, to a client that trusts the root; the good certificate with the CRL.
    for (const [pair, tls] of [
      [certificates.chained, { ca: certificates.ca }],
      [certificates.good, { ca: certificates.ca, crl: certificates.crl }],
    ] as const) {
      await present(pair);
      const options = redisOptionsSchema.parse({ host: '127.0.0.1', port: server.tls!.port, tls });
      const client = await redisDriver.connect(options, connectContext(fast));
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        await redisDriver.close(client);
      }
    }
  });
});
