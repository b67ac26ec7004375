import { Client } from '@elastic/elasticsearch';
import { spawn } from 'node:child_process';
import { connect as connectSocket, type Socket } from 'node:net';
import { freePort, startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchDriver, elasticsearchOptionsSchema, type ElasticsearchClient } from '../src/index.js';
import { connectContext, until } from './helpers.js';

// Each "not sent" row of the classification table (README, Error classification), produced by the real client against
// the test cluster (real node processes on loopback, their fault rules) or real sockets (a refused port, a stopped
// listener's full accept queue) — and, for writes, the
// claim checked: nothing reached the write log. Rows produced elsewhere with real sockets: ECONNREFUSED at connect
// (driver.test.ts), ERR_ATTEMPT_ENDED (attempt-limits.test.ts), CLUSTER_RED (options.test.ts), 401 with a wrong
// password (conformance.test.ts's auth scenario).
describe('classification of real errors from the test cluster', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 1 }), { heal: false });
  const clients: ElasticsearchClient[] = [];
  afterEach(async () => {
    cluster().nodes[0]!.faults.clear();
    await Promise.allSettled(clients.splice(0).map((c) => elasticsearchDriver.close(c)));
  });

  /** The driver's client for the node (its own connection class, which keeps undici's error as the cause). */
  async function connect(
    url = cluster().url,
    extra: Record<string, unknown> = {},
  ): Promise<ElasticsearchClient> {
    const client = await elasticsearchDriver.connect(
      elasticsearchOptionsSchema.parse({ node: url, ...extra }),
      connectContext(url, { retry: { attemptTimeout: '2s' } }),
    );
    clients.push(client);
    return client;
  }
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable('expected an error'),
      (e: unknown) => e,
    );
  const written = (index: string) =>
    cluster()
      .writeLog()
      .filter((e) => e.index === index).length;
  /** A POST _doc (a write the driver never replays unless not sent) answered by the fault rule in force. */
  const post = async (index: string) => {
    const client = await connect();
    const error = await fail(client.index({ index, document: { at: Date.now() } }));
    expect(written(index)).toBe(0);
    return elasticsearchDriver.classify(error);
  };
  const faults = () => cluster().nodes[0]!.faults;
  /** The fault rules answer the writes only (not the connect's GET /). */
  const writes = { method: 'POST' };

  it('429 es_rejected_execution_exception: throttled, not sent, Retry-After read', async () => {
    faults().tooManyRequests({ requests: 1, match: writes, retryAfterSeconds: 2 });
    expect(await post('real-429')).toEqual({
      kind: 'throttled',
      code: 'es_rejected_execution_exception',
      statusCode: 429,
      sent: false,
      retryAfterMs: 2000,
    });
  });

  it('429 circuit_breaking_exception: TRANSIENT throttled, PERMANENT fatal; both not sent', async () => {
    faults().circuitBreaking({ requests: 1, match: writes });
    expect(await post('real-breaker-transient')).toEqual({
      kind: 'throttled',
      code: 'circuit_breaking_exception',
      statusCode: 429,
      sent: false,
    });
    faults().circuitBreaking({ requests: 1, match: writes, durability: 'PERMANENT' });
    expect(await post('real-breaker-permanent')).toEqual({
      kind: 'fatal',
      code: 'circuit_breaking_exception',
      statusCode: 429,
      sent: false,
      message:
        'Elasticsearch refused the request with a PERMANENT circuit_breaking_exception: the request alone exceeds a memory limit, so it is not retried',
    });
  });

  it("503 unavailable_shards_exception and a 500 node_closed_exception: Elasticsearch's own refusals, not sent", async () => {
    faults().unavailable({ requests: 1, match: writes });
    expect(await post('real-503')).toEqual({
      kind: 'transient',
      code: 'unavailable_shards_exception',
      statusCode: 503,
      sent: false,
    });
    faults().respond(
      { status: 500, type: 'node_closed_exception', reason: 'node closed' },
      { requests: 1, match: writes },
    );
    expect(await post('real-500')).toEqual({
      kind: 'transient',
      code: 'node_closed_exception',
      statusCode: 500,
      sent: false,
    });
  });

  it('403: security_exception is auth, cluster_block_exception transient; both not sent', async () => {
    faults().respond(
      { status: 403, type: 'security_exception', reason: 'unauthorized' },
      { requests: 1, match: writes },
    );
    expect(await post('real-403')).toEqual({
      kind: 'auth',
      code: 'security_exception',
      statusCode: 403,
      sent: false,
    });
    faults().respond(
      {
        status: 403,
        type: 'cluster_block_exception',
        reason: 'index [x] blocked by: [FORBIDDEN/8/index write (api)];',
      },
      { requests: 1, match: writes },
    );
    expect(await post('real-block')).toEqual({
      kind: 'transient',
      code: 'cluster_block_exception',
      statusCode: 403,
      sent: false,
    });
  });

  it('a proxy in front of the node (no Elasticsearch body or header): 502 and 504 may have been sent', async () => {
    // The opposite claim, produced for real too: a proxy's answer never says "not sent" — here the 504's upstream
    // ran the write, so a "not sent" would have replayed it.
    faults().proxyError({ requests: 1, match: writes, status: 504, apply: true });
    const client = await connect();
    const late = await fail(client.index({ index: 'real-proxy-504', document: { n: 1 } }));
    expect(elasticsearchDriver.classify(late)).toEqual({
      kind: 'timeout',
      code: 504,
      statusCode: 504,
      message:
        'A proxy in front of the node answered 504 (its Elasticsearch did not answer in time); the request may have run',
    });
    expect(written('real-proxy-504')).toBe(1);
    faults().proxyError({ requests: 1, match: writes, status: 502 });
    const gone = await fail(client.index({ index: 'real-proxy-502', document: { n: 1 } }));
    expect(elasticsearchDriver.classify(gone)).toEqual({
      kind: 'connection',
      code: 502,
      statusCode: 502,
      message:
        'A proxy in front of the node answered 502 (it could not reach its Elasticsearch); the request may have reached it',
    });
  });

  it('a node whose accept queue is full (a stopped process): UND_ERR_CONNECT_TIMEOUT, not sent', async () => {
    // A listener with a backlog of 1 in a process of its own, stopped (SIGSTOP, as a hung node): two connections
    // fill its accept queue, and the kernel then drops every SYN — the TCP connection is never made.
    const child = spawn(
      process.execPath,
      [
        '-e',
        "const s = require('net').createServer().listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => console.log(s.address().port))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
        child.once('error', reject);
      });
      child.kill('SIGSTOP');
      for (let i = 0; i < 2; i++) {
        const socket = connectSocket(port, '127.0.0.1');
        fillers.push(socket.on('error', () => undefined));
        await new Promise((resolve) => socket.once('connect', resolve));
      }
      // undici's connect timeout, shortened through the client's agent options (its default is 10 s).
      const error = await fail(connect(`http://127.0.0.1:${port}`, { agent: { connectTimeout: 200 } }));
      expect(elasticsearchDriver.classify(error)).toEqual({
        kind: 'connection',
        code: 'CONNECT_TIMEOUT',
        sent: false,
      });
    } finally {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    }
  });

  it('a refused port: ConnectionError caused by ECONNREFUSED, not sent', async () => {
    const port = await freePort();
    const error = await fail(connect(`http://127.0.0.1:${port}`));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
  });

  it('a request on a node client whose undici pool is closing: UND_ERR_CLOSED, not sent', async () => {
    const client = await connect();
    // A search held 300 ms keeps the pool's close() waiting: a request dispatched meanwhile is refused unsent.
    faults().latency(300, { requests: 1, match: { path: '/real-closing/_search' } });
    const held = client.search({ index: 'real-closing' }).catch(() => undefined);
    await until(
      () =>
        cluster()
          .requests()
          .some((r) => r.url.startsWith('/real-closing/_search')),
      2000,
    );
    const connection = client.connectionPool.connections[0] as unknown as {
      pool: { close(): Promise<void> };
    };
    const closing = connection.pool.close();
    const before = cluster().requests().length;
    const error = await fail(client.index({ index: 'real-closed', document: { n: 1 } }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'connection',
      code: 'CLIENT_CLOSED',
      sent: false,
    });
    await Promise.all([held, closing]);
    expect(cluster().requests().length).toBe(before);
    expect(written('real-closed')).toBe(0);
  });

  it('a client the driver did not make: its ConnectionError carries no code, so it is not claimed unsent', async () => {
    // The client's own connection class rewraps undici's error without it: the refused port cannot be read.
    const port = await freePort();
    const raw = new Client({ node: `http://127.0.0.1:${port}`, maxRetries: 0 });
    try {
      const error = await fail(raw.index({ index: 'real-raw', document: { n: 1 } }));
      expect((error as Error).name).toBe('ConnectionError');
      expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_ERROR' });
    } finally {
      await raw.close();
    }
  });

  it('a client whose pool has no living connection: NoLivingConnectionsError, not sent', async () => {
    const client = new Client({ node: cluster().url });
    try {
      await client.connectionPool.empty();
      const before = cluster().requests().length;
      const error = await fail(client.index({ index: 'real-no-living', document: { n: 1 } }));
      expect(elasticsearchDriver.classify(error)).toEqual({
        kind: 'connection',
        code: 'NO_LIVING_CONNECTIONS',
        sent: false,
      });
      expect(cluster().requests().length).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('a document that cannot be serialized: SerializationError, not sent', async () => {
    const client = await connect();
    const document: Record<string, unknown> = {};
    document.self = document;
    const before = cluster().requests().length;
    const error = await fail(client.index({ index: 'real-serialize', document }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'fatal',
      code: 'SERIALIZATION',
      sent: false,
    });
    expect(cluster().requests().length).toBe(before);
  });

  it('a 9.x client on an 8.x server without compatibility: 400 media_type_header_exception, not sent', async () => {
    const old = await startElasticsearchCluster({ nodes: 1, version: '8.17.0' });
    try {
      const client = new Client({ node: old.url });
      try {
        const error = await fail(client.index({ index: 'real-media', document: { n: 1 } }));
        expect(elasticsearchDriver.classify(error)).toEqual({
          kind: 'fatal',
          code: 'media_type_header_exception',
          statusCode: 400,
          sent: false,
          message:
            'The server refused the compatible-with header: it is an older major version; set the option compatibility: 8',
        });
        expect(old.writeLog()).toEqual([]);
      } finally {
        await client.close();
      }
    } finally {
      await old.stop();
    }
  });
});
