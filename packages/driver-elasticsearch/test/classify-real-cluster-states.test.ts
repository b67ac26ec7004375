import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startElasticsearchCluster, type ElasticsearchCluster } from '@reconnect/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { elasticsearchDriver, elasticsearchOptionsSchema, type ElasticsearchClient } from '../src/index.js';
import { connectContext } from './helpers.js';

// Rows of the classification table that classify-real.test.ts does not produce (issue #24's audit: every rule
// exercised by a real server): Elasticsearch's own 503s of a cluster without a master or without a data node, the
// 408 of a health wait that timed out, the client's request timeout on a slow node, and a 2xx from a server that is
// not Elasticsearch. Real node processes of the test cluster (and a plain HTTP server), the driver's own client.

const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected an error'),
    (e: unknown) => e,
  );

describe('cluster states and slow or foreign servers, classified', () => {
  // node-1 the only master (no data), node-2 and node-3 data nodes (not master-eligible).
  let cluster: ElasticsearchCluster;
  const clients: ElasticsearchClient[] = [];
  beforeAll(async () => {
    cluster = await startElasticsearchCluster({
      nodes: [{ roles: ['master'] }, { roles: ['data'] }, { roles: ['data'] }],
    });
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => elasticsearchDriver.close(c)));
    await cluster.heal();
  });
  afterAll(() => cluster.stop());

  async function connect(url: string, extra: Record<string, unknown> = {}): Promise<ElasticsearchClient> {
    const client = await elasticsearchDriver.connect(
      elasticsearchOptionsSchema.parse({ node: url, ...extra }),
      connectContext(url, { retry: { attemptTimeout: '2s' } }),
    );
    clients.push(client);
    return client;
  }

  it('503 master_not_discovered_exception (the only master gone): transient, not sent', async () => {
    const client = await connect(cluster.nodes[1]!.url);
    await cluster.nodes[0]!.kill();
    const error = await fail(client.cluster.health({ master_timeout: '200ms' }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'master_not_discovered_exception',
      statusCode: 503,
      sent: false,
    });
  });

  it('503 no_shard_available_action_exception (every data node gone): transient, not sent', async () => {
    const client = await connect(cluster.nodes[0]!.url);
    await client.index({ index: 'states', id: '1', document: { a: 1 }, refresh: true });
    await cluster.nodes[1]!.kill();
    await cluster.nodes[2]!.kill();
    const error = await fail(client.get({ index: 'states', id: '1' }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'no_shard_available_action_exception',
      statusCode: 503,
      sent: false,
    });
  });

  it('408 (a health wait for a status not reached in time): timeout', async () => {
    const client = await connect(cluster.nodes[0]!.url);
    // Two replicas on two data nodes cannot all be assigned: the index stays yellow.
    await client.indices.create({ index: 'yellow', settings: { number_of_replicas: 2 } });
    const error = await fail(
      client.cluster.health({ index: 'yellow', wait_for_status: 'green', timeout: '200ms' }),
    );
    expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 408, statusCode: 408 });
  });

  it("the client's request timeout on a node that answers too late: timeout REQUEST_TIMEOUT", async () => {
    const client = await connect(cluster.nodes[1]!.url);
    cluster.nodes[1]!.faults.latency(1500, { match: { path: '/slow' } });
    // The transport's own per-request timeout (a caller's `requestTimeout`), not the policy's abort signal.
    const error = await fail(client.search({ index: 'slow' }, { requestTimeout: 200 }));
    expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 'REQUEST_TIMEOUT' });
  });

  it("503 node_not_connected_exception (the coordinating node lost its link to the shard's node): transient, not sent", async () => {
    const client = await connect(cluster.nodes[1]!.url);
    cluster.nodes[1]!.faults.respond(
      {
        status: 503,
        type: 'node_not_connected_exception',
        reason: '[node-3][127.0.0.1:9300] Node not connected',
      },
      { requests: 1, match: { method: 'POST' } },
    );
    const error = await fail(client.index({ index: 'nnc', document: { a: 1 } }));
    expect(cluster.writeLog().filter((e) => e.index === 'nnc')).toHaveLength(0);
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'node_not_connected_exception',
      statusCode: 503,
      sent: false,
    });
  });
});

describe('a server that is not Elasticsearch, or answers what cannot be read', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      // Under /es: Elasticsearch's product header, so the client's product check passes…
      if (url.startsWith('/es')) {
        // …then a connection closed on the request, answering nothing: undici's "other side closed";
        if (url.startsWith('/es/closes')) {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        // …or a body that is not JSON: the answer cannot be read.
        if (url.startsWith('/es/garbled')) res.end('{"took": 1, "hits":');
        else
          res.end(
            JSON.stringify({
              name: 'n',
              cluster_name: 'c',
              version: { number: '9.1.2' },
              tagline: 'You Know, for Search',
            }),
          );
        return;
      }
      // Answers 200 with a JSON body, without x-elastic-product: a proxy's status page, another product.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 2xx without x-elastic-product: ProductNotSupportedError, fatal, saying why', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = await elasticsearchDriver
      .connect(
        elasticsearchOptionsSchema.parse({ node: url }),
        connectContext(url, { retry: { attemptTimeout: '2s' } }),
      )
      .catch((e: unknown) => e);
    const error = client instanceof Error ? client : await fail((client as ElasticsearchClient).info());
    if (!(client instanceof Error)) await elasticsearchDriver.close(client as ElasticsearchClient);
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'fatal',
      code: 'PRODUCT_NOT_SUPPORTED',
      message: 'The server did not identify itself as Elasticsearch (no x-elastic-product header)',
    });
  });

  /** A raw request through the driver's client (its own connection class keeps undici's error as the cause). */
  async function rawRequest(path: string): Promise<unknown> {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/es`;
    const client = await elasticsearchDriver.connect(
      elasticsearchOptionsSchema.parse({ node: url }),
      connectContext(url, { retry: { attemptTimeout: '2s' } }),
    );
    try {
      return await fail(client.transport.request({ method: 'GET', path }, { maxRetries: 0, meta: false }));
    } finally {
      await elasticsearchDriver.close(client);
    }
  }

  it('a connection closed with the request in flight: UND_ERR_SOCKET, connection, may have been sent', async () => {
    expect(elasticsearchDriver.classify(await rawRequest('/closes'))).toEqual({
      kind: 'connection',
      code: 'SOCKET_CLOSED',
    });
  });

  it('a body that is not JSON: DeserializationError, fatal, the request ran', async () => {
    expect(elasticsearchDriver.classify(await rawRequest('/garbled/_search'))).toEqual({
      kind: 'fatal',
      code: 'DESERIALIZATION',
    });
  });
});
