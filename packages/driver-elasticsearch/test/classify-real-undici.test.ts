import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elasticsearchDriver, elasticsearchOptionsSchema, type ElasticsearchClient } from '../src/index.js';
import { connectContext } from './helpers.js';

// The undici and configuration rules of classify.ts that the other classify-real tests do not produce (issue #24's
// audit), met through the driver's own client on a real loopback socket: a plain HTTP server that answers as
// Elasticsearch (its product header) and then stalls, either before its answer's headers or in the middle of its
// body. Rules about HTTP, not about Elasticsearch's own answers, so no test cluster is needed.

const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected an error'),
    (e: unknown) => e,
  );

/** The error and its causes, outermost first, each as `name` or `name code`. */
function chain(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error as { name?: unknown; code?: unknown; cause?: unknown } | undefined; e;) {
    out.push(typeof e.code === 'string' ? `${String(e.name)} ${e.code}` : String(e.name));
    e = typeof e.cause === 'object' && e.cause !== null ? e.cause : undefined;
  }
  return out;
}

describe('undici time limits, a destroyed pool and configuration errors, through the driver', () => {
  let server: Server;
  let url: string;
  const stalled = new Set<ServerResponse>();
  const received: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      received.push(path);
      // Never answers: undici waits for the headers.
      if (path.startsWith('/stalls-headers')) {
        stalled.add(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      // The headers and the start of a body, then nothing: undici waits for the rest.
      if (path.startsWith('/stalls-body')) {
        res.write('{"took": 1, ');
        stalled.add(res);
        return;
      }
      res.end(
        JSON.stringify({
          name: 'n',
          cluster_name: 'c',
          version: { number: '9.1.2' },
          tagline: 'You Know, for Search',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The driver's client for the server, under a policy with `attemptTimeout`. */
  const connect = (attemptTimeout: string | number) =>
    elasticsearchDriver.connect(
      elasticsearchOptionsSchema.parse({ node: url }),
      connectContext(url, { retry: { attemptTimeout } }),
    );

  /** A raw request through the driver's client: not bound to an attempt, so the policy's limits are undici's. */
  const raw = (client: ElasticsearchClient, path: string) =>
    client.transport.request({ method: 'GET', path }, { maxRetries: 0, meta: false });

  it('UND_ERR_BODY_TIMEOUT: a body that stops coming is a timeout (undici body timeout = attemptTimeout)', async () => {
    const client = await connect('400ms');
    try {
      const t0 = performance.now();
      const error = await fail(raw(client, '/stalls-body'));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(350);
      // The driver's connection keeps undici's failure as the cause of the ConnectionError the transport wraps.
      expect(chain(error)).toEqual([
        'ConnectionError',
        'ConnectionError',
        'BodyTimeoutError UND_ERR_BODY_TIMEOUT',
      ]);
      expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 'REQUEST_TIMEOUT' });
    } finally {
      await elasticsearchDriver.close(client);
    }
  });

  it('UND_ERR_HEADERS_TIMEOUT: headers that never come reach classify as the transport TimeoutError, not as a cause', async () => {
    // elastic-transport's UndiciConnection turns undici's headers timeout into its own TimeoutError and drops the
    // original, so the undici code never reaches the driver: the TimeoutError rule classifies it (same result).
    // classify's UND_ERR_HEADERS_TIMEOUT entry is only met by a connection class that keeps undici's error.
    const client = await connect('400ms');
    try {
      const error = await fail(raw(client, '/stalls-headers'));
      expect(chain(error)).toEqual(['TimeoutError', 'TimeoutError']);
      expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 'REQUEST_TIMEOUT' });
    } finally {
      await elasticsearchDriver.close(client);
    }
  });

  it('UND_ERR_DESTROYED: a request in flight when the driver closes its client, after the close grace, may have run', async () => {
    // No attemptTimeout: undici's own limits are the client's 30 s default, and close() waits 2 s for requests in
    // flight before it destroys the pools (driver.ts close()).
    const client = await connect(0);
    const pending = fail(raw(client, '/stalls-headers'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t0 = performance.now();
    await elasticsearchDriver.close(client);
    const error = await pending;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(chain(error)).toEqual([
      'ConnectionError',
      'ConnectionError',
      'ClientDestroyedError UND_ERR_DESTROYED',
    ]);
    expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'connection', code: 'CLIENT_DESTROYED' });
  });

  it('ConfigurationError: a request path longer than the caller allowed (maxPathLength), refused before sending', async () => {
    const client = await connect('2s');
    try {
      const error = (await fail(
        client.get({ index: 'docs', id: 'x'.repeat(200) }, { maxPathLength: 100 }),
      )) as Error;
      expect(error.name).toBe('ConfigurationError');
      expect(error.message).toMatch(/exceeds maxPathLength \(100\)/);
      // Nothing reached the server.
      expect(received.filter((p) => p.startsWith('/docs'))).toEqual([]);
      expect(elasticsearchDriver.classify(error)).toEqual({
        kind: 'fatal',
        code: 'CONFIGURATION',
        sent: false,
      });
    } finally {
      await elasticsearchDriver.close(client);
    }
  });

  it('ConfigurationError: options the client itself refuses (caFingerprint on an http:// node) fail the connect', async () => {
    const error = (await fail(
      elasticsearchDriver.connect(
        elasticsearchOptionsSchema.parse({ node: url, caFingerprint: 'AA:BB' }),
        connectContext(url, { retry: { attemptTimeout: '2s' } }),
      ),
    )) as Error;
    expect(error.name).toBe('ConfigurationError');
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'fatal',
      code: 'CONFIGURATION',
      sent: false,
    });
  });
});
